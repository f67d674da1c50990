//! Exact unit types used by the `hardening.toml` spec: durations, decimals,
//! percentages and Kubernetes resource quantities.
//!
//! Everything here is integer arithmetic: no floats, no panics. Every
//! operation that could overflow is checked and reports an error (parsing) or
//! `None` (arithmetic).

use std::cmp::Ordering;
use std::fmt::{self, Write as _};
use std::str::FromStr;

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

// ---------------------------------------------------------------------------
// Duration
// ---------------------------------------------------------------------------

const MS_PER_SEC: u64 = 1_000;
const MS_PER_MIN: u64 = 60 * MS_PER_SEC;
const MS_PER_HOUR: u64 = 60 * MS_PER_MIN;
const MS_PER_DAY: u64 = 24 * MS_PER_HOUR;

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

// ---------------------------------------------------------------------------
// Decimal
// ---------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------
// Percent
// ---------------------------------------------------------------------------

/// A percentage in `0%..=100%`, written with a mandatory `%` (`99.9%`).
///
/// At most 16 fractional digits are allowed so that [`Percent::fraction`]
/// (two more digits) is always exact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Percent(Decimal);

impl Percent {
    const MAX_SCALE: u32 = MAX_SCALE - 2;

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
        if value.scale > Percent::MAX_SCALE {
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
            .scale
            .checked_add(2)
            .and_then(|scale| Decimal::from_parts(self.0.digits, scale))
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

// ---------------------------------------------------------------------------
// Kubernetes quantities
// ---------------------------------------------------------------------------

/// A Kubernetes CPU quantity in millicores (`500m`, `1`, `0.5`, `1.5`).
/// Zero and sub-millicore precision are rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CpuQuantity {
    millicores: u64,
}

impl CpuQuantity {
    pub fn parse(s: &str) -> Result<CpuQuantity, UnitError> {
        let (number, per_unit) = match s.strip_suffix('m') {
            Some(n) => (n, 1),
            None => (s, 1000),
        };
        let value = Decimal::parse(number).map_err(|e| match e {
            UnitError::DecimalTooLarge => UnitError::QuantityTooLarge,
            UnitError::DecimalPrecision => UnitError::CpuPrecision,
            _ => UnitError::Cpu,
        })?;
        let millis = value
            .checked_mul(Decimal::from_int(per_unit))
            .ok_or(UnitError::QuantityTooLarge)?;
        if !millis.is_integer() {
            return Err(UnitError::CpuPrecision);
        }
        let millicores = millis.to_u64().ok_or(UnitError::QuantityTooLarge)?;
        if millicores == 0 {
            return Err(UnitError::QuantityZero);
        }
        Ok(CpuQuantity { millicores })
    }

    pub const fn millicores(self) -> u64 {
        self.millicores
    }
}

/// Whole cores when exact (`2`), else millicores (`500m`, `1500m`).
impl fmt::Display for CpuQuantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.millicores.is_multiple_of(1000) {
            write!(f, "{}", self.millicores / 1000)
        } else {
            write!(f, "{}m", self.millicores)
        }
    }
}

impl FromStr for CpuQuantity {
    type Err = UnitError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        CpuQuantity::parse(s)
    }
}

const KI: u64 = 1 << 10;
const MI: u64 = 1 << 20;

/// Memory suffixes, binary then decimal, each group largest first.
const BINARY_SUFFIXES: [(&str, u64); 6] = [
    ("Ei", 1 << 60),
    ("Pi", 1 << 50),
    ("Ti", 1 << 40),
    ("Gi", 1 << 30),
    ("Mi", MI),
    ("Ki", KI),
];
const DECIMAL_SUFFIXES: [(&str, u64); 6] = [
    ("E", 1_000_000_000_000_000_000),
    ("P", 1_000_000_000_000_000),
    ("T", 1_000_000_000_000),
    ("G", 1_000_000_000),
    ("M", 1_000_000),
    ("k", 1_000),
];

/// A Kubernetes memory quantity in bytes: `512Mi`, `1Gi`, `256M`, `1G`,
/// `1048576`. Only whole numbers; zero is rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MemoryQuantity {
    bytes: u64,
}

impl MemoryQuantity {
    pub fn parse(s: &str) -> Result<MemoryQuantity, UnitError> {
        let (number, suffix) = split_while(s, |c| c.is_ascii_digit());
        let factor = if suffix.is_empty() {
            1
        } else {
            BINARY_SUFFIXES
                .iter()
                .chain(DECIMAL_SUFFIXES.iter())
                .find_map(|&(name, factor)| (name == suffix).then_some(factor))
                .ok_or(UnitError::Memory)?
        };
        let n = match parse_digits(number) {
            Ok(n) => u64::try_from(n).map_err(|_| UnitError::QuantityTooLarge)?,
            Err(DigitsError::Invalid) => return Err(UnitError::Memory),
            Err(DigitsError::Overflow) => return Err(UnitError::QuantityTooLarge),
        };
        let bytes = n.checked_mul(factor).ok_or(UnitError::QuantityTooLarge)?;
        if bytes == 0 {
            return Err(UnitError::QuantityZero);
        }
        Ok(MemoryQuantity { bytes })
    }

    pub const fn bytes(self) -> u64 {
        self.bytes
    }

    /// Whole mebibytes, truncating (`1536Ki` -> 1).
    pub const fn mebibytes(self) -> u64 {
        self.bytes / MI
    }
}

/// The shortest exact form: the largest binary suffix that divides exactly
/// (`512Mi`, `1Gi`); a decimal suffix if that gives a smaller number
/// (`256M`, `1G`); otherwise plain bytes. Ties prefer binary.
impl fmt::Display for MemoryQuantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let largest_exact = |table: &[(&'static str, u64)]| {
            table
                .iter()
                .find(|&&(_, factor)| self.bytes.is_multiple_of(factor))
                .map(|&(name, factor)| (self.bytes / factor, name))
        };
        let best = match (
            largest_exact(&BINARY_SUFFIXES),
            largest_exact(&DECIMAL_SUFFIXES),
        ) {
            (Some(b), Some(d)) if d.0 < b.0 => d,
            (Some(b), _) => b,
            (None, Some(d)) => d,
            (None, None) => (self.bytes, ""),
        };
        write!(f, "{}{}", best.0, best.1)
    }
}

impl FromStr for MemoryQuantity {
    type Err = UnitError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        MemoryQuantity::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dur(s: &str) -> Duration {
        Duration::parse(s).unwrap()
    }

    fn dec(s: &str) -> Decimal {
        Decimal::parse(s).unwrap()
    }

    // -- Duration -----------------------------------------------------------

    #[test]
    fn duration_parses_prometheus_syntax() {
        assert_eq!(dur("30s").as_millis(), 30_000);
        assert_eq!(dur("5m").as_millis(), 300_000);
        assert_eq!(dur("1h30m").as_millis(), 5_400_000);
        assert_eq!(dur("500ms").as_millis(), 500);
        assert_eq!(dur("30d").as_millis(), 30 * MS_PER_DAY);
        assert_eq!(dur("1d12h").as_millis(), 36 * MS_PER_HOUR);
        assert_eq!(dur("2w").as_millis(), 14 * MS_PER_DAY);
        assert_eq!(dur("1y").as_millis(), 365 * MS_PER_DAY);
        assert_eq!(dur("1y2w3d4h5m6s7ms").to_string(), "382d4h5m6s7ms");
        assert_eq!(dur("1h0m").as_millis(), MS_PER_HOUR);
        assert!(dur("0s").is_zero());
        assert_eq!(dur("0ms"), Duration::ZERO);
    }

    #[test]
    fn duration_rejects_malformed_input() {
        for bad in [
            "", "0", "30", "-5m", "+5m", " 5m", "5m ", "5 m", "1.5h", "5x", "5M", "5sec", "h",
            "5mm", "1m1h", "30s5m", "1h1h", "1s1s", "500ms1s", "1d1w", "1w1y", "5µs", "1h-30m",
        ] {
            assert_eq!(Duration::parse(bad), Err(UnitError::Duration), "{bad:?}");
        }
    }

    #[test]
    fn duration_rejects_overflow() {
        for bad in [
            "18446744073709551616ms",
            "99999999999999999999999999999999999999999ms",
            "18446744073709552s",
            "600000000y",
            "18446744073709551s1000ms",
        ] {
            assert_eq!(
                Duration::parse(bad),
                Err(UnitError::DurationTooLarge),
                "{bad:?}"
            );
        }
        assert_eq!(dur("18446744073709551615ms").as_millis(), u64::MAX);
        assert!(Duration::from_millis(u64::MAX).checked_mul(2).is_none());
        assert!(Duration::from_secs(u64::MAX).is_none());
    }

    #[test]
    fn duration_display_is_canonical() {
        let cases = [
            (0, "0s"),
            (1, "1ms"),
            (1_500, "1s500ms"),
            (90_000, "1m30s"),
            (5_400_000, "1h30m"),
            (30 * MS_PER_DAY, "30d"),
            (14 * MS_PER_DAY, "14d"),
            (365 * MS_PER_DAY, "365d"),
            (MS_PER_DAY + 1, "1d1ms"),
        ];
        for (ms, want) in cases {
            assert_eq!(Duration::from_millis(ms).to_string(), want);
        }
        assert_eq!(dur("60m").to_string(), "1h");
        assert_eq!(dur("1000ms").to_string(), "1s");
    }

    #[test]
    fn duration_accessors() {
        let d = dur("1s500ms");
        assert_eq!(d.as_secs(), 1);
        assert_eq!(d.whole_secs(), None);
        assert_eq!(dur("2m").whole_secs(), Some(120));
        assert_eq!(Duration::from_secs(90), Some(dur("1m30s")));
        assert_eq!(dur("1h").checked_mul(24), Some(dur("1d")));
        assert_eq!(dur("1s").checked_div(3), Some(dur("333ms")));
        assert_eq!(dur("1s").checked_div(0), None);
        assert_eq!(dur("1m").checked_add(dur("30s")), Some(dur("90s")));
        assert_eq!(dur("1m").checked_sub(dur("2m")), None);
        assert!(dur("5m") < dur("1h") && dur("1d") > dur("23h59m"));
        assert_eq!("5m".parse::<Duration>(), Ok(dur("5m")));
    }

    #[test]
    fn duration_ratio() {
        assert_eq!(dur("30d").ratio(dur("1h")), Some(dec("720")));
        assert_eq!(dur("5m").ratio(dur("1h")), None); // 1/12 does not terminate
        assert_eq!(dur("30m").ratio(dur("1h")), Some(dec("0.5")));
        assert_eq!(dur("1h").ratio(Duration::ZERO), None);
    }

    #[test]
    fn go_string_matches_go() {
        let cases = [
            ("0s", "0s"),
            ("1ms", "1ms"),
            ("500ms", "500ms"),
            ("1s", "1s"),
            ("1s500ms", "1.5s"),
            ("1s50ms", "1.05s"),
            ("1s5ms", "1.005s"),
            ("90s", "1m30s"),
            ("1m", "1m0s"),
            ("1h", "1h0m0s"),
            ("1h30m", "1h30m0s"),
            ("1h0m1s1ms", "1h0m1.001s"),
            ("30d", "720h0m0s"),
            ("28d", "672h0m0s"),
        ];
        for (input, want) in cases {
            assert_eq!(dur(input).go_string(), want, "{input}");
        }
        assert_eq!(
            Duration::from_millis(u64::MAX).go_string(),
            "5124095576030h25m51.615s"
        );
    }

    #[test]
    fn duration_round_trips() {
        let units = [1, MS_PER_SEC, MS_PER_MIN, MS_PER_HOUR, MS_PER_DAY];
        let mut values = vec![0, u64::MAX, u64::MAX - 1];
        for unit in units {
            for n in [1, 2, 7, 23, 59, 60, 61, 999, 1000, 1001, 86_400] {
                values.push(unit * n);
                values.push(unit * n + 1);
                values.push(unit * n + 999);
            }
        }
        values.extend(0..5000);
        for ms in values {
            let d = Duration::from_millis(ms);
            let shown = d.to_string();
            assert_eq!(Duration::parse(&shown), Ok(d), "{ms} -> {shown}");
            assert!(!shown.contains('w') && !shown.contains('y'));
        }
    }

    // -- Decimal ------------------------------------------------------------

    #[test]
    fn decimal_parses_and_normalises() {
        assert_eq!(dec("99.9").to_string(), "99.9");
        assert_eq!(dec("0.5").to_string(), "0.5");
        assert_eq!(dec("14").to_string(), "14");
        assert_eq!(dec("14.400").to_string(), "14.4");
        assert_eq!(dec("14.400"), dec("14.4"));
        assert_eq!(dec("0.000"), Decimal::ZERO);
        assert_eq!(dec("007"), Decimal::from_int(7));
        assert_eq!(
            dec("1.000000000000000001").to_string(),
            "1.000000000000000001"
        );
        assert_eq!(dec("100"), Decimal::HUNDRED);
        assert_eq!(Decimal::from(1), Decimal::ONE);
    }

    #[test]
    fn decimal_rejects_malformed_input() {
        for bad in [
            "", "-1", "+1", "1e3", ".5", "5.", ".", "1.2.3", " 1", "1 ", "1,5", "0x10", "½",
        ] {
            assert_eq!(Decimal::parse(bad), Err(UnitError::Decimal), "{bad:?}");
        }
        assert_eq!(
            Decimal::parse("0.1234567890123456789"),
            Err(UnitError::DecimalPrecision)
        );
        assert_eq!(
            Decimal::parse("0.0000000000000000000000000000000000000000001"),
            Err(UnitError::DecimalPrecision)
        );
        assert_eq!(
            Decimal::parse("340282366920938463463374607431768211456"),
            Err(UnitError::DecimalTooLarge)
        );
        // Fits u128 as an integer, but not once scaled by 10^1.
        assert_eq!(
            Decimal::parse("340282366920938463463374607431768211455.5"),
            Err(UnitError::DecimalTooLarge)
        );
    }

    #[test]
    fn decimal_slo_maths() {
        let fraction = dec("0.999");
        let budget = Decimal::ONE.checked_sub(fraction).unwrap();
        assert_eq!(budget, dec("0.001"));
        assert_eq!(budget.to_string(), "0.001");

        let threshold = dec("14.4").checked_mul(budget).unwrap();
        assert_eq!(threshold.to_string(), "0.0144");

        let burn = |budget: &str, period: u64, window: u64| {
            dec(budget)
                .checked_mul(Decimal::from_int(period))
                .and_then(|x| x.checked_div_exact(Decimal::from_int(window)))
                .map(|d| d.to_string())
        };
        assert_eq!(burn("0.02", 720, 1).as_deref(), Some("14.4"));
        assert_eq!(burn("0.02", 672, 1).as_deref(), Some("13.44"));
        assert_eq!(burn("0.05", 720, 6).as_deref(), Some("6"));
        assert_eq!(burn("0.1", 720, 24).as_deref(), Some("3"));
        assert_eq!(burn("0.1", 720, 72).as_deref(), Some("1"));

        // Same thing via durations.
        let ratio = dur("30d").ratio(dur("1h")).unwrap();
        assert_eq!(
            dec("0.02")
                .checked_mul(ratio)
                .map(|d| d.to_string())
                .as_deref(),
            Some("14.4")
        );
    }

    #[test]
    fn decimal_arithmetic_edges() {
        assert_eq!(dec("0.1").checked_sub(dec("0.2")), None);
        assert_eq!(dec("0.1").checked_add(dec("0.2")), Some(dec("0.3")));
        assert_eq!(dec("0.5").checked_mul(dec("0.2")), Some(dec("0.1")));
        assert_eq!(dec("1").checked_div_exact(dec("3")), None);
        assert_eq!(dec("1").checked_div_exact(dec("8")), Some(dec("0.125")));
        assert_eq!(dec("1").checked_div_exact(Decimal::ZERO), None);
        assert_eq!(
            Decimal::ZERO.checked_div_exact(dec("7")),
            Some(Decimal::ZERO)
        );
        assert_eq!(
            dec("0.0144").checked_div_exact(dec("0.001")),
            Some(dec("14.4"))
        );
        assert_eq!(dec("720").checked_div_exact(dec("1")), Some(dec("720")));
        // 2^-60 terminates but needs 60 digits.
        assert_eq!(
            Decimal::ONE.checked_div_exact(Decimal::from_int(1 << 60)),
            None
        );
        // Products needing more than 18 fractional digits are refused.
        let tiny = dec("0.000000001");
        assert_eq!(tiny.checked_mul(tiny), Some(dec("0.000000000000000001")));
        assert_eq!(tiny.checked_mul(dec("0.0000000001")), None);
        // Overflow.
        let max = Decimal::from_parts(u128::MAX, 0).unwrap();
        assert_eq!(max.checked_add(Decimal::ONE), None);
        assert_eq!(max.checked_mul(dec("2")), None);
        assert_eq!(max.checked_add(dec("0.5")), None);
        assert_eq!(max.checked_div_exact(dec("0.5")), None);
        assert_eq!(max.checked_div_exact(max), Some(Decimal::ONE));
        assert_eq!(dec("2.5").to_u64(), None);
        assert_eq!(dec("25").to_u64(), Some(25));
        assert_eq!(max.to_u64(), None);
        assert_eq!(Decimal::from_parts(1, 19), None);
        assert_eq!(
            Decimal::from_parts(10, 19),
            Some(dec("0.000000000000000001"))
        );
    }

    #[test]
    fn decimal_ordering_is_by_value() {
        let mut v = [
            dec("14.4"),
            dec("0.0144"),
            dec("2"),
            dec("0.999"),
            dec("14.39999"),
            dec("1"),
        ];
        v.sort();
        let shown: Vec<String> = v.iter().map(ToString::to_string).collect();
        assert_eq!(shown, ["0.0144", "0.999", "1", "2", "14.39999", "14.4"]);
        let max = Decimal::from_parts(u128::MAX, 0).unwrap();
        let max_frac = Decimal::from_parts(u128::MAX, 18).unwrap();
        assert!(max > max_frac && max_frac > Decimal::HUNDRED);
    }

    #[test]
    fn decimal_round_trips() {
        for i in 0u64..=1200 {
            for k in 0..=MAX_SCALE {
                let d = Decimal::from_int(i)
                    .checked_div_exact(Decimal::from_parts(10u128.pow(k), 0).unwrap())
                    .unwrap();
                let shown = d.to_string();
                assert_eq!(Decimal::parse(&shown), Ok(d), "{i}/10^{k} -> {shown}");
                assert!(!shown.contains('e'));
                if shown.contains('.') {
                    assert!(!shown.ends_with('0'), "{shown}");
                }
                // Division, from_parts and parsing a padded (unnormalised)
                // spelling all agree.
                assert_eq!(Decimal::from_parts(u128::from(i), k), Some(d));
                if k <= 4 {
                    let p = 10u64.pow(k);
                    let w = k as usize;
                    let padded = format!("{}.{:0w$}00", i / p, i % p);
                    let padded = if k == 0 { format!("{i}.00") } else { padded };
                    assert_eq!(Decimal::parse(&padded), Ok(d), "{padded}");
                }
            }
        }
        for i in 0u64..200 {
            let a = Decimal::from_int(i)
                .checked_div_exact(Decimal::from_int(100))
                .unwrap();
            let b = Decimal::from_int(i + 1)
                .checked_div_exact(Decimal::from_int(100))
                .unwrap();
            assert!(a < b);
            assert_eq!(a.checked_add(dec("0.01")), Some(b));
            assert_eq!(b.checked_sub(dec("0.01")), Some(a));
        }
    }

    // -- Percent ------------------------------------------------------------

    #[test]
    fn percent_parses() {
        let p = Percent::parse("99.9%").unwrap();
        assert_eq!(p.value(), dec("99.9"));
        assert_eq!(p.fraction(), dec("0.999"));
        assert_eq!(p.to_string(), "99.9%");
        assert_eq!(Percent::parse("1%").unwrap().fraction(), dec("0.01"));
        assert_eq!(Percent::parse("0.5%").unwrap().fraction(), dec("0.005"));
        assert_eq!(Percent::parse("100%").unwrap().fraction(), Decimal::ONE);
        assert_eq!(Percent::parse("0%").unwrap().fraction(), Decimal::ZERO);
        assert_eq!(Percent::parse("99.90%").unwrap().to_string(), "99.9%");
        let fine = Percent::parse("99.9999999999999999%").unwrap();
        assert_eq!(fine.fraction().to_string(), "0.999999999999999999");
    }

    #[test]
    fn percent_rejects() {
        for bad in [
            "", "%", "99.9", "99.9 %", " 99.9%", "99.9% ", "99.9%%", "abc%", ".5%", "1e2%", "-x%",
        ] {
            assert_eq!(Percent::parse(bad), Err(UnitError::Percent), "{bad:?}");
        }
        for bad in [
            "100.1%",
            "101%",
            "-1%",
            "-0.5%",
            "99999999999999999999999999999999999999999%",
        ] {
            assert_eq!(Percent::parse(bad), Err(UnitError::PercentRange), "{bad:?}");
        }
        assert_eq!(
            Percent::parse("99.99999999999999999%"),
            Err(UnitError::PercentPrecision)
        );
        assert_eq!(
            UnitError::PercentRange.to_string(),
            "percentage must be between 0% and 100%"
        );
    }

    // -- Quantities ---------------------------------------------------------

    #[test]
    fn cpu_quantities() {
        let cases = [
            ("500m", 500, "500m"),
            ("1", 1000, "1"),
            ("0.5", 500, "500m"),
            ("2", 2000, "2"),
            ("1.5", 1500, "1500m"),
            ("1500m", 1500, "1500m"),
            ("2000m", 2000, "2"),
            ("0.001", 1, "1m"),
        ];
        for (input, millis, shown) in cases {
            let q = CpuQuantity::parse(input).unwrap();
            assert_eq!(q.millicores(), millis, "{input}");
            assert_eq!(q.to_string(), shown, "{input}");
            assert_eq!(CpuQuantity::parse(shown), Ok(q));
        }
        for bad in [
            "", "m", "-1", "-500m", "1e3", "1 ", "500M", "1Gi", ".5", "5.", "1c",
        ] {
            assert_eq!(CpuQuantity::parse(bad), Err(UnitError::Cpu), "{bad:?}");
        }
        assert_eq!(CpuQuantity::parse("0"), Err(UnitError::QuantityZero));
        assert_eq!(CpuQuantity::parse("0m"), Err(UnitError::QuantityZero));
        assert_eq!(CpuQuantity::parse("0.5m"), Err(UnitError::CpuPrecision));
        assert_eq!(CpuQuantity::parse("0.0001"), Err(UnitError::CpuPrecision));
        assert_eq!(
            CpuQuantity::parse("18446744073709552"),
            Err(UnitError::QuantityTooLarge)
        );
        assert_eq!(
            CpuQuantity::parse("18446744073709551616m"),
            Err(UnitError::QuantityTooLarge)
        );
    }

    #[test]
    fn memory_quantities() {
        let cases = [
            ("512Mi", 512 * MI, "512Mi"),
            ("1Gi", 1 << 30, "1Gi"),
            ("1024Mi", 1 << 30, "1Gi"),
            ("256M", 256_000_000, "256M"),
            ("1G", 1_000_000_000, "1G"),
            ("1048576", MI, "1Mi"),
            ("1000", 1000, "1k"),
            ("1001", 1001, "1001"),
            ("1024000", 1_024_000, "1000Ki"),
        ];
        for (input, bytes, shown) in cases {
            let q = MemoryQuantity::parse(input).unwrap();
            assert_eq!(q.bytes(), bytes, "{input}");
            assert_eq!(q.to_string(), shown, "{input}");
            assert_eq!(MemoryQuantity::parse(shown), Ok(q));
        }
        assert_eq!(MemoryQuantity::parse("512Mi").unwrap().mebibytes(), 512);
        assert_eq!(MemoryQuantity::parse("1536Ki").unwrap().mebibytes(), 1);
        assert_eq!(MemoryQuantity::parse("1Gi").unwrap().mebibytes(), 1024);
        assert_eq!(MemoryQuantity::parse("15Ei").unwrap().to_string(), "15Ei");
        for bad in [
            "", "Mi", "-1Gi", "1.5Gi", "0.5Gi", "1 Gi", "1Gi ", "1gi", "1K", "1Gb", "1e3", "1m",
            "+1Gi",
        ] {
            assert_eq!(
                MemoryQuantity::parse(bad),
                Err(UnitError::Memory),
                "{bad:?}"
            );
        }
        assert_eq!(MemoryQuantity::parse("0"), Err(UnitError::QuantityZero));
        assert_eq!(MemoryQuantity::parse("0Mi"), Err(UnitError::QuantityZero));
        assert_eq!(
            MemoryQuantity::parse("16Ei"),
            Err(UnitError::QuantityTooLarge)
        );
        assert_eq!(
            MemoryQuantity::parse("99999999999999999999999"),
            Err(UnitError::QuantityTooLarge)
        );
    }

    /// Every short string over a relevant alphabet: no parser panics (tests
    /// run with overflow checks), and everything accepted round-trips.
    #[test]
    fn short_strings_never_panic_and_round_trip() {
        let alphabet: Vec<char> = "019.%-mshdwyMGiK ".chars().collect();
        let mut inputs = vec![String::new()];
        let mut frontier = inputs.clone();
        for _ in 0..4 {
            frontier = frontier
                .iter()
                .flat_map(|s| alphabet.iter().map(move |c| format!("{s}{c}")))
                .collect();
            inputs.extend(frontier.iter().cloned());
        }
        for s in &inputs {
            if let Ok(d) = Duration::parse(s) {
                assert_eq!(Duration::parse(&d.to_string()), Ok(d), "{s}");
                let _ = d.go_string();
            }
            if let Ok(d) = Decimal::parse(s) {
                assert_eq!(Decimal::parse(&d.to_string()), Ok(d), "{s}");
            }
            if let Ok(p) = Percent::parse(s) {
                assert_eq!(Percent::parse(&p.to_string()), Ok(p), "{s}");
            }
            if let Ok(q) = CpuQuantity::parse(s) {
                assert_eq!(CpuQuantity::parse(&q.to_string()), Ok(q), "{s}");
            }
            if let Ok(q) = MemoryQuantity::parse(s) {
                assert_eq!(MemoryQuantity::parse(&q.to_string()), Ok(q), "{s}");
            }
        }
        assert!(inputs.len() > 80_000);
    }

    #[test]
    fn error_messages() {
        assert_eq!(
            UnitError::Duration.to_string(),
            "expected a duration such as 30s, 5m, 1h30m or 30d"
        );
        assert_eq!(
            UnitError::Percent.to_string(),
            "expected a percentage such as 99.9%"
        );
        assert_eq!(
            UnitError::Cpu.to_string(),
            "expected a CPU quantity such as 500m or 2"
        );
        let boxed: Box<dyn std::error::Error> = Box::new(UnitError::Memory);
        assert!(boxed.to_string().contains("512Mi"));
    }
}
