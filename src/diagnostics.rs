//! Problems found in a spec, and their rendering as miette diagnostics that
//! underline the key or value in the TOML text and say how to fix it.
//!
//! Checks produce [`Problem`]s that locate themselves by JSON pointer; only
//! rendering needs the [`SpanIndex`] and the text, so every check stays a pure
//! function of the parsed spec.

use std::fmt;
use std::ops::Range;
use std::sync::Arc;

use miette::{
    Diagnostic, GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteError,
    MietteSpanContents, SourceCode, SourceSpan, SpanContents,
};

use crate::codes::Code;
use crate::secrets;
use crate::source::{SourceFile, SpanIndex};

/// Where a label points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum At {
    /// The key at this JSON pointer (or its table, when the key is missing).
    Key(String),
    /// The value at this JSON pointer.
    Value(String),
    /// A byte range in the text.
    Span(Range<usize>),
}

/// A note on a place in the spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    pub at: At,
    pub text: String,
}

impl Label {
    pub fn key(pointer: impl Into<String>, text: impl Into<String>) -> Self {
        Label {
            at: At::Key(pointer.into()),
            text: text.into(),
        }
    }
    pub fn value(pointer: impl Into<String>, text: impl Into<String>) -> Self {
        Label {
            at: At::Value(pointer.into()),
            text: text.into(),
        }
    }
    pub fn span(span: Range<usize>, text: impl Into<String>) -> Self {
        Label {
            at: At::Span(span),
            text: text.into(),
        }
    }
}

/// How bad a [`Problem`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Level {
    /// The spec is invalid: nothing is generated.
    #[default]
    Error,
    /// The spec is valid and generates, but asks for something the output
    /// can only partly give (or gives at a cost): printed, counted, and an
    /// error only under `--deny-warnings`.
    Warning,
}

/// One error (or warning) in a spec: what is wrong, where, and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// What kind of problem, shown as `harden::<code>`.
    pub code: Code,
    pub level: Level,
    pub message: String,
    pub labels: Vec<Label>,
    pub help: Option<String>,
}

impl Problem {
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Problem {
            code,
            level: Level::Error,
            message: message.into(),
            labels: Vec::new(),
            help: None,
        }
    }

    /// A warning: reported, but the spec stays valid.
    pub fn warning(code: Code, message: impl Into<String>) -> Self {
        Problem {
            level: Level::Warning,
            ..Problem::new(code, message)
        }
    }

    pub fn is_warning(&self) -> bool {
        self.level == Level::Warning
    }

    pub fn with_label(mut self, label: Label) -> Self {
        self.labels.push(label);
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// The pointer of the first label, used to order problems by position.
    fn first_offset(&self, index: &SpanIndex) -> usize {
        self.labels
            .first()
            .map(|l| resolve(&l.at, index).start)
            .unwrap_or(0)
    }
}

fn resolve(at: &At, index: &SpanIndex) -> Range<usize> {
    match at {
        At::Key(p) => index.key_span(p),
        At::Value(p) => index.value_span(p),
        At::Span(s) => s.clone(),
    }
}

/// The spec's text as miette reads it, with an index of where each line
/// starts: a frame is read from a window of a few lines around its span,
/// so rendering many diagnostics stays linear in the text (miette's own
/// reading scans from the start of the text for every frame).
#[derive(Debug)]
struct Text {
    name: String,
    text: Arc<String>,
    line_starts: Arc<Vec<usize>>,
}

impl Text {
    fn new(name: String, text: String) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Text {
            name,
            text: Arc::new(text),
            line_starts: Arc::new(line_starts),
        }
    }

    fn line_of(&self, offset: usize) -> usize {
        self.line_starts
            .partition_point(|&s| s <= offset)
            .saturating_sub(1)
    }
}

impl Clone for Text {
    fn clone(&self) -> Self {
        Text {
            name: self.name.clone(),
            text: Arc::clone(&self.text),
            line_starts: Arc::clone(&self.line_starts),
        }
    }
}

impl SourceCode for Text {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        before: usize,
        after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let first = self.line_of(span.offset()).saturating_sub(before + 1);
        let last = self.line_of(span.offset() + span.len()) + after + 2;
        let start = self.line_starts[first];
        let end = self
            .line_starts
            .get(last)
            .copied()
            .unwrap_or(self.text.len());
        let window = self
            .text
            .as_bytes()
            .get(start..end)
            .ok_or(MietteError::OutOfBounds)?;
        let local = SourceSpan::new((span.offset().saturating_sub(start)).into(), span.len());
        let contents = window.read_span(&local, before, after)?;
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.clone(),
            contents.data(),
            (contents.span().offset() + start, contents.span().len()).into(),
            contents.line() + first,
            contents.column(),
            contents.line_count(),
        )))
    }
}

/// A [`Problem`] bound to its source text, ready for miette.
#[derive(Debug)]
pub struct Located {
    problem: Problem,
    spans: Vec<Range<usize>>,
    /// The first label's line and column in the spec (1-based; the column in
    /// characters), for annotations that point at a place without drawing it.
    position: Option<(usize, usize)>,
    source: Text,
}

impl fmt::Display for Located {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.problem.message)
    }
}

impl std::error::Error for Located {}

impl Located {
    pub fn problem(&self) -> &Problem {
        &self.problem
    }

    /// The spec file's name as the user gave it.
    pub fn file(&self) -> &str {
        &self.source.name
    }

    /// The line and column (1-based, the column in characters) the problem points at.
    pub fn position(&self) -> Option<(usize, usize)> {
        self.position
    }
}

impl Diagnostic for Located {
    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.problem.level {
            Level::Error => miette::Severity::Error,
            Level::Warning => miette::Severity::Warning,
        })
    }

    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(format!("harden::{}", self.problem.code.as_str())))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.problem
            .help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        Some(&self.source)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(self.problem.labels.iter().zip(&self.spans).map(
            |(label, span)| LabeledSpan::new(Some(label.text.clone()), span.start, span.len()),
        )))
    }
}

/// Binds problems to the file they were found in, ordered by position.
pub fn locate(mut problems: Vec<Problem>, file: &SourceFile, index: &SpanIndex) -> Vec<Located> {
    problems.sort_by_key(|p| p.first_offset(index));
    problems.dedup();
    // No secret is shown: not in the frame of its own problem, not as
    // another's context line, not quoted in any message.
    let mut hidden: Vec<Range<usize>> = secrets::find_all(&file.text)
        .into_iter()
        .map(|f| f.range)
        .collect();
    for problem in problems.iter().filter(|p| p.code.masks_value()) {
        for label in &problem.labels {
            if !matches!(label.at, At::Key(_)) {
                hidden.push(unquoted(&file.text, resolve(&label.at, index)));
            }
        }
    }
    let values: Vec<String> = hidden
        .iter()
        .filter_map(|r| file.text.get(r.clone()))
        .filter(|v| v.len() >= 4)
        .map(str::to_string)
        .collect();
    for problem in &mut problems {
        redact(&mut problem.message, &values);
        if let Some(help) = &mut problem.help {
            redact(help, &values);
        }
        for label in &mut problem.labels {
            redact(&mut label.text, &values);
        }
    }
    let text = secrets::mask(&file.text, &hidden);
    let source = Text::new(file.name.clone(), text);
    problems
        .into_iter()
        .map(|problem| Located {
            position: problem
                .labels
                .first()
                .map(|l| line_and_column(&file.text, resolve(&l.at, index).start)),
            spans: problem
                .labels
                .iter()
                .map(|l| drawable(&file.text, resolve(&l.at, index)))
                .collect(),
            problem,
            source: source.clone(),
        })
        .collect()
}

/// The 1-based line and character column of byte `offset` in `text`.
fn line_and_column(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (
        before.matches('\n').count() + 1,
        before[line_start..].chars().count() + 1,
    )
}

/// The widest column or span miette is given to draw: it pads to a span's
/// column with a format width, which panics past 65,535.
const MAX_DRAWN_COLUMNS: usize = 4096;

/// `span`, drawable: one that starts far along a very long line points at
/// the line's start instead, and none is wider than [`MAX_DRAWN_COLUMNS`].
fn drawable(text: &str, span: Range<usize>) -> Range<usize> {
    let start = span.start.min(text.len());
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let start = if start - line_start > MAX_DRAWN_COLUMNS {
        line_start
    } else {
        start
    };
    let mut end = span
        .end
        .clamp(start, text.len())
        .min(start + MAX_DRAWN_COLUMNS);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    start..end
}

/// A value's span without its quotes, so the frame shows `"****"`.
fn unquoted(text: &str, span: Range<usize>) -> Range<usize> {
    let Some(value) = text.get(span.clone()) else {
        return span;
    };
    for quote in ["\"\"\"", "'''", "\"", "'"] {
        if value.len() >= 2 * quote.len() && value.starts_with(quote) && value.ends_with(quote) {
            return span.start + quote.len()..span.end - quote.len();
        }
    }
    span
}

/// Every occurrence of a hidden value in `text` replaced by `****`.
fn redact(text: &mut String, values: &[String]) {
    for value in values {
        if text.contains(value.as_str()) {
            *text = text.replace(value.as_str(), "****");
        }
    }
}

/// How diagnostics are drawn.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    pub color: bool,
    pub width: usize,
}

impl Style {
    /// Colour on a terminal unless `NO_COLOR` is set; the terminal's width.
    pub fn for_stderr() -> Self {
        use std::io::IsTerminal;
        let tty = std::io::stderr().is_terminal();
        Style {
            color: tty && std::env::var_os("NO_COLOR").is_none(),
            width: if tty { 100 } else { 80 },
        }
    }

    /// No colour, 80 columns: stable for tests and logs.
    pub fn plain() -> Self {
        Style {
            color: false,
            width: 80,
        }
    }
}

/// Renders diagnostics one after another, as miette draws them.
pub fn render(diagnostics: &[Located], style: Style) -> String {
    let theme = if style.color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(style.width)
        .with_links(false);
    let mut out = String::new();
    for diagnostic in diagnostics {
        // Writing to a String cannot fail.
        let _ = handler.render_report(&mut out, diagnostic);
        out.push('\n');
    }
    out
}

/// The closest of `candidates` to `word`, if any is close enough to be a likely typo.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    close_matches(word, candidates, 1).into_iter().next()
}

/// The `n` candidates closest to `word` (Jaro-Winkler above 0.8), closest
/// first: what a misspelt name probably meant.
pub fn close_matches<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
    n: usize,
) -> Vec<&'a str> {
    let mut scored: Vec<(f64, &str)> = candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(word, c), c))
        .filter(|(score, _)| *score > 0.8)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
    scored.into_iter().take(n).map(|(_, c)| c).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_lines_and_characters_from_one() {
        let text = "a = 1\nété = 2\n";
        assert_eq!(line_and_column(text, 0), (1, 1));
        assert_eq!(line_and_column(text, 6), (2, 1));
        // After "été " (4 characters, 6 bytes): column 5.
        assert_eq!(line_and_column(text, 12), (2, 5));
        assert_eq!(line_and_column(text, 999), (3, 1));
    }

    #[test]
    fn suggests_close_names_only() {
        let keys = ["availability", "latency", "window"];
        assert_eq!(did_you_mean("availabilty", keys), Some("availability"));
        assert_eq!(did_you_mean("zzz", keys), None);
    }
}
