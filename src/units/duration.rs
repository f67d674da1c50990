//! Durations in Prometheus syntax, exact to the millisecond.

use std::fmt::{self, Write as _};
use std::str::FromStr;

use super::*;

pub(super) const MS_PER_SEC: u64 = 1_000;
pub(super) const MS_PER_MIN: u64 = 60 * MS_PER_SEC;
pub(super) const MS_PER_HOUR: u64 = 60 * MS_PER_MIN;
pub(super) const MS_PER_DAY: u64 = 24 * MS_PER_HOUR;

/// Prometheus duration units, largest first. Parsing requires units to appear
/// in this order (strictly decreasing, each at most once).
const DURATION_UNITS: [(&str, u64); 7] = [
    ("y", 365 * MS_PER_DAY),
    ("w", 7 * MS_PER_DAY),
    ("d", MS_PER_DAY),
    ("h", MS_PER_HOUR),
    ("m", MS_PER_MIN),
    ("s", MS_PER_SEC),
    ("ms", 1),
];

/// A Prometheus-style duration with millisecond resolution.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Duration {
    millis: u64,
}

impl Duration {
    pub const ZERO: Duration = Duration { millis: 0 };

    /// Parses Prometheus syntax such as `30s`, `1h30m`, `500ms` or `30d`.
    /// `0s` is accepted; a bare `0` is not.
    pub fn parse(s: &str) -> Result<Duration, UnitError> {
        if s.is_empty() {
            return Err(UnitError::Duration);
        }
        let mut rest = s;
        let mut total: u64 = 0;
        // Index into DURATION_UNITS of the previous unit; each new unit must
        // have a strictly greater index (i.e. be strictly smaller).
        let mut prev: Option<usize> = None;
        while !rest.is_empty() {
            let (number, tail) = split_while(rest, |c| c.is_ascii_digit());
            let (unit, tail) = split_while(tail, |c| c.is_ascii_alphabetic());
            let (index, factor) = DURATION_UNITS
                .iter()
                .enumerate()
                .find_map(|(i, &(name, factor))| (name == unit).then_some((i, factor)))
                .ok_or(UnitError::Duration)?;
            if prev.is_some_and(|p| index <= p) {
                return Err(UnitError::Duration);
            }
            let n = match parse_digits(number) {
                Ok(n) => u64::try_from(n).map_err(|_| UnitError::DurationTooLarge)?,
                Err(DigitsError::Invalid) => return Err(UnitError::Duration),
                Err(DigitsError::Overflow) => return Err(UnitError::DurationTooLarge),
            };
            total = n
                .checked_mul(factor)
                .and_then(|ms| total.checked_add(ms))
                .ok_or(UnitError::DurationTooLarge)?;
            prev = Some(index);
            rest = tail;
        }
        Ok(Duration { millis: total })
    }

    pub const fn from_millis(millis: u64) -> Duration {
        Duration { millis }
    }

    /// `None` if the result does not fit in u64 milliseconds.
    /// Whole seconds from a small count, which cannot overflow.
    pub const fn secs(secs: u32) -> Duration {
        Duration {
            millis: secs as u64 * 1000,
        }
    }

    pub const fn from_secs(secs: u64) -> Option<Duration> {
        match secs.checked_mul(MS_PER_SEC) {
            Some(millis) => Some(Duration { millis }),
            None => None,
        }
    }

    pub const fn as_millis(self) -> u64 {
        self.millis
    }

    /// Whole seconds, truncating any milliseconds.
    pub const fn as_secs(self) -> u64 {
        self.millis / MS_PER_SEC
    }

    /// Seconds, or `None` if the duration is not a whole number of seconds.
    pub const fn whole_secs(self) -> Option<u64> {
        if self.millis.is_multiple_of(MS_PER_SEC) {
            Some(self.millis / MS_PER_SEC)
        } else {
            None
        }
    }

    pub const fn is_zero(self) -> bool {
        self.millis == 0
    }

    pub fn checked_add(self, other: Duration) -> Option<Duration> {
        self.millis
            .checked_add(other.millis)
            .map(Duration::from_millis)
    }

    pub fn checked_sub(self, other: Duration) -> Option<Duration> {
        self.millis
            .checked_sub(other.millis)
            .map(Duration::from_millis)
    }

    pub fn checked_mul(self, factor: u64) -> Option<Duration> {
        self.millis.checked_mul(factor).map(Duration::from_millis)
    }

    /// Integer division of the millisecond count (the remainder is dropped).
    /// `None` only when dividing by zero.
    pub fn checked_div(self, divisor: u64) -> Option<Duration> {
        self.millis.checked_div(divisor).map(Duration::from_millis)
    }

    /// Exact ratio `self / other`, e.g. `720h / 1h = 720`. `None` if `other`
    /// is zero or the ratio is not a terminating decimal (see
    /// [`Decimal::checked_div_exact`]).
    pub fn ratio(self, other: Duration) -> Option<Decimal> {
        Decimal::from_int(self.millis).checked_div_exact(Decimal::from_int(other.millis))
    }

    /// Go's `time.Duration.String()` format (h/m/s with fractional seconds,
    /// or ms below one second), as accepted by k6: `720h0m0s`, `1m30s`,
    /// `1.5s`, `500ms`, `0s`.
    pub fn go_string(self) -> String {
        let ms = self.millis;
        if ms == 0 {
            return "0s".to_owned();
        }
        if ms < MS_PER_SEC {
            return format!("{ms}ms");
        }
        let hours = ms / MS_PER_HOUR;
        let mins = ms % MS_PER_HOUR / MS_PER_MIN;
        let secs = ms % MS_PER_MIN / MS_PER_SEC;
        let frac = ms % MS_PER_SEC;
        let mut out = String::new();
        // Go prints every larger unit once one is present: 1h -> "1h0m0s".
        if hours > 0 {
            let _ = write!(out, "{hours}h");
        }
        if ms >= MS_PER_MIN {
            let _ = write!(out, "{mins}m");
        }
        let _ = write!(out, "{secs}");
        if frac > 0 {
            let digits = format!("{frac:03}");
            let _ = write!(out, ".{}", digits.trim_end_matches('0'));
        }
        out.push('s');
        out
    }
}

/// Canonical Prometheus form using the largest units up to days (never `w`
/// or `y`, which are not fixed-length in everyday reading): `1h30m`,
/// `1s500ms`, `30d`, `0s`.
impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.millis == 0 {
            return f.write_str("0s");
        }
        let mut rest = self.millis;
        // Skip y and w: start at d.
        for &(name, factor) in DURATION_UNITS.iter().skip(2) {
            let n = rest / factor;
            rest %= factor;
            if n > 0 {
                write!(f, "{n}{name}")?;
            }
        }
        Ok(())
    }
}

impl FromStr for Duration {
    type Err = UnitError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Duration::parse(s)
    }
}
