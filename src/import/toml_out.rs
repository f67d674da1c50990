//! An [`Import`] as hardening.toml tables: one `[[service]]` per service,
//! its `[[service.slo]]` tables under it, the same bytes for the same input.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::{Import, Share, Slo, Tier};

/// The tables, headed by where they came from (`command`, such as
/// `harden import sloth`, and the files as given).
pub fn print(import: &Import, command: &str, files: &[String]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Printed by `{command}` from {}.", files.join(", "));
    out.push_str(
        "# Each [[service]] needs its image, port and metrics before `harden validate`\n\
         # accepts it; or move its [[service.slo]] tables under your own [[service]]\n\
         # of that name.\n",
    );
    for service in &import.services {
        out.push('\n');
        out.push_str("[[service]]\n");
        let _ = writeln!(out, "name = {}", string(&service.name));
        for slo in &service.slos {
            out.push('\n');
            slo_table(&mut out, slo);
        }
    }
    out
}

fn slo_table(out: &mut String, slo: &Slo) {
    for line in &slo.comments {
        for l in line.lines() {
            let _ = writeln!(out, "# {}", l.trim_end());
        }
    }
    out.push_str("[[service.slo]]\n");
    let _ = writeln!(out, "name = {}", string(&slo.name));
    let _ = writeln!(out, "objective = {}", string(&slo.objective));
    if let Some(w) = &slo.window {
        let _ = writeln!(out, "window = {}", string(w));
    }
    let events = if slo.ratio.good { "good" } else { "bad" };
    let _ = writeln!(
        out,
        "ratio = {{ {events} = {}, total = {} }}",
        string(&slo.ratio.events),
        string(&slo.ratio.total)
    );
    for (key, map) in [("labels", &slo.labels), ("annotations", &slo.annotations)] {
        if !map.is_empty() {
            let _ = writeln!(out, "{key} = {}", inline(map));
        }
    }
    if let Some(tiers) = &slo.tiers {
        out.push_str("tiers = [\n");
        for t in tiers {
            let _ = writeln!(out, "  {},", tier(t));
        }
        out.push_str("]\n");
    }
}

fn tier(t: &Tier) -> String {
    let mut parts = vec![
        format!("alert = {}", string(t.alert)),
        format!("long = {}", string(&t.long)),
        format!("short = {}", string(&t.short)),
        match &t.share {
            Share::Consumed(c) => format!("budget_consumed = {}", string(c)),
            Share::Factor(f) => format!("factor = {f}"),
        },
    ];
    if let Some(s) = &t.severity {
        parts.push(format!("severity = {}", string(s)));
    }
    if let Some(f) = &t.for_ {
        parts.push(format!("for = {}", string(f)));
    }
    if !t.enabled {
        parts.push("enabled = false".to_string());
    }
    format!("{{ {} }}", parts.join(", "))
}

/// `{ a = "1", "b.c" = "2" }`, keys in order.
fn inline(map: &BTreeMap<String, String>) -> String {
    let parts: Vec<String> = map
        .iter()
        .map(|(k, v)| format!("{} = {}", key(k), string(v)))
        .collect();
    format!("{{ {} }}", parts.join(", "))
}

fn key(k: &str) -> String {
    if !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        k.to_string()
    } else {
        string(k)
    }
}

/// A TOML string as the toml crate writes it: a literal string where one
/// can hold the text (PromQL's double quotes stay readable), else escaped.
fn string(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_read_back_as_written() {
        for s in [
            r#"sum(rate(x{code=~"5.."}[$window]))"#,
            "it's",
            "a'b\"c",
            "line\nbreak",
        ] {
            let doc = format!("v = {}", string(s));
            let v: toml::Table = toml::from_str(&doc).expect(&doc);
            assert_eq!(v["v"].as_str(), Some(s), "{doc}");
        }
        assert_eq!(key("team"), "team");
        assert_eq!(key("a.b"), "\"a.b\"");
    }
}
