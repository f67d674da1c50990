//! Numbers and durations as the rule files and their tests print them,
//! matching Prometheus's own template functions.

use super::STEP_SECS;
use crate::units::{Decimal, Duration};

/// A duration in test steps, rounded up.
pub(super) fn steps_of(d: Duration) -> u64 {
    d.as_millis().div_ceil(STEP_SECS * 1000)
}

pub(super) fn minutes(steps: u64) -> String {
    Duration::from_millis(steps * STEP_SECS * 1000).to_string()
}

/// `fraction × total`, rounded down: how many of `total` requests make that ratio.
pub(super) fn per(fraction: Decimal, total: u128) -> u128 {
    let scale = 10u128.pow(fraction.scale());
    fraction.digits() * total / scale
}

/// Prometheus's `humanizePercentage`: `%.4g%%` of the value × 100.
pub(super) fn humanize_percentage(v: Decimal) -> String {
    format!(
        "{}%",
        go_g4(v.checked_mul(Decimal::HUNDRED).unwrap_or(Decimal::ZERO))
    )
}

/// Prometheus's `humanize`: `%.4g` with an SI prefix (k, M, … or m, u, …).
pub(super) fn humanize(v: Decimal) -> String {
    let thousand = Decimal::from_int(1000);
    let mut v = v;
    let mut prefix = "";
    if v.is_zero() {
        return "0".to_string();
    }
    if v >= Decimal::ONE {
        for p in ["k", "M", "G", "T", "P", "E"] {
            if v < thousand {
                break;
            }
            match v.checked_div_exact(thousand) {
                Some(d) => v = d,
                None => break,
            }
            prefix = p;
        }
    } else {
        for p in ["m", "u", "n", "p", "f", "a"] {
            if v >= Decimal::ONE {
                break;
            }
            match v.checked_mul(thousand) {
                Some(d) => v = d,
                None => break,
            }
            prefix = p;
        }
    }
    format!("{}{prefix}", go_g4(v))
}

/// Go's `%.4g` of an exact decimal: four significant digits, trailing
/// zeros dropped, an exponent below 1e-4 or from 1e4. Rounds half up; Go
/// rounds the float it is given, so an exact tie could differ: the test
/// values are chosen so the digit after the fourth is never a lone 5.
pub(super) fn go_g4(v: Decimal) -> String {
    if v.is_zero() {
        return "0".to_string();
    }
    let digits = v.digits().to_string();
    // v = 0.d1d2d3… × 10^exp10
    let exp10 = digits.len() as i64 - i64::from(v.scale());
    let mut sig: Vec<u8> = digits.bytes().map(|b| b - b'0').collect();
    let mut exp = exp10 - 1; // exponent of the first significant digit
    if sig.len() > 4 {
        let round_up = sig[4] >= 5;
        sig.truncate(4);
        if round_up {
            let mut i = 3;
            loop {
                if sig[i] == 9 {
                    sig[i] = 0;
                    if i == 0 {
                        sig.insert(0, 1);
                        sig.truncate(4);
                        exp += 1;
                        break;
                    }
                    i -= 1;
                } else {
                    sig[i] += 1;
                    break;
                }
            }
        }
    }
    while sig.len() > 1 && sig.last() == Some(&0) {
        sig.pop();
    }
    let text: String = sig.iter().map(|d| char::from(b'0' + d)).collect();
    if !(-4..4).contains(&exp) {
        let (first, rest) = text.split_at(1);
        let mantissa = if rest.is_empty() {
            first.to_string()
        } else {
            format!("{first}.{rest}")
        };
        let sign = if exp < 0 { '-' } else { '+' };
        return format!("{mantissa}e{sign}{:02}", exp.abs());
    }
    if exp < 0 {
        format!("0.{}{text}", "0".repeat((-exp - 1) as usize))
    } else {
        let int_len = (exp + 1) as usize;
        if text.len() <= int_len {
            format!("{text}{}", "0".repeat(int_len - text.len()))
        } else {
            format!("{}.{}", &text[..int_len], &text[int_len..])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        Decimal::parse(s).expect("decimal")
    }

    #[test]
    fn go_percent_g_formatting() {
        assert_eq!(go_g4(d("1.441")), "1.441");
        assert_eq!(go_g4(d("0.093331")), "0.09333");
        assert_eq!(go_g4(d("81")), "81");
        assert_eq!(go_g4(d("2.9999")), "3");
        assert_eq!(go_g4(d("12346")), "1.235e+04");
        assert_eq!(go_g4(d("0.00001")), "1e-05");
        assert_eq!(humanize_percentage(d("0.01441")), "1.441%");
        assert_eq!(humanize(d("0.975")), "975m");
        assert_eq!(humanize(d("2.985")), "2.985");
        assert_eq!(humanize(d("20")), "20");
        assert_eq!(humanize(d("1500")), "1.5k");
    }
}
