//! Percentages, written with their `%`.

use std::fmt;
use std::str::FromStr;

use super::*;

/// A percentage in `0%..=100%`, written with a mandatory `%` (`99.9%`).
///
/// At most 16 fractional digits are allowed so that [`Percent::fraction`]
/// (two more digits) is always exact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Percent(Decimal);

impl Percent {
    const MAX_SCALE: u32 = MAX_SCALE - 2;
    pub const ZERO: Percent = Percent(Decimal::ZERO);

    pub fn parse(s: &str) -> Result<Percent, UnitError> {
        let body = s.strip_suffix('%').ok_or(UnitError::Percent)?;
        if let Some(negated) = body.strip_prefix('-') {
            // A well-formed negative number gets the more helpful range error.
            return Err(match Decimal::parse(negated) {
                Ok(_) => UnitError::PercentRange,
                Err(_) => UnitError::Percent,
            });
        }
        let value = Decimal::parse(body).map_err(|e| match e {
            UnitError::DecimalTooLarge => UnitError::PercentRange,
            UnitError::DecimalPrecision => UnitError::PercentPrecision,
            _ => UnitError::Percent,
        })?;
        if value > Decimal::HUNDRED {
            return Err(UnitError::PercentRange);
        }
        if value.scale() > Percent::MAX_SCALE {
            return Err(UnitError::PercentPrecision);
        }
        Ok(Percent(value))
    }

    /// The percentage number, e.g. `99.9` for `99.9%`.
    pub const fn value(self) -> Decimal {
        self.0
    }

    /// The value as a fraction of one, e.g. `0.999` for `99.9%`.
    pub fn fraction(self) -> Decimal {
        // Dividing by 100 only adds two to the scale, which the parse-time
        // precision limit keeps within MAX_SCALE.
        self.0
            .scale()
            .checked_add(2)
            .and_then(|scale| Decimal::from_parts(self.0.digits(), scale))
            .unwrap_or(Decimal::ZERO)
    }
}

impl fmt::Display for Percent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}%", self.0)
    }
}

impl FromStr for Percent {
    type Err = UnitError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Percent::parse(s)
    }
}
