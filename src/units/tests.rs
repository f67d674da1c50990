use super::duration::{MS_PER_DAY, MS_PER_HOUR, MS_PER_MIN, MS_PER_SEC};
use super::quantity::MI;
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
        "", "0", "30", "-5m", "+5m", " 5m", "5m ", "5 m", "1.5h", "5x", "5M", "5sec", "h", "5mm",
        "1m1h", "30s5m", "1h1h", "1s1s", "500ms1s", "1d1w", "1w1y", "5µs", "1h-30m",
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
        "", "Mi", "-1Gi", "1.5Gi", "0.5Gi", "1 Gi", "1Gi ", "1gi", "1K", "1Gb", "1e3", "1m", "+1Gi",
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
