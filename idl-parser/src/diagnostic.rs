//! Errors about `.rpc` files, and how they are printed.
//!
//! A [`Diagnostic`] is one error: a message, labelled spans in source files and optional `help:`
//! and `note:` lines. [`Diagnostics`] is every error of one run together with the files they point
//! into; it renders like rustc (through `codespan-reporting` with ASCII characters):
//!
//! ```text
//! error: unknown type `Tiket`
//!  --> shop.rpc:4:11
//!   |
//! 4 |     item: Tiket,
//!   |           ^^^^^ not found in package `shop` or its imports
//!   |
//!   = help: did you mean `Ticket`?
//! ```

use std::collections::HashMap;
use std::fmt;
use std::ops::Range;

use codespan_reporting::diagnostic::{Diagnostic as CodespanDiagnostic, Label as CodespanLabel};
use codespan_reporting::files::{Error as FilesError, Files, Location, SimpleFile, SimpleFiles};
use codespan_reporting::term::{self, termcolor, Chars, Config, Styles, StylesWriter};

use crate::source::{FileId, SourceFiles, Span};

/// One error, with the places in the source it is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The headline, printed after `error: `.
    pub message: String,
    /// Marked spans; the primary ones are underlined with `^`, the others with `-`.
    pub labels: Vec<Label>,
    /// Printed as `= note: …` lines: background that explains the error.
    pub notes: Vec<String>,
    /// Printed as `= help: …` lines, after the notes: what to do about it.
    pub help: Vec<String>,
}

/// A span of a source file marked in a diagnostic, with a short message next to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    /// The file the span is in.
    pub file: FileId,
    /// The marked bytes; an empty span marks the position between two characters.
    pub span: Span,
    /// Text printed next to the mark (may be empty).
    pub message: String,
    /// Whether this is the place the error is about (`^`) or a related place (`-`).
    pub primary: bool,
}

impl Diagnostic {
    /// An error with a headline and nothing else yet.
    pub fn error(message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            message: message.into(),
            labels: Vec::new(),
            notes: Vec::new(),
            help: Vec::new(),
        }
    }

    /// Adds the place the error is about.
    pub fn primary(mut self, file: FileId, span: Span, message: impl Into<String>) -> Diagnostic {
        self.labels.push(Label {
            file,
            span,
            message: message.into(),
            primary: true,
        });
        self
    }

    /// Adds a related place (for example "first defined here").
    pub fn secondary(mut self, file: FileId, span: Span, message: impl Into<String>) -> Diagnostic {
        self.labels.push(Label {
            file,
            span,
            message: message.into(),
            primary: false,
        });
        self
    }

    /// Adds a `help:` line.
    pub fn help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help.push(help.into());
        self
    }

    /// Adds a `note:` line.
    pub fn note(mut self, note: impl Into<String>) -> Diagnostic {
        self.notes.push(note.into());
        self
    }

    /// The diagnostic for `codespan-reporting`, with its spans placed in `shown`.
    fn to_codespan(&self, shown: &ShownFiles<'_>) -> CodespanDiagnostic<usize> {
        let labels = self
            .labels
            .iter()
            .filter(|label| !shown.hides(label.file.0, label.span.start))
            .map(|label| {
                let range = shown.to_shown(label.file.0, label.span.start)
                    ..shown.to_shown(label.file.0, label.span.end);
                let marked = if label.primary {
                    CodespanLabel::primary(label.file.0, range)
                } else {
                    CodespanLabel::secondary(label.file.0, range)
                };
                marked.with_message(&label.message)
            })
            .collect();
        let notes = self
            .notes
            .iter()
            .map(|note| format!("note: {note}"))
            .chain(self.help.iter().map(|help| format!("help: {help}")))
            .collect();
        CodespanDiagnostic::error()
            .with_message(&self.message)
            .with_labels(labels)
            .with_notes(notes)
    }
}

/// Every error of one run, with the source files they point into.
#[derive(Debug, Clone)]
pub struct Diagnostics {
    files: SourceFiles,
    list: Vec<Diagnostic>,
}

impl Diagnostics {
    /// Errors about the given files.
    pub fn new(files: SourceFiles, list: Vec<Diagnostic>) -> Diagnostics {
        Diagnostics { files, list }
    }

    /// The errors, in the order they were found.
    pub fn list(&self) -> &[Diagnostic] {
        &self.list
    }

    /// The files the errors point into.
    pub fn files(&self) -> &SourceFiles {
        &self.files
    }

    /// Renders every error like rustc, each followed by a blank line; with ANSI colours when
    /// `colored`.
    pub fn render(&self, colored: bool) -> String {
        self.render_each(colored).concat()
    }

    /// Renders each error on its own, as [`Diagnostics::render`] would.
    pub fn render_each(&self, colored: bool) -> Vec<String> {
        let config = Config {
            chars: Chars::ascii(),
            ..Config::default()
        };
        let styles = Styles::default();
        self.list
            .iter()
            .map(|diagnostic| {
                let mut buffer = if colored {
                    termcolor::Buffer::ansi()
                } else {
                    termcolor::Buffer::no_color()
                };
                let mut writer = StylesWriter::new(&mut buffer, &styles);
                let shown = ShownFiles::new(self.files.as_codespan(), diagnostic);
                term::emit_to_write_style(
                    &mut writer,
                    &config,
                    &shown,
                    &diagnostic.to_codespan(&shown),
                )
                .expect("labels always point into registered files");
                String::from_utf8(buffer.into_inner()).expect("diagnostics are UTF-8")
            })
            .collect()
    }
}

/// Source lines longer than this many characters are shortened around the place they mark.
const LONG_LINE: usize = 120;
/// How many characters of a shortened line are shown before the place it marks.
const SHOWN_BEFORE: usize = 40;
/// What stands for the left-out part of a shortened line.
const ELLIPSIS: &str = "...";

/// The source files as one diagnostic shows them: each line longer than [`LONG_LINE`] that a
/// label starts on is cut to a window around its first primary (else first) label, with
/// [`ELLIPSIS`] for what is left out (labels there are not shown). Other lines, and the line and
/// column numbers printed in `-->`, stay those of the real files.
struct ShownFiles<'a> {
    files: &'a SimpleFiles<String, String>,
    /// The files with shortened lines, by id.
    shortened: HashMap<usize, ShortenedFile>,
}

/// A file's text with some lines shortened, and where.
struct ShortenedFile {
    file: SimpleFile<String, String>,
    /// The shortened lines, in order.
    cuts: Vec<Cut>,
}

/// One shortened line.
struct Cut {
    /// The line in the real text, without its line break.
    line: Range<usize>,
    /// The part of the line that is shown.
    kept: Range<usize>,
    /// Where `kept` starts in the shown text.
    shown_start: usize,
    /// How many bytes later (or, if negative, earlier) than in the real text the text after this
    /// line is in the shown one.
    shift_after: isize,
}

impl<'a> ShownFiles<'a> {
    /// Shortens the long lines that `diagnostic`'s labels start on.
    fn new(files: &'a SimpleFiles<String, String>, diagnostic: &Diagnostic) -> ShownFiles<'a> {
        let mut anchors: Vec<(usize, Range<usize>, usize)> = Vec::new();
        let primary_first = diagnostic
            .labels
            .iter()
            .filter(|label| label.primary)
            .chain(diagnostic.labels.iter().filter(|label| !label.primary));
        for label in primary_first {
            let Ok(file) = files.get(label.file.0) else {
                continue;
            };
            let line = line_around(file.source(), label.span.start);
            let long = file.source()[line.clone()].chars().count() > LONG_LINE;
            let known = anchors
                .iter()
                .any(|(id, known, _)| *id == label.file.0 && *known == line);
            if long && !known {
                anchors.push((label.file.0, line, label.span.start));
            }
        }
        anchors.sort_by_key(|(id, line, _)| (*id, line.start));
        let mut shortened: HashMap<usize, ShortenedFile> = HashMap::new();
        for (id, line, anchor) in anchors {
            let file = files.get(id).expect("the label's file was found above");
            let entry = shortened.entry(id).or_insert_with(|| ShortenedFile {
                file: SimpleFile::new(file.name().clone(), String::new()),
                cuts: Vec::new(),
            });
            entry.cuts.push(window(file.source(), line, anchor));
        }
        for (id, shortened_file) in &mut shortened {
            let file = files.get(*id).expect("the label's file was found above");
            let text = cut_text(file.source(), &mut shortened_file.cuts);
            shortened_file.file = SimpleFile::new(file.name().clone(), text);
        }
        ShownFiles { files, shortened }
    }

    /// Where a byte of a real file is in the shown text (a byte left out of a shortened line
    /// moves to the nearest shown one).
    fn to_shown(&self, id: usize, real: usize) -> usize {
        let Some(file) = self.shortened.get(&id) else {
            return real;
        };
        let mut shift = 0;
        for cut in &file.cuts {
            if real < cut.line.start {
                break;
            }
            if real <= cut.line.end {
                return cut.shown_start + real.clamp(cut.kept.start, cut.kept.end) - cut.kept.start;
            }
            shift = cut.shift_after;
        }
        real.saturating_add_signed(shift)
    }

    /// Whether a byte of a real file is left out of a shortened line (a label there is not
    /// shown).
    fn hides(&self, id: usize, real: usize) -> bool {
        self.shortened.get(&id).is_some_and(|file| {
            file.cuts
                .iter()
                .any(|cut| cut.line.contains(&real) && !cut.kept.contains(&real))
        })
    }

    /// Where a byte of the shown text is in the real file.
    fn to_real(&self, id: usize, shown: usize) -> usize {
        let Some(file) = self.shortened.get(&id) else {
            return shown;
        };
        let mut shift = 0;
        for cut in &file.cuts {
            if shown < cut.line.start.saturating_add_signed(shift) {
                break;
            }
            let kept_length = cut.kept.len();
            if shown <= cut.shown_start + kept_length + ELLIPSIS.len() {
                return cut.kept.start + shown.saturating_sub(cut.shown_start).min(kept_length);
            }
            shift = cut.shift_after;
        }
        shown.saturating_add_signed(-shift)
    }
}

/// The line that `position` is on, without its line break.
fn line_around(text: &str, position: usize) -> Range<usize> {
    let start = text[..position]
        .rfind('\n')
        .map_or(0, |newline| newline + 1);
    let end = text[position..]
        .find(['\n', '\r'])
        .map_or(text.len(), |offset| position + offset);
    start..end
}

/// The cut of a long `line` that shows [`SHOWN_BEFORE`] characters before `anchor` and fills
/// [`LONG_LINE`] characters in all.
fn window(text: &str, line: Range<usize>, anchor: usize) -> Cut {
    let start = text[line.start..anchor]
        .char_indices()
        .rev()
        .nth(SHOWN_BEFORE - 1)
        .map_or(line.start, |(offset, _)| line.start + offset);
    let end = text[start..line.end]
        .char_indices()
        .nth(LONG_LINE - 2 * ELLIPSIS.len())
        .map_or(line.end, |(offset, _)| start + offset);
    Cut {
        line,
        kept: start..end,
        shown_start: 0,
        shift_after: 0,
    }
}

/// The text with each cut line shortened; fills in where each cut is in it.
fn cut_text(text: &str, cuts: &mut [Cut]) -> String {
    let mut shown = String::with_capacity(text.len());
    let mut copied = 0;
    for cut in cuts {
        shown.push_str(&text[copied..cut.line.start]);
        if cut.kept.start > cut.line.start {
            shown.push_str(ELLIPSIS);
        }
        cut.shown_start = shown.len();
        shown.push_str(&text[cut.kept.clone()]);
        if cut.kept.end < cut.line.end {
            shown.push_str(ELLIPSIS);
        }
        copied = cut.line.end;
        cut.shift_after = shown.len() as isize - copied as isize;
    }
    shown.push_str(&text[copied..]);
    shown
}

/// The shown text for rendering, the real files for the line and column numbers.
impl<'a> Files<'a> for ShownFiles<'_> {
    type FileId = usize;
    type Name = String;
    type Source = &'a str;

    fn name(&'a self, id: usize) -> Result<String, FilesError> {
        self.files.name(id)
    }

    fn source(&'a self, id: usize) -> Result<&'a str, FilesError> {
        match self.shortened.get(&id) {
            Some(file) => Ok(file.file.source()),
            None => self.files.source(id),
        }
    }

    fn line_index(&'a self, id: usize, byte_index: usize) -> Result<usize, FilesError> {
        match self.shortened.get(&id) {
            Some(file) => file.file.line_index((), byte_index),
            None => self.files.line_index(id, byte_index),
        }
    }

    fn line_range(&'a self, id: usize, line_index: usize) -> Result<Range<usize>, FilesError> {
        match self.shortened.get(&id) {
            Some(file) => file.file.line_range((), line_index),
            None => self.files.line_range(id, line_index),
        }
    }

    fn location(&'a self, id: usize, byte_index: usize) -> Result<Location, FilesError> {
        self.files.location(id, self.to_real(id, byte_index))
    }
}

/// Renders without colours, as [`Diagnostics::render`] does.
impl fmt::Display for Diagnostics {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.render(false))
    }
}

impl std::error::Error for Diagnostics {}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn one_file(text: &str) -> (SourceFiles, FileId) {
        let mut files = SourceFiles::new();
        let id = files.add(Path::new("shop.rpc"), text.to_string());
        (files, id)
    }

    #[test]
    fn renders_like_rustc_with_help() {
        let (files, id) = one_file("package shop;\nstruct A { item: Tiket }\n");
        let diagnostic = Diagnostic::error("unknown type `Tiket`")
            .primary(id, Span::new(31, 36), "not found")
            .help("did you mean `Ticket`?");
        let text = Diagnostics::new(files, vec![diagnostic]).render(false);
        assert_eq!(
            text,
            "error: unknown type `Tiket`\n  \
             --> shop.rpc:2:18\n  \
             |\n\
             2 | struct A { item: Tiket }\n  \
             |                  ^^^^^ not found\n  \
             |\n  \
             = help: did you mean `Ticket`?\n\n"
        );
    }

    #[test]
    fn long_lines_are_shortened_around_the_mark() {
        let long_line = format!("struct A {{ {} x: Tiket }}", "a: u64, ".repeat(60));
        let (files, id) = one_file(&format!("package shop;\n{long_line}\n"));
        let start = 14 + long_line.find("Tiket").unwrap();
        let diagnostic = Diagnostic::error("unknown type `Tiket`")
            .primary(id, Span::new(start, start + 5), "not found")
            .secondary(id, Span::new(14, 20), "in here");
        let text = Diagnostics::new(files, vec![diagnostic]).render(false);
        let column = start - 14 + 1;
        assert!(text.contains(&format!("--> shop.rpc:2:{column}")), "{text}");
        assert!(text.contains("2 | ..."), "{text}");
        assert!(text.contains("a: u64,  x: Tiket }\n"), "{text}");
        assert!(text.contains("^^^^^ not found"), "{text}");
        assert!(!text.contains("in here"), "{text}");
        assert!(
            text.lines()
                .all(|line| line.chars().count() < LONG_LINE + 20),
            "{text}"
        );
    }

    #[test]
    fn colours_only_on_request() {
        let (files, id) = one_file("package shop;\n");
        let diagnostic = Diagnostic::error("boom").primary(id, Span::new(0, 7), "here");
        let diagnostics = Diagnostics::new(files, vec![diagnostic]);
        assert!(!diagnostics.render(false).contains('\u{1b}'));
        assert!(diagnostics.render(true).contains('\u{1b}'));
        assert_eq!(diagnostics.to_string(), diagnostics.render(false));
    }
}
