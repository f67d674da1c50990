//! Kubernetes CPU and memory quantities.

use std::fmt;
use std::str::FromStr;

use super::*;

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
pub(super) const MI: u64 = 1 << 20;

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
