//! What a credential looks like: the one detector `validate` (and so
//! `generate`) runs on every text value of the spec, `harden check` runs on
//! every line of the generated tree, and diagnostics use to mask what they
//! show. One definition, so the three agree: a value validate accepts is
//! never one check calls a leak.
//!
//! Shapes: Slack webhook URLs and tokens (`xox?-`), GitHub tokens (`ghp_`,
//! `gho_`, `ghu_`, `ghs_`, `ghr_`, `github_pat_`), AWS access key ids
//! (`AKIA`/`ASIA`), PEM private keys, JWTs, URLs with a password in their
//! user info (`https://user:pw@host`) or a credential in their query
//! (`?token=…`), and high-entropy tokens ([`HIGH_ENTROPY_MIN_LEN`]
//! characters or more mixing upper case, lower case and digits with at least
//! [`HIGH_ENTROPY_MIN_BITS`] bits per character). A value that is a
//! reference (`$VAR`, `${VAR}`, `{{ … }}`) is not a credential.

use std::ops::Range;

/// Tokens shorter than this are never called high-entropy.
pub const HIGH_ENTROPY_MIN_LEN: usize = 24;
/// Shannon entropy, bits per character, from which a mixed-case
/// alphanumeric token is called a credential (random base62 of 24
/// characters scores about 4.3; words and identifiers stay below 4).
pub const HIGH_ENTROPY_MIN_BITS: f64 = 4.1;

/// A credential found in a text: where, and what it looks like.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// Byte range of the credential in the text searched.
    pub range: Range<usize>,
    /// "a Slack token", "a URL with a password", …
    pub what: &'static str,
}

/// The first credential in `text`, if any.
pub fn find(text: &str) -> Option<Found> {
    find_all(text).into_iter().next()
}

/// Every credential in `text`, in order, not overlapping.
pub fn find_all(text: &str) -> Vec<Found> {
    let mut out: Vec<Found> = Vec::new();
    let mut push = |found: Found| {
        if !out.iter().any(|f| overlaps(&f.range, &found.range)) {
            out.push(found);
        }
    };
    for (prefix, min, what) in PREFIXED {
        for (i, _) in text.match_indices(prefix) {
            if i > 0 && is_token_byte(text.as_bytes()[i - 1]) && !prefix.contains('/') {
                continue; // inside a longer word
            }
            let end = token_end(text, i + prefix.len());
            if end - (i + prefix.len()) >= *min {
                push(Found {
                    range: i..end,
                    what,
                });
            }
        }
    }
    for (i, _) in text.match_indices("-----BEGIN") {
        if let Some(rel) = text[i..].find("PRIVATE KEY-----") {
            // To its END line, else (one line of a file, a string) to the
            // end of the line or the string.
            let end = text[i..]
                .find("-----END")
                .and_then(|e| text[i + e..].find("KEY-----").map(|k| i + e + k + 8))
                .unwrap_or_else(|| {
                    let from = i + rel + 16;
                    text[from..]
                        .find(['"', '\'', '\n'])
                        .map_or(text.len(), |e| from + e)
                });
            push(Found {
                range: i..end,
                what: "a private key",
            });
        }
    }
    for (i, _) in text.match_indices("AKIA").chain(text.match_indices("ASIA")) {
        let key = &text.as_bytes()[i + 4..];
        if key.len() >= 16
            && key[..16]
                .iter()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
            && (i == 0 || !text.as_bytes()[i - 1].is_ascii_alphanumeric())
        {
            push(Found {
                range: i..i + 20,
                what: "an AWS access key id",
            });
        }
    }
    for (i, _) in text.match_indices("://") {
        if let Some(found) = url_credential(text, i) {
            push(found);
        }
    }
    for range in tokens(text) {
        let token = &text[range.clone()];
        if is_jwt(token) {
            push(Found {
                range,
                what: "a JSON Web Token",
            });
        } else if high_entropy(token) {
            push(Found {
                range,
                what: "a high-entropy value (a key or token)",
            });
        }
    }
    out.sort_by_key(|f| f.range.start);
    out
}

/// Token prefixes, the fewest characters that must follow, and their name.
const PREFIXED: &[(&str, usize, &str)] = &[
    ("hooks.slack.com/services/", 1, "a Slack webhook URL"),
    ("xoxb-", 10, "a Slack token"),
    ("xoxp-", 10, "a Slack token"),
    ("xoxa-", 10, "a Slack token"),
    ("xoxr-", 10, "a Slack token"),
    ("xoxs-", 10, "a Slack token"),
    ("xapp-", 10, "a Slack token"),
    ("ghp_", 20, "a GitHub token"),
    ("gho_", 20, "a GitHub token"),
    ("ghu_", 20, "a GitHub token"),
    ("ghs_", 20, "a GitHub token"),
    ("ghr_", 20, "a GitHub token"),
    ("github_pat_", 20, "a GitHub token"),
    ("glpat-", 20, "a GitLab token"),
    ("sk_live_", 16, "a Stripe secret key"),
];

fn overlaps(a: &Range<usize>, b: &Range<usize>) -> bool {
    a.start < b.end && b.start < a.end
}

/// Characters of a key or token (base64, base64url, and `/` for URL paths).
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'/' | b'+' | b'=')
}

fn token_end(text: &str, from: usize) -> usize {
    let bytes = text.as_bytes();
    let mut end = from;
    while end < bytes.len() && is_token_byte(bytes[end]) {
        end += 1;
    }
    end
}

/// Maximal runs of token characters (plus `.` for JWTs).
fn tokens(text: &str) -> impl Iterator<Item = Range<usize>> + '_ {
    let bytes = text.as_bytes();
    let is = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'+' | b'=' | b'.');
    let mut i = 0;
    std::iter::from_fn(move || {
        while i < bytes.len() && !is(bytes[i]) {
            i += 1;
        }
        if i >= bytes.len() {
            return None;
        }
        let start = i;
        while i < bytes.len() && is(bytes[i]) {
            i += 1;
        }
        Some(start..i)
    })
}

/// `header.payload.signature`, the header base64url JSON (`eyJ`).
fn is_jwt(token: &str) -> bool {
    let parts: Vec<&str> = token.split('.').collect();
    parts.len() == 3
        && parts[0].starts_with("eyJ")
        && parts[0].len() >= 10
        && parts[1].len() >= 8
        && parts[..2].iter().all(|p| {
            p.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

/// A long run mixing upper case, lower case and digits, nearly random.
/// Hex (hashes, digests, ids) and words are left out.
fn high_entropy(token: &str) -> bool {
    // Subresource-integrity hashes (`sha512-<base64>`, as in lock files)
    // are digests, not keys.
    if ["sha1-", "sha256-", "sha384-", "sha512-"]
        .iter()
        .any(|p| token.starts_with(p))
    {
        return false;
    }
    // `=` is base64's padding only at the end: inside, it joins a key to
    // its value (`--from-literal=PGPORT=5432`), which are judged apart.
    let pieces = token
        .split('.')
        .flat_map(|part| part.trim_end_matches('=').split('='));
    pieces.into_iter().any(|part| {
        let bytes = part.trim_start_matches('-').as_bytes();
        bytes.len() >= HIGH_ENTROPY_MIN_LEN
            && bytes.iter().filter(|b| b.is_ascii_uppercase()).count() >= 2
            && bytes.iter().filter(|b| b.is_ascii_lowercase()).count() >= 2
            && bytes.iter().filter(|b| b.is_ascii_digit()).count() >= 2
            && entropy(bytes) >= HIGH_ENTROPY_MIN_BITS
    })
}

/// Shannon entropy in bits per byte.
fn entropy(bytes: &[u8]) -> f64 {
    let mut counts = [0u32; 256];
    for b in bytes {
        counts[usize::from(*b)] += 1;
    }
    let n = bytes.len() as f64;
    counts
        .iter()
        .filter(|c| **c > 0)
        .map(|c| {
            let p = f64::from(*c) / n;
            -p * p.log2()
        })
        .sum()
}

/// A reference to a value kept elsewhere, not a value.
fn is_reference(value: &str) -> bool {
    value.is_empty() || value.starts_with('$') || value.starts_with("{{") || value == "*"
}

/// Query keys whose value is a credential.
const QUERY_KEYS: &[&str] = &[
    "token",
    "access_token",
    "api_key",
    "apikey",
    "key",
    "secret",
    "password",
    "pass",
    "sig",
    "signature",
    "auth",
];

/// A password in the user info of the URL whose `://` is at `at`, or a
/// credential in its query.
fn url_credential(text: &str, at: usize) -> Option<Found> {
    let rest = &text[at + 3..];
    let end = rest
        .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>' | '`'))
        .unwrap_or(rest.len());
    let url = &rest[..end];
    let authority_end = url.find(['/', '?', '#']).unwrap_or(url.len());
    let authority = &url[..authority_end];
    if let Some(userinfo_end) = authority.rfind('@')
        && let Some((_, password)) = authority[..userinfo_end].split_once(':')
        && !is_reference(password)
    {
        let start = at + 3;
        return Some(Found {
            range: start..start + userinfo_end,
            what: "a URL with a password in it",
        });
    }
    let query_start = url.find('?')? + 1;
    let query_end = url[query_start..]
        .find('#')
        .map_or(url.len(), |i| query_start + i);
    let mut offset = query_start;
    for pair in url[query_start..query_end].split('&') {
        if let Some((key, value)) = pair.split_once('=')
            && QUERY_KEYS.contains(&key.to_ascii_lowercase().as_str())
            && !is_reference(value)
        {
            let start = at + 3 + offset + key.len() + 1;
            return Some(Found {
                range: start..start + value.len(),
                what: "a URL with a credential in its query",
            });
        }
        offset += pair.len() + 1;
    }
    None
}

/// `text` with every byte of each range replaced by `*`, so offsets and
/// widths stay as they were (every byte of a multi-byte character becomes
/// one `*`, which keeps the text UTF-8).
pub fn mask(text: &str, ranges: &[Range<usize>]) -> String {
    let mut bytes = text.as_bytes().to_vec();
    for range in ranges {
        // Widened to whole characters, so the text stays UTF-8.
        let mut end = range.end.min(text.len());
        while !text.is_char_boundary(end) {
            end += 1;
        }
        let mut start = range.start.min(end);
        while !text.is_char_boundary(start) {
            start -= 1;
        }
        for b in &mut bytes[start..end] {
            *b = b'*';
        }
    }
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn what(text: &str) -> Option<&'static str> {
        find(text).map(|f| f.what)
    }

    #[test]
    fn every_shape_is_found_where_it_stands() {
        let cases = [
            (
                "https://hooks.slack.com/services/T000/B000/XXXX",
                "a Slack webhook URL",
            ),
            ("xoxb-123456789012-abcdefABCDEF", "a Slack token"),
            ("ghp_0123456789abcdefABCDEF0123456789abcd", "a GitHub token"),
            (
                "github_pat_11ABCDEFG0123456789_abcdefghijkl",
                "a GitHub token",
            ),
            ("AKIAIOSFODNN7EXAMPLE", "an AWS access key id"),
            ("-----BEGIN RSA PRIVATE KEY-----", "a private key"),
            (
                "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
                "a JSON Web Token",
            ),
            (
                "https://admin:pw@grafana.example.com/",
                "a URL with a password in it",
            ),
            (
                "https://hooks.example.com/alert?token=abc123",
                "a URL with a credential in its query",
            ),
            (
                "Zx8Kq2Lm9Pw4Rt7Yv1Bn6Cd3Fg5Hj0",
                "a high-entropy value (a key or token)",
            ),
        ];
        for (text, expected) in cases {
            let framed = format!("key = \"{text}\"");
            let found = find(&framed).unwrap_or_else(|| panic!("{text} not found"));
            assert_eq!(found.what, expected, "{text}");
            assert!(
                text.contains(&framed[found.range.clone()]),
                "{text}: {:?}",
                &framed[found.range]
            );
        }
    }

    #[test]
    fn references_words_and_hashes_are_not_credentials() {
        for text in [
            "api_url_file: /run/secrets/slack-webhook-url",
            "see hooks.slack.com/services/ for the format",
            "https://user@example.com/path",
            "https://x-access-token:${GITHUB_TOKEN}@github.com/org/repo",
            "https://example.com/?page=2",
            "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
            "sum(rate(http_requests_total{service=\"api\",code=~\"5..\"}[5m]))",
            "ghcr.io/app-oint/appointment-service-api:v2.14.0",
            "AppointmentReminderNotificationService",
            "0123456789abcdef0123456789abcdef",
            "--from-literal=PGHOST=... --from-literal=PGPORT=5432",
            "\"integrity\": \"sha512-Zx8Kq2Lm9Pw4Rt7Yv1Bn6Cd3Fg5Hj0Qm9Xr7TzL2pW8vK4nJ6h==\"",
        ] {
            assert_eq!(what(text), None, "{text}");
        }
    }

    #[test]
    fn masking_keeps_offsets() {
        let text = "a = \"xoxb-ü\"";
        // A range ending inside `ü` masks all of it.
        let range: Range<usize> = 5..11;
        let masked = mask(text, std::slice::from_ref(&range));
        assert_eq!(masked.len(), text.len());
        assert_eq!(masked, "a = \"*******\"");
    }
}
