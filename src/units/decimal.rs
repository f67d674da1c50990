//! Exact non-negative decimals: SLO arithmetic without float noise.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use super::*;

/// The maximum number of fractional digits a [`Decimal`] may carry.
pub const MAX_SCALE: u32 = 18;

fn pow10(exp: u32) -> Option<u128> {
    10u128.checked_pow(exp)
}

/// An exact non-negative decimal `digits × 10^-scale`.
///
/// Invariants (upheld by every constructor): `scale <= MAX_SCALE` and the
/// representation is normalised (no trailing fractional zeros, zero is
/// `0 × 10^0`), so each value has exactly one representation and the derived
/// `Eq`/`Hash` compare by value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Decimal {
    digits: u128,
    scale: u32,
}

impl Decimal {
    pub const ZERO: Decimal = Decimal {
        digits: 0,
        scale: 0,
    };
    pub const ONE: Decimal = Decimal {
        digits: 1,
        scale: 0,
    };
    pub const HUNDRED: Decimal = Decimal {
        digits: 100,
        scale: 0,
    };

    /// Builds a normalised decimal; `None` if more than [`MAX_SCALE`]
    /// fractional digits remain after stripping trailing zeros.
    pub fn from_parts(mut digits: u128, mut scale: u32) -> Option<Decimal> {
        while scale > 0 && digits.is_multiple_of(10) {
            digits /= 10;
            scale -= 1;
        }
        if digits == 0 {
            scale = 0;
        }
        (scale <= MAX_SCALE).then_some(Decimal { digits, scale })
    }

    pub const fn from_int(n: u64) -> Decimal {
        Decimal {
            digits: n as u128,
            scale: 0,
        }
    }

    /// Parses `14`, `99.9`, `0.5`. Rejects signs, exponents, `.5`, `5.`,
    /// whitespace and more than 18 fractional digits.
    pub fn parse(s: &str) -> Result<Decimal, UnitError> {
        let (int_part, frac_part) = match s.split_once('.') {
            Some((i, f)) => (i, f),
            None => (s, ""),
        };
        let has_point = s.contains('.');
        let digit_err = |e| match e {
            DigitsError::Invalid => UnitError::Decimal,
            DigitsError::Overflow => UnitError::DecimalTooLarge,
        };
        let int = parse_digits(int_part).map_err(digit_err)?;
        if !has_point {
            return Ok(Decimal {
                digits: int,
                scale: 0,
            });
        }
        // Check the characters before the length so `0.x…` is "not a number"
        // rather than "too precise".
        if frac_part.is_empty() || !frac_part.bytes().all(|b| b.is_ascii_digit()) {
            return Err(UnitError::Decimal);
        }
        let scale = u32::try_from(frac_part.len()).map_err(|_| UnitError::DecimalPrecision)?;
        if scale > MAX_SCALE {
            return Err(UnitError::DecimalPrecision);
        }
        let frac = parse_digits(frac_part).map_err(digit_err)?;
        pow10(scale)
            .and_then(|p| int.checked_mul(p))
            .and_then(|d| d.checked_add(frac))
            .and_then(|d| Decimal::from_parts(d, scale))
            .ok_or(UnitError::DecimalTooLarge)
    }

    pub const fn digits(self) -> u128 {
        self.digits
    }

    pub const fn scale(self) -> u32 {
        self.scale
    }

    pub const fn is_zero(self) -> bool {
        self.digits == 0
    }

    pub const fn is_integer(self) -> bool {
        self.scale == 0
    }

    /// The value as an integer, if it is one and fits in u64.
    pub fn to_u64(self) -> Option<u64> {
        if self.scale == 0 {
            u64::try_from(self.digits).ok()
        } else {
            None
        }
    }

    /// Both operands' digits rescaled to their common (larger) scale.
    fn aligned(self, other: Decimal) -> Option<(u128, u128, u32)> {
        let scale = self.scale.max(other.scale);
        let a = self.digits.checked_mul(pow10(scale - self.scale)?)?;
        let b = other.digits.checked_mul(pow10(scale - other.scale)?)?;
        Some((a, b, scale))
    }

    pub fn checked_add(self, other: Decimal) -> Option<Decimal> {
        let (a, b, scale) = self.aligned(other)?;
        Decimal::from_parts(a.checked_add(b)?, scale)
    }

    /// `None` if the result would be negative (or on overflow).
    pub fn checked_sub(self, other: Decimal) -> Option<Decimal> {
        let (a, b, scale) = self.aligned(other)?;
        Decimal::from_parts(a.checked_sub(b)?, scale)
    }

    /// `None` on overflow or if the exact product needs more than 18
    /// fractional digits.
    pub fn checked_mul(self, other: Decimal) -> Option<Decimal> {
        Decimal::from_parts(
            self.digits.checked_mul(other.digits)?,
            self.scale.checked_add(other.scale)?,
        )
    }

    /// Exact quotient, only when it is a terminating decimal with at most 18
    /// fractional digits: `720 / 1 = 720`, `1 / 8 = 0.125`, `1 / 3 -> None`.
    /// `None` when dividing by zero or on overflow.
    pub fn checked_div_exact(self, other: Decimal) -> Option<Decimal> {
        if other.digits == 0 {
            return None;
        }
        // (a / 10^sa) / (b / 10^sb) = (a * 10^sb) / (b * 10^sa); bring both
        // sides to a common scale and divide the integers.
        let (mut num, mut den, _) = self.aligned(other)?;
        let g = gcd(num, den);
        if g > 1 {
            num /= g;
            den /= g;
        }
        // Long division, producing at most MAX_SCALE fractional digits.
        let mut quotient = num.checked_div(den)?;
        let mut remainder = num.checked_rem(den)?;
        let mut scale = 0;
        while remainder != 0 {
            if scale == MAX_SCALE {
                return None;
            }
            remainder = remainder.checked_mul(10)?;
            quotient = quotient
                .checked_mul(10)?
                .checked_add(remainder.checked_div(den)?)?;
            remainder = remainder.checked_rem(den)?;
            scale += 1;
        }
        Decimal::from_parts(quotient, scale)
    }

    /// `(integer part, fractional part scaled to MAX_SCALE digits)`: a
    /// value-ordered key that cannot overflow.
    fn ordering_key(self) -> (u128, u128) {
        // scale <= MAX_SCALE is an invariant, so neither pow10 can fail.
        let unit = pow10(self.scale).unwrap_or(1);
        let widen = pow10(MAX_SCALE.saturating_sub(self.scale)).unwrap_or(1);
        let frac = (self.digits % unit).saturating_mul(widen);
        (self.digits / unit, frac)
    }
}

fn gcd(mut a: u128, mut b: u128) -> u128 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

impl Ord for Decimal {
    fn cmp(&self, other: &Self) -> Ordering {
        self.ordering_key().cmp(&other.ordering_key())
    }
}

impl PartialOrd for Decimal {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl From<u64> for Decimal {
    fn from(n: u64) -> Self {
        Decimal::from_int(n)
    }
}

/// Shortest exact form: `0.0144`, `14.4`, `1`. Never an exponent.
impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (int, _) = self.ordering_key();
        write!(f, "{int}")?;
        if self.scale > 0 {
            let unit = pow10(self.scale).unwrap_or(1);
            let width = self.scale as usize;
            write!(f, ".{:0width$}", self.digits % unit)?;
        }
        Ok(())
    }
}

impl FromStr for Decimal {
    type Err = UnitError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Decimal::parse(s)
    }
}
