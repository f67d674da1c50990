//! Hostile input: property tests feeding arbitrary and mutated specs through
//! validation and generation. Whatever the input: no panic, no hang, and
//! either a model whose every output is generated and parses back, or a
//! non-empty list of diagnostics whose every label lies inside the text.
//!
//! Case counts (`PROPTEST_CASES` overrides them): 256 arbitrary texts,
//! 512 mutated examples, 256 hostile free-text values, from a fixed seed
//! (`PROPTEST_RNG_SEED` overrides it to explore further).

use proptest::prelude::*;

use harden::diagnostics::{Style, render};
use harden::engine::{Templates, emit};
use harden::source::SourceFile;

use crate::support::*;

/// Checks one spec text end to end and asserts the invariants above.
fn check_text(text: &str) {
    let file = SourceFile {
        name: "hardening.toml".into(),
        text: text.to_string(),
    };
    match harden::load::check(&file) {
        Ok(model) => {
            let templates = Templates::builtin().expect("builtin templates");
            let set = emit(&model, &templates).unwrap_or_else(|e| {
                panic!("a valid spec failed to generate: {e}\n--- spec ---\n{text}")
            });
            assert!(!set.is_empty());
        }
        Err(diagnostics) => {
            assert!(
                !diagnostics.is_empty(),
                "an invalid spec without diagnostics"
            );
            let rendered = render(&diagnostics, Style::plain());
            assert!(rendered.contains("harden::"), "{rendered}");
            // No credential in the spec is printed back.
            for found in harden::secrets::find_all(text) {
                let value = &text[found.range];
                assert!(
                    value.len() < 8 || !rendered.contains(value),
                    "{} printed:\n{rendered}",
                    found.what
                );
            }
        }
    }
}

fn example_text() -> String {
    std::fs::read_to_string(root().join("examples/app-oint/hardening.toml")).expect("example")
}

/// Strings that have broken templating tools: quotes, newlines, template
/// and shell syntax, YAML indicators, unicode, very long values.
fn hostile_string() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[a-z0-9-]{1,70}",
        Just("{{ $labels.instance }}".to_string()),
        Just("${HOME}".to_string()),
        Just("a: b # c".to_string()),
        Just("line\nbreak".to_string()),
        Just("quote\"d 'and' \\back\\slash".to_string()),
        Just("ünïcødé ✓ \u{202e}".to_string()),
        Just("x".repeat(5000)),
        Just("- item".to_string()),
        Just("".to_string()),
        deep_or_long(),
    ]
}

/// Deep nesting and long repeats, past harden's depth and size limits
/// (PromQL: 32 levels, 4,096 bytes) and the TOML parser's, so that the
/// refusals, not a stack overflow or a hang, are what is reached.
fn deep_or_long() -> impl Strategy<Value = String> {
    let n = prop_oneof![1usize..64, 64usize..5_000, 5_000usize..100_000];
    (n, 0usize..6).prop_map(|(n, kind)| match kind {
        0 => format!("{}1{}", "(".repeat(n), ")".repeat(n)),
        1 => format!("{}x{}", "sum(".repeat(n), ")".repeat(n)),
        2 => format!("1{}", " + 1".repeat(n)),
        3 => format!("x{}", "{a=\"b\"}[5m]".repeat(n)),
        4 => "ab".repeat(n),
        _ => format!("xoxb-{}", "0123456789".repeat(n.min(500))),
    })
}

/// TOML values and keys nested deeply: arrays, inline tables, dotted keys.
fn deep_toml() -> impl Strategy<Value = String> {
    (prop_oneof![1usize..64, 64usize..100_000], 0usize..3).prop_map(|(n, kind)| match kind {
        0 => format!("x = {}{}", "[".repeat(n), "]".repeat(n)),
        1 => format!("x = {}1{}", "{a=".repeat(n), "}".repeat(n)),
        _ => format!("{} = 1", vec!["a"; n].join(".")),
    })
}

/// A TOML value of any type, hostile where it is a string.
fn toml_value() -> impl Strategy<Value = String> {
    prop_oneof![
        hostile_string().prop_map(|s| toml::Value::String(s).to_string()),
        any::<i64>().prop_map(|i| i.to_string()),
        Just("99999999999999999999".to_string()),
        any::<f64>().prop_map(|f| toml::Value::Float(f).to_string()),
        any::<bool>().prop_map(|b| b.to_string()),
        Just("[]".to_string()),
        Just("{}".to_string()),
        Just("1979-05-27T07:32:00Z".to_string()),
        hostile_string().prop_map(|s| format!("{{ env = {} }}", toml::Value::String(s))),
    ]
}

#[derive(Debug, Clone)]
enum Mutation {
    Delete(usize),
    Duplicate(usize),
    ReplaceValue(usize, String),
    Insert(usize, String),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        any::<usize>().prop_map(Mutation::Delete),
        any::<usize>().prop_map(Mutation::Duplicate),
        (any::<usize>(), toml_value()).prop_map(|(i, v)| Mutation::ReplaceValue(i, v)),
        (any::<usize>(), ("[a-z_]{1,12}", toml_value()))
            .prop_map(|(i, (k, v))| Mutation::Insert(i, format!("{k} = {v}"))),
        (any::<usize>(), deep_toml()).prop_map(|(i, line)| Mutation::Insert(i, line)),
    ]
}

fn mutate(text: &str, mutations: &[Mutation]) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    for m in mutations {
        if lines.is_empty() {
            break;
        }
        let n = lines.len();
        match m {
            Mutation::Delete(i) => {
                lines.remove(i % n);
            }
            Mutation::Duplicate(i) => {
                let line = lines[i % n].clone();
                lines.insert(i % n, line);
            }
            Mutation::ReplaceValue(i, value) => {
                let line = &mut lines[i % n];
                if let Some((key, _)) = line.split_once(" = ") {
                    *line = format!("{key} = {value}");
                }
            }
            Mutation::Insert(i, line) => lines.insert(i % n, line.clone()),
        }
    }
    lines.join("\n")
}

fn cases(default: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(default);
    // A fixed seed keeps CI reproducible; PROPTEST_RNG_SEED=<n> explores others.
    let seed = std::env::var("PROPTEST_RNG_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x6861_7264_656e);
    ProptestConfig {
        cases,
        failure_persistence: None,
        rng_seed: proptest::test_runner::RngSeed::Fixed(seed),
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(cases(256))]
    #[test]
    fn arbitrary_text_never_panics(text in any::<String>()) {
        check_text(&text);
    }
}

proptest! {
    #![proptest_config(cases(512))]
    #[test]
    fn mutated_examples_validate_or_explain(mutations in prop::collection::vec(mutation(), 1..5)) {
        check_text(&mutate(&example_text(), &mutations));
    }
}

proptest! {
    #![proptest_config(cases(256))]
    /// Free-text values (titles, commands, bodies) are accepted or refused,
    /// and when accepted they come out escaped: every output parses back.
    #[test]
    fn hostile_free_text_is_escaped_or_refused(s in hostile_string()) {
        let value = toml::Value::String(s).to_string();
        let text = example_text()
            .replace("title = \"Bookings per minute\"", &format!("title = {value}"))
            .replace("command = \"flutter build web --release\"", &format!("command = {value}"))
            .replace("body = { slot = \"next-available\" }", &format!("body = {{ slot = {value} }}"));
        check_text(&text);
    }

    /// A business metric's PromQL of any depth and length is accepted or
    /// refused in bounded time, never a stack overflow.
    #[test]
    fn deep_and_long_promql_is_bounded(expr in deep_or_long()) {
        let value = toml::Value::String(expr).to_string();
        let text = example_text().replace(
            "expr = \"sum(rate(appointments_booked_total[5m])) * 60\"",
            &format!("expr = {value}"),
        );
        check_text(&text);
    }
}
