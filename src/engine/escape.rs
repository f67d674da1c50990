//! Escaping every interpolated value for the format it lands in, so that no
//! spec value (quotes, newlines, `{{`, `: `, `#`) can change a file's
//! structure. Templates give the structure; values are always scalars.

/// A string as a YAML scalar: plain when that is unambiguous, single-quoted
/// when it is printable on one line, double-quoted with escapes otherwise.
pub fn yaml_str(s: &str) -> String {
    if is_plain_safe(s) {
        s.to_string()
    } else if s.chars().all(|c| is_printable(c) && !is_break(c)) && !s.is_empty() {
        format!("'{}'", s.replace('\'', "''"))
    } else {
        json_str(s)
    }
}

/// A string as a YAML scalar in a Compose file: Compose interpolates `$VAR`
/// and `${VAR}` in every value (and refuses `$(`), so each `$` is doubled
/// (`$$` is Compose's literal dollar) before YAML escaping.
pub fn compose_str(s: &str) -> String {
    yaml_str(&s.replace('$', "$$"))
}

/// Every string inside a JSON value (keys aside) passed through `f`.
pub fn escape_strings(value: serde_json::Value, f: &dyn Fn(&str) -> String) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::String(s) => Value::String(f(&s)),
        Value::Array(items) => {
            Value::Array(items.into_iter().map(|v| escape_strings(v, f)).collect())
        }
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (k, escape_strings(v, f)))
                .collect(),
        ),
        other => other,
    }
}

/// Any JSON value as JSON text whose strings (keys too) are [`json_str`]
/// literals, so a sequence or map is as safe in YAML and JavaScript as a
/// single string (serde_json leaves U+2028, U+0085 and DEL raw).
pub fn json_literal(value: &serde_json::Value) -> String {
    use serde_json::Value;
    match value {
        Value::String(s) => json_str(s),
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(json_literal).collect();
            format!("[{}]", items.join(","))
        }
        Value::Object(map) => {
            let entries: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{}:{}", json_str(k), json_literal(v)))
                .collect();
            format!("{{{}}}", entries.join(","))
        }
        other => other.to_string(),
    }
}

/// A string as a JSON (and JavaScript) string literal, escaping every
/// character that is not printable, and the line breaks YAML 1.1 knows
/// beyond `\n` and `\r` (U+0085, U+2028, U+2029: a YAML 1.1 reader such as
/// PyYAML or go-yaml would fold them; JavaScript before ES2019 refuses
/// U+2028 and U+2029 in strings).
pub fn json_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if !is_printable(c) || is_break(c) => {
                let mut buf = [0u16; 2];
                for unit in c.encode_utf16(&mut buf) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A string as one POSIX shell word: as it is when that is safe, else
/// single-quoted, or double-quoted with `\$`, `` \` ``, `\"` and `\\`
/// escaped when it holds `$` or a backtick (which shellcheck would take
/// for a forgotten expansion inside single quotes, SC2016). Either way no
/// expansion happens.
pub fn shell_word(s: &str) -> String {
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-./:=@%+,".contains(&b))
    {
        s.to_string()
    } else if s.contains(['$', '`']) {
        let mut out = String::with_capacity(s.len() + 8);
        out.push('"');
        for c in s.chars() {
            if matches!(c, '$' | '`' | '"' | '\\') {
                out.push('\\');
            }
            out.push(c);
        }
        out.push('"');
        out
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// A string as Markdown (CommonMark and GitHub's flavour) text on one
/// line: every character that could start markup (emphasis, code, links,
/// HTML, headings, tables, math, entities) is backslash-escaped, which
/// CommonMark allows for any ASCII punctuation, and line breaks become
/// spaces, so no value can open a block or end the line it is on.
pub fn markdown_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '#' | '!' | '|' | '~' | '&' | '$'
            | '{' | '}' => {
                out.push('\\');
                out.push(c);
            }
            c if is_break(c) || c == '\t' => out.push(' '),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// A one-line Markdown code span: fenced by one backtick more than the
/// longest run inside, padded with a space when the text starts or ends
/// with a backtick; line breaks become spaces.
pub fn markdown_code(s: &str) -> String {
    let text: String = s
        .chars()
        .map(|c| if is_break(c) { ' ' } else { c })
        .filter(|c| !c.is_control() || *c == ' ')
        .collect();
    let fence = "`".repeat(longest_run(&text, '`') + 1);
    let pad = if text.starts_with('`') || text.ends_with('`') || text.is_empty() {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{text}{pad}{fence}")
}

/// A fenced Markdown code block of `lang`: the fence is longer than any
/// backtick run inside, so no line of `s` can close it. Ends with a newline.
pub fn markdown_fence(s: &str, lang: &str) -> String {
    let fence = "`".repeat((longest_run(s, '`') + 1).max(3));
    let body = s.trim_end_matches('\n');
    format!("{fence}{lang}\n{body}\n{fence}\n")
}

/// A Markdown link: the label as text, the destination in angle brackets
/// with `<`, `>` and line breaks percent-encoded, so it cannot end early.
pub fn markdown_link(label: &str, url: &str) -> String {
    let mut dest = String::with_capacity(url.len());
    for c in url.chars() {
        match c {
            '<' => dest.push_str("%3C"),
            '>' => dest.push_str("%3E"),
            '\\' => dest.push_str("%5C"),
            ' ' => dest.push_str("%20"),
            c if is_break(c) || c.is_control() => {}
            c => dest.push(c),
        }
    }
    format!("[{}](<{dest}>)", markdown_text(label))
}

fn longest_run(s: &str, c: char) -> usize {
    let (mut best, mut run) = (0, 0);
    for x in s.chars() {
        run = if x == c { run + 1 } else { 0 };
        best = best.max(run);
    }
    best
}

/// Line breaks in YAML 1.1 besides `\n` and `\r`, which no scalar may
/// hold raw without being folded by a YAML 1.1 reader.
fn is_break(c: char) -> bool {
    matches!(c, '\n' | '\r' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

/// YAML's printable set (c-printable), minus the byte-order mark.
fn is_printable(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{7e}' | '\u{85}' | '\u{a0}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..)
        && c != '\u{feff}'
}

/// Words YAML 1.1 (Go's yaml.v2, PyYAML) reads as booleans or null.
const RESERVED: &[&str] = &[
    "y", "yes", "n", "no", "true", "false", "on", "off", "null", "~",
];

/// Whether `s` reads back as the same string when written plain, in any
/// context (block or flow) and under both YAML 1.1 and 1.2.
fn is_plain_safe(s: &str) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    if RESERVED.contains(&s.to_ascii_lowercase().as_str()) {
        return false;
    }
    let allowed = |c: char| c.is_ascii_alphanumeric() || " _-./:@()=~<>!+%*^&;?$".contains(c);
    let starts_well =
        first.is_ascii_alphabetic() || "/_(".contains(first) || first.is_ascii_digit();
    if !starts_well || !s.chars().all(allowed) {
        return false;
    }
    if s.ends_with([' ', ':']) || s.contains(": ") || s.contains(" #") {
        return false;
    }
    // Anything starting with a digit could read as a number, a date or a
    // sexagesimal; only durations such as `15s` are left plain.
    if first.is_ascii_digit() {
        return is_duration(s);
    }
    true
}

/// `15s`, `1h30m`, `500ms`: digits and unit letters, ending in a unit.
fn is_duration(s: &str) -> bool {
    let mut rest = s;
    if rest.is_empty() {
        return false;
    }
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return false;
        }
        rest = &rest[digits..];
        let unit = ["ms", "s", "m", "h", "d", "w", "y"]
            .into_iter()
            .find(|u| rest.starts_with(u));
        match unit {
            Some(u) => rest = &rest[u.len()..],
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yaml_roundtrip(s: &str) -> String {
        let doc = format!("k: {}\nl: [{}]\n", yaml_str(s), yaml_str(s));
        let v: serde_json::Value = serde_saphyr::from_str(&doc).expect("valid YAML");
        assert_eq!(v["l"][0], v["k"], "flow and block agree for {s:?}");
        v["k"].as_str().expect("a string").to_string()
    }

    #[test]
    fn yaml_values_read_back_unchanged() {
        let hostile = [
            "plain",
            "api:5001",
            "15s",
            "1.8.0",
            "5001",
            "yes",
            "No",
            "null",
            "~",
            "",
            " leading",
            "a: b",
            "x #comment",
            "{{ $labels.instance }}",
            "${HOME}",
            "it's",
            "quote\"d",
            "line\nbreak",
            "tab\there",
            "back\\slash",
            "- item",
            "? key",
            "& anchor",
            "* alias",
            "! tag",
            "| block",
            "> folded",
            "%directive",
            "@at",
            "`tick`",
            "[flow]",
            "a, b",
            "ünïcødé ✓",
            "\u{7f}del",
            "\u{feff}bom",
            "nel \u{85} ls \u{2028} ps \u{2029} end",
            "cr\rlf",
            "sum(rate(http_requests_total{status=~\"5..\"}[5m]))",
            "2001-12-14",
            "1:20",
            "0x1f",
            ".inf",
            "-1",
        ];
        for s in hostile {
            assert_eq!(yaml_roundtrip(s), s, "as written: {}", yaml_str(s));
        }
    }

    #[test]
    fn yaml_is_readable_where_it_can_be() {
        assert_eq!(yaml_str("api:5001"), "api:5001");
        assert_eq!(yaml_str("15s"), "15s");
        assert_eq!(yaml_str("/metrics"), "/metrics");
        assert_eq!(yaml_str("1.8.0"), "'1.8.0'");
        assert_eq!(
            yaml_str("sum(rate(x{code=~\"5..\"}[5m]))"),
            "'sum(rate(x{code=~\"5..\"}[5m]))'"
        );
    }

    #[test]
    fn yaml_never_holds_a_raw_yaml_1_1_line_break() {
        for s in ["a \u{85} b", "a \u{2028} b", "a \u{2029} b", "a\rb"] {
            let out = yaml_str(s);
            assert!(
                !out.contains(['\u{85}', '\u{2028}', '\u{2029}', '\r']),
                "{out}"
            );
        }
        let v = serde_json::json!({ "k\u{2028}": ["a \u{85} b", 1, null, { "x": "\u{7f}" }] });
        let lit = json_literal(&v);
        assert!(!lit.contains(['\u{85}', '\u{2028}', '\u{7f}']), "{lit}");
        let back: serde_json::Value = serde_json::from_str(&lit).expect("valid JSON");
        assert_eq!(back, v);
    }

    #[test]
    fn json_strings_escape_everything_unprintable() {
        let s = "a\"b\\c\nd\u{1}\u{7f}\u{2028}";
        let lit = json_str(s);
        assert_eq!(lit, "\"a\\\"b\\\\c\\nd\\u0001\\u007f\\u2028\"");
        let back: String = serde_json::from_str(&lit).expect("valid JSON");
        assert_eq!(back, s);
    }

    #[test]
    fn shell_words_are_quoted_when_needed() {
        assert_eq!(shell_word("api"), "api");
        assert_eq!(shell_word("it's a"), r"'it'\''s a'");
        assert_eq!(shell_word("it's $HOME"), r#""it's \$HOME""#);
        assert_eq!(shell_word(""), "''");
    }

    /// bash reads every quoted word back as the exact string, running nothing.
    #[test]
    fn shell_words_read_back_unchanged_in_bash() {
        let hostile = [
            "$(touch /nonexistent/harden-canary)",
            "`touch /nonexistent/harden-canary`",
            "${HOME} $HOME $$ $1 $@ \\$ \\ !! !x",
            "it's \"quoted\" 'both' $x",
            "line\nbreak\ttab",
            "!bang !! ; & | < > * ? [a] ~ # {a,b}",
            "ünïcødé ✓ \u{202e}",
            "",
            "-n",
        ];
        let script: String = hostile
            .iter()
            .map(|s| format!("printf '%s\\0' {}\n", shell_word(s)))
            .collect();
        let Ok(out) = std::process::Command::new("bash")
            .args(["-c", &script])
            .output()
        else {
            return; // no bash on this machine
        };
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let words: Vec<String> = String::from_utf8_lossy(&out.stdout)
            .split_terminator('\0')
            .map(str::to_string)
            .collect();
        assert_eq!(words, hostile);
    }

    #[test]
    fn markdown_text_cannot_open_markup_or_a_new_line() {
        let hostile =
            "a *b* _c_ `d` [e](f) <script> # h | i ~~j~~ &amp; $x$ {{ k }} \\ \n# heading\n```";
        let out = markdown_text(hostile);
        assert!(!out.contains('\n'), "{out}");
        for c in [
            '*', '_', '`', '[', ']', '<', '>', '#', '|', '~', '&', '$', '{', '}',
        ] {
            let raw = out
                .char_indices()
                .filter(|(i, x)| *x == c && (*i == 0 || out.as_bytes()[i - 1] != b'\\'))
                .count();
            assert_eq!(raw, 0, "unescaped {c} in {out}");
        }
        assert_eq!(
            markdown_text("api-1.example.com:8080 (p95)"),
            "api-1.example.com:8080 (p95)"
        );
    }

    #[test]
    fn markdown_code_and_fences_outlast_any_backtick_run() {
        assert_eq!(markdown_code("a"), "`a`");
        assert_eq!(markdown_code("a ` b"), "``a ` b``");
        assert_eq!(markdown_code("`x`"), "`` `x` ``");
        assert_eq!(markdown_code("a\nb"), "`a b`");
        let fence = markdown_fence("echo 1\n```\n````x", "sh");
        assert!(fence.starts_with("`````sh\n"), "{fence}");
        assert!(fence.ends_with("\n`````\n"), "{fence}");
        assert_eq!(
            markdown_fence("up == 0", "promql"),
            "```promql\nup == 0\n```\n"
        );
    }

    #[test]
    fn markdown_links_keep_the_destination_inside_its_brackets() {
        assert_eq!(
            markdown_link("api [x]", "https://g.example/d/a>b <c> d\n"),
            "[api \\[x\\]](<https://g.example/d/a%3Eb%20%3Cc%3E%20d>)"
        );
    }
}
