//! Exact unit types used by the `hardening.toml` spec: durations, decimals,
//! percentages and Kubernetes resource quantities.
//!
//! Everything here is integer arithmetic: no floats, no panics. Every
//! operation that could overflow is checked and reports an error (parsing) or
//! `None` (arithmetic).

use std::fmt;

mod decimal;
mod duration;
mod percent;
mod quantity;

pub use decimal::*;
pub use duration::*;
pub use percent::*;
pub use quantity::*;

#[cfg(test)]
mod tests;

/// Why a value could not be parsed. The messages are short because they are
/// shown under a TOML key in a diagnostic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UnitError {
    Duration,
    DurationTooLarge,
    Decimal,
    DecimalPrecision,
    DecimalTooLarge,
    Percent,
    PercentRange,
    PercentPrecision,
    Cpu,
    CpuPrecision,
    Memory,
    QuantityZero,
    QuantityTooLarge,
}

impl fmt::Display for UnitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Duration => "expected a duration such as 30s, 5m, 1h30m or 30d",
            Self::DurationTooLarge => "duration is too large",
            Self::Decimal => "expected a non-negative number such as 14.4 or 0.5",
            Self::DecimalPrecision => "at most 18 decimal places are supported",
            Self::DecimalTooLarge => "number is too large",
            Self::Percent => "expected a percentage such as 99.9%",
            Self::PercentRange => "percentage must be between 0% and 100%",
            Self::PercentPrecision => "percentage may have at most 16 decimal places",
            Self::Cpu => "expected a CPU quantity such as 500m or 2",
            Self::CpuPrecision => "CPU quantity must be a whole number of millicores (m)",
            Self::Memory => "expected a memory quantity such as 512Mi or 1Gi",
            Self::QuantityZero => "quantity must be greater than zero",
            Self::QuantityTooLarge => "quantity is too large",
        })
    }
}

impl std::error::Error for UnitError {}

/// Failure of [`parse_digits`].
enum DigitsError {
    Invalid,
    Overflow,
}

/// Parses a non-empty run of ASCII digits (no sign, no spaces). Unlike
/// `str::parse` this rejects a leading `+`.
fn parse_digits(s: &str) -> Result<u128, DigitsError> {
    if s.is_empty() {
        return Err(DigitsError::Invalid);
    }
    s.bytes().try_fold(0u128, |acc, b| {
        if !b.is_ascii_digit() {
            return Err(DigitsError::Invalid);
        }
        acc.checked_mul(10)
            .and_then(|acc| acc.checked_add(u128::from(b - b'0')))
            .ok_or(DigitsError::Overflow)
    })
}

/// Splits `s` before the first char that does not satisfy `pred`.
fn split_while(s: &str, pred: impl Fn(char) -> bool) -> (&str, &str) {
    let end = s.find(|c: char| !pred(c)).unwrap_or(s.len());
    // `find` returns a char boundary, so this never fails.
    s.split_at_checked(end).unwrap_or((s, ""))
}
