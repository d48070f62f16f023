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

use std::fmt;

use codespan_reporting::diagnostic::{Diagnostic as CodespanDiagnostic, Label as CodespanLabel};
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

    fn to_codespan(&self) -> CodespanDiagnostic<usize> {
        let labels = self
            .labels
            .iter()
            .map(|label| {
                let range = label.span.start..label.span.end;
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
                term::emit_to_write_style(
                    &mut writer,
                    &config,
                    self.files.as_codespan(),
                    &diagnostic.to_codespan(),
                )
                .expect("labels always point into registered files");
                String::from_utf8(buffer.into_inner()).expect("diagnostics are UTF-8")
            })
            .collect()
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
    fn colours_only_on_request() {
        let (files, id) = one_file("package shop;\n");
        let diagnostic = Diagnostic::error("boom").primary(id, Span::new(0, 7), "here");
        let diagnostics = Diagnostics::new(files, vec![diagnostic]);
        assert!(!diagnostics.render(false).contains('\u{1b}'));
        assert!(diagnostics.render(true).contains('\u{1b}'));
        assert_eq!(diagnostics.to_string(), diagnostics.render(false));
    }
}
