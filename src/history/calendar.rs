//! UTC calendar arithmetic for reports: timestamps as text, calendar
//! months as ranges (Howard Hinnant's civil-date algorithms, exact).

use super::api::Millis;

const DAY: i64 = 86_400_000;

/// Days since 1970-01-01 of a civil date.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date of a day since 1970-01-01.
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (
        if m <= 2 {
            yoe + era * 400 + 1
        } else {
            yoe + era * 400
        },
        m,
        d,
    )
}

/// `2026-11-28 14:05` (UTC), seconds shown when not zero.
pub fn format(t: Millis) -> String {
    let (days, ms) = (t.div_euclid(DAY), t.rem_euclid(DAY));
    let (y, m, d) = civil_from_days(days);
    let secs = ms / 1000;
    let (h, min, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    if s == 0 {
        format!("{y:04}-{m:02}-{d:02} {h:02}:{min:02}")
    } else {
        format!("{y:04}-{m:02}-{d:02} {h:02}:{min:02}:{s:02}")
    }
}

/// `Nov 28`: a day, for chart axes.
pub fn short_day(t: Millis) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let (_, m, d) = civil_from_days(t.div_euclid(DAY));
    format!("{} {d}", MONTHS[(m - 1) as usize])
}

/// The start of the UTC day of `t`.
pub fn day_start(t: Millis) -> Millis {
    t.div_euclid(DAY) * DAY
}

pub const ONE_DAY: Millis = DAY;

/// A calendar month: `YYYY-MM`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Month {
    pub year: i64,
    pub month: i64,
}

impl Month {
    /// Parses `2026-11`; the error says what is expected.
    pub fn parse(s: &str) -> Result<Month, String> {
        let bad = || format!("--month {s}: expected a month as YYYY-MM, such as 2026-11");
        let (y, m) = s.split_once('-').ok_or_else(bad)?;
        if y.len() != 4 || m.len() != 2 {
            return Err(bad());
        }
        let year: i64 = y.parse().map_err(|_| bad())?;
        let month: i64 = m.parse().map_err(|_| bad())?;
        if !(1..=12).contains(&month) || year < 1970 {
            return Err(bad());
        }
        Ok(Month { year, month })
    }

    /// Its first instant.
    pub fn start(self) -> Millis {
        days_from_civil(self.year, self.month, 1) * DAY
    }

    /// The first instant of the next month.
    pub fn end(self) -> Millis {
        let (y, m) = if self.month == 12 {
            (self.year + 1, 1)
        } else {
            (self.year, self.month + 1)
        };
        days_from_civil(y, m, 1) * DAY
    }

    /// `November 2026`.
    pub fn name(self) -> String {
        const NAMES: [&str; 12] = [
            "January",
            "February",
            "March",
            "April",
            "May",
            "June",
            "July",
            "August",
            "September",
            "October",
            "November",
            "December",
        ];
        format!("{} {}", NAMES[(self.month - 1) as usize], self.year)
    }
}

/// A span of time in words: `1h10m`, `45s`, `2d3h`.
pub fn span(ms: Millis) -> String {
    crate::units::Duration::from_millis(u64::try_from(ms.max(0)).unwrap_or(0)).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip_and_months_have_their_lengths() {
        assert_eq!(format(0), "1970-01-01 00:00");
        assert_eq!(format(1_764_547_200_000), "2025-12-01 00:00");
        assert_eq!(format(1_764_547_215_000), "2025-12-01 00:00:15");
        let feb = Month::parse("2024-02").unwrap();
        assert_eq!((feb.end() - feb.start()) / DAY, 29);
        let dec = Month::parse("2026-12").unwrap();
        assert_eq!(format(dec.end()), "2027-01-01 00:00");
        assert_eq!((dec.end() - dec.start()) / DAY, 31);
        assert_eq!(dec.name(), "December 2026");
        for bad in ["2026-13", "2026-1", "26-11", "2026/11", "x"] {
            assert!(Month::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(short_day(1_764_547_200_000), "Dec 1");
    }
}
