//! The canonical formatting of `.rpc` files (`rpcgen fmt`).
//!
//! The layout: 4-space indentation; one field, variant or method per line, each ending in `,`
//! (methods in `;`); one blank line between top-level declarations; doc comments, then attributes,
//! each on its own line above what they describe; parameters on one line unless they have docs or
//! comments, or the line would pass 100 columns. Blank lines between members are kept (at most
//! one). Plain comments stay where they were: a comment that ended a line of code still ends the
//! same line; a comment on its own line stays on its own line before the same code.
//!
//! Comments are not in the syntax tree; the printer takes them from [`trivia::comments`] and
//! prints each one when it reaches the first piece of code (an "anchor") that follows it.

use std::path::Path;

use crate::ast::{
    self, AttrValue, Decorations, Field, Item, ItemKind, Method, Variant, VariantData,
};
use crate::diagnostic::Diagnostics;
use crate::source::{without_bom, SourceFiles};
use crate::trivia::{self, Comment};

/// Lines longer than this are split where the layout allows it.
const MAX_WIDTH: usize = 100;
const INDENT: &str = "    ";

/// Formats one file's text canonically; `path` only names the file in syntax errors. The result
/// has the line endings of the input's first line (`\r\n` in a Windows checkout, else `\n`) and
/// no byte order mark.
pub fn format_source(path: impl AsRef<Path>, text: &str) -> Result<String, Diagnostics> {
    let text = without_bom(text);
    let crlf = text.find('\n').is_some_and(|at| text[..at].ends_with('\r'));
    let text = &text.replace("\r\n", "\n");
    let mut files = SourceFiles::new();
    let file_id = files.add(path.as_ref(), text.to_string());
    let file = match ast::parse(file_id, text) {
        Ok(file) => file,
        Err(diagnostic) => return Err(Diagnostics::new(files, vec![diagnostic])),
    };
    let comments = trivia::comments(text)
        .into_iter()
        .filter(|comment| !comment.doc)
        .collect();
    let mut printer = Printer {
        text,
        comments,
        next_comment: 0,
        out: String::new(),
        depth: 0,
        can_append: false,
    };
    printer.file(&file);
    if crlf {
        Ok(printer.out.replace('\n', "\r\n"))
    } else {
        Ok(printer.out)
    }
}

/// How the next printed line is separated from the previous one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Gap {
    /// Exactly one blank line (between top-level declarations).
    Blank,
    /// A blank line where the source has one.
    AsWritten,
    /// No blank line (before a closing brace, between the doc lines of one declaration).
    Never,
}

/// Prints a syntax tree and the comments of its source.
struct Printer<'a> {
    text: &'a str,
    /// Plain comments, in order; `next_comment` is the first not printed yet.
    comments: Vec<Comment>,
    next_comment: usize,
    out: String,
    depth: usize,
    /// Whether a comment may be appended to the last line: not after a doc line or a `//`
    /// comment (it would become part of it).
    can_append: bool,
}

impl Printer<'_> {
    fn file(&mut self, file: &ast::File) {
        let package_start = file
            .docs
            .first()
            .map_or(file.package_span.start, |doc| doc.span.start);
        self.anchor(package_start, Gap::AsWritten);
        for doc in &file.docs {
            self.anchor(doc.span.start, Gap::Never);
            self.doc_line(&doc.text);
        }
        self.anchor(file.package.span.start, Gap::Never);
        self.line(&format!("package {};", file.package.text));
        for (index, import) in file.imports.iter().enumerate() {
            let gap = if index == 0 {
                Gap::Blank
            } else {
                Gap::AsWritten
            };
            self.anchor(import.span.start, gap);
            self.line(&format!("import {};", import.path.raw));
        }
        for item in &file.items {
            self.item(item);
        }
        self.anchor(self.text.len(), Gap::Never);
    }

    fn item(&mut self, item: &Item) {
        self.declaration_start(&item.decorations, item.span.start, Gap::Blank);
        let header = format!("{} {}", item.kind.keyword(), item.name.text);
        let close = item.span.end - 1;
        match &item.kind {
            ItemKind::Struct(fields) | ItemKind::Error(fields) => {
                self.block(&header, fields, close, "}", Self::field);
            }
            ItemKind::Enum(variants) => self.block(&header, variants, close, "}", Self::variant),
            ItemKind::Service(methods) => self.block(&header, methods, close, "}", Self::method),
        }
    }

    /// `header {`, the members one per line, then `end` (`}` or `},`); or `header {}` when
    /// there is nothing inside. `close` is where the closing `}` is in the source.
    fn block<T>(
        &mut self,
        header: &str,
        members: &[T],
        close: usize,
        end: &str,
        member: fn(&mut Self, &T),
    ) {
        if members.is_empty() && !self.has_comment_before(close) {
            self.line(&format!("{header} {{}}{}", &end[1..]));
            return;
        }
        self.line(&format!("{header} {{"));
        self.depth += 1;
        for each in members {
            member(self, each);
        }
        self.anchor(close, Gap::Never);
        self.depth -= 1;
        self.line(end);
    }

    /// Prints the comments, the gap, the doc lines and the attributes before a declaration whose
    /// own text (name or keyword) starts at `start`.
    fn declaration_start(&mut self, decorations: &Decorations, start: usize, gap: Gap) {
        let docs = decorations.docs.iter().map(|doc| doc.span.start);
        let attributes = decorations
            .attributes
            .iter()
            .map(|attribute| attribute.span.start);
        let first = docs.chain(attributes).min().unwrap_or(start);
        self.anchor(first, gap);
        for doc in &decorations.docs {
            // A comment met here ended an attribute line written before the docs, and that line
            // is printed after them: it goes on its own line.
            self.can_append = false;
            self.anchor(doc.span.start, Gap::Never);
            self.doc_line(&doc.text);
        }
        for attribute in &decorations.attributes {
            self.anchor(attribute.span.start, Gap::Never);
            let value = match &attribute.value {
                None => String::new(),
                Some(AttrValue::String(string)) => format!("({})", string.raw),
                Some(AttrValue::Duration(word) | AttrValue::Word(word)) => {
                    format!("({})", word.text)
                }
            };
            self.line(&format!("@{}{value}", attribute.name.text));
        }
        self.anchor(start, Gap::Never);
    }

    fn field(&mut self, field: &Field) {
        self.declaration_start(&field.decorations, field.name.span.start, Gap::AsWritten);
        self.line(&format!("{}: {},", field.name.text, field.ty));
    }

    fn variant(&mut self, variant: &Variant) {
        self.declaration_start(
            &variant.decorations,
            variant.name.span.start,
            Gap::AsWritten,
        );
        let name = &variant.name.text;
        match &variant.data {
            VariantData::Unit => self.line(&format!("{name},")),
            VariantData::Tuple(items) => {
                let items: Vec<String> = items.iter().map(ToString::to_string).collect();
                self.line(&format!("{name}({}),", items.join(", ")));
            }
            VariantData::Struct(fields, close) => {
                let inline = format!("{name} {{ {} }},", inline_fields(fields));
                if self.fits_inline(&inline, fields, variant.name.span.end, close.start) {
                    self.line(&inline);
                } else {
                    self.block(name, fields, close.start, "},", Self::field);
                }
            }
        }
    }

    fn method(&mut self, method: &Method) {
        self.declaration_start(&method.decorations, method.name.span.start, Gap::AsWritten);
        let name = &method.name.text;
        let mut tail = String::new();
        if let Some(returns) = &method.returns {
            tail.push_str(&format!(" -> {returns}"));
        }
        if !method.throws.is_empty() {
            let throws: Vec<String> = method.throws.iter().map(ToString::to_string).collect();
            tail.push_str(&format!(" throws {}", throws.join(", ")));
        }
        let inline = format!("{name}({}){tail};", inline_fields(&method.params));
        if method.params.is_empty()
            || self.fits_inline(
                &inline,
                &method.params,
                method.name.span.end,
                method.params_close.start,
            )
        {
            self.line(&inline);
            return;
        }
        self.line(&format!("{name}("));
        self.depth += 1;
        for param in &method.params {
            self.field(param);
        }
        self.anchor(method.params_close.start, Gap::Never);
        self.depth -= 1;
        self.line(&format!("){tail};"));
    }

    /// Whether a list of fields or parameters can stay on one line: no docs, attributes or
    /// comments among them, and short enough.
    fn fits_inline(&self, inline: &str, fields: &[Field], open: usize, close: usize) -> bool {
        let decorated = fields.iter().any(|field| {
            !field.decorations.docs.is_empty() || !field.decorations.attributes.is_empty()
        });
        let commented = self.comments[self.next_comment..]
            .iter()
            .any(|comment| comment.span.start > open && comment.span.start < close);
        !decorated && !commented && self.depth * INDENT.len() + inline.len() <= MAX_WIDTH
    }

    /// Prints every comment that starts before `position`, then the gap before the code there.
    fn anchor(&mut self, position: usize, gap: Gap) {
        let mut printed_own_line = false;
        while let Some(&comment) = self.comments.get(self.next_comment) {
            if comment.span.start >= position {
                break;
            }
            self.next_comment += 1;
            let comment_text = &self.text[comment.span.start..comment.span.end];
            if self.ends_a_line_of_code(comment) && self.can_append {
                self.out.pop();
                self.out.push(' ');
                self.out.push_str(comment_text);
                self.out.push('\n');
                self.can_append = !comment_text.starts_with("//");
                continue;
            }
            let comment_gap = if gap == Gap::Blank && !printed_own_line {
                Gap::Blank
            } else {
                Gap::AsWritten
            };
            self.pending_gap(comment_gap, comment.span.start);
            self.line(comment_text);
            self.can_append = !comment_text.starts_with("//");
            printed_own_line = true;
        }
        let anchor_gap = match gap {
            Gap::Blank if printed_own_line => Gap::AsWritten,
            other => other,
        };
        self.pending_gap(anchor_gap, position);
    }

    /// Adds a blank line before what starts at `position`, as the gap asks.
    fn pending_gap(&mut self, gap: Gap, position: usize) {
        let wanted = match gap {
            Gap::Blank => true,
            Gap::AsWritten => self.blank_line_before(position),
            Gap::Never => false,
        };
        let at_block_start =
            self.out.is_empty() || self.out.ends_with("{\n") || self.out.ends_with("(\n");
        if wanted && !at_block_start && !self.out.ends_with("\n\n") {
            self.out.push('\n');
        }
    }

    /// Whether the source has an empty line right before `position`.
    fn blank_line_before(&self, position: usize) -> bool {
        let before = &self.text[..position];
        let gap = &before[before.trim_end().len()..];
        gap.matches('\n').count() >= 2
    }

    /// Whether something other than whitespace precedes the comment on its line.
    fn ends_a_line_of_code(&self, comment: Comment) -> bool {
        let before = &self.text[..comment.span.start];
        let line_start = before.rfind('\n').map_or(0, |newline| newline + 1);
        !before[line_start..].trim().is_empty()
    }

    fn has_comment_before(&self, position: usize) -> bool {
        self.comments
            .get(self.next_comment)
            .is_some_and(|comment| comment.span.start < position)
    }

    fn doc_line(&mut self, text: &str) {
        if text.is_empty() {
            self.line("///");
        } else {
            self.line(&format!("/// {text}"));
        }
        self.can_append = false;
    }

    /// Prints one line (or a multi-line block comment) at the current depth.
    fn line(&mut self, content: &str) {
        for _ in 0..self.depth {
            self.out.push_str(INDENT);
        }
        self.out.push_str(content);
        self.out.push('\n');
        self.can_append = true;
    }
}

/// `a: T, b: U` for fields or parameters on one line.
fn inline_fields(fields: &[Field]) -> String {
    let fields: Vec<String> = fields
        .iter()
        .map(|field| format!("{}: {}", field.name.text, field.ty))
        .collect();
    fields.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn format(text: &str) -> String {
        format_source("test.rpc", text).unwrap_or_else(|errors| panic!("{errors}"))
    }

    #[test]
    fn lays_out_declarations_canonically() {
        let messy = "package   shop ;import \"a.rpc\";\n\n\n/// A ticket.\n@deprecated struct Ticket{id:u64,tags : list< string >?}\nenum P{Low,High}service S{get(id:u64)->Ticket throws E;}";
        let expected = "package shop;\n\nimport \"a.rpc\";\n\n/// A ticket.\n@deprecated\nstruct Ticket {\n    id: u64,\n    tags: list<string>?,\n}\n\nenum P {\n    Low,\n    High,\n}\n\nservice S {\n    get(id: u64) -> Ticket throws E;\n}\n";
        assert_eq!(format(messy), expected);
    }

    #[test]
    fn keeps_comments_where_they_were() {
        let text = "// header\npackage shop; // the package\n\n// about A\nstruct A {\n    a: u64, // trailing\n\n    /* before b */\n    b: u64,\n    // at the end\n}\n// the end\n";
        assert_eq!(format(text), text);
    }

    #[test]
    fn splits_parameters_with_docs_or_comments() {
        let text = "package a;\nservice S {\n    get(/// the id\n id: u64, name: string) -> u64;\n    put(a: u64, // first\n b: u64);\n}\n";
        let expected = "package a;\n\nservice S {\n    get(\n        /// the id\n        id: u64,\n        name: string,\n    ) -> u64;\n    put(\n        a: u64, // first\n        b: u64,\n    );\n}\n";
        assert_eq!(format(text), expected);
    }

    #[test]
    fn struct_variants_stay_inline_when_short() {
        let text = "package a;\nenum E { Closed { id: u64 }, Long { /// doc\n x: u64 } }";
        let expected = "package a;\n\nenum E {\n    Closed { id: u64 },\n    Long {\n        /// doc\n        x: u64,\n    },\n}\n";
        assert_eq!(format(text), expected);
    }

    #[test]
    fn formatting_is_idempotent() {
        let text = "package a; /* x */ /* y */\nstruct A { // open\n a: map<string, /* inner */ u64>, }\n/// doc\n\n// loose\nerror E {}";
        let once = format(text);
        assert_eq!(format(&once), once);
    }

    #[test]
    fn a_comment_after_an_attribute_written_before_the_docs_gets_its_own_line() {
        let text = "package a;\n@deprecated // why\n/// doc\nstruct A {\n    @name(\"x\") // wire\n    /// doc\n    a: u64,\n}\n";
        let expected = "package a;\n\n// why\n/// doc\n@deprecated\nstruct A {\n    // wire\n    /// doc\n    @name(\"x\")\n    a: u64,\n}\n";
        assert_eq!(format(text), expected);
        assert_eq!(format(expected), expected);
    }

    #[test]
    fn keeps_the_line_endings_of_the_first_line() {
        let windows = "package a;\r\n/* one\n two */\r\nstruct A {}";
        let formatted = "package a;\r\n\r\n/* one\r\n two */\r\nstruct A {}\r\n";
        assert_eq!(format(windows), formatted);
        assert_eq!(format(formatted), formatted);
        let unix = "package a;\n/* one\r\n two */\r\nstruct A {}\r\n";
        assert_eq!(format(unix), "package a;\n\n/* one\n two */\nstruct A {}\n");
    }

    #[test]
    fn drops_a_byte_order_mark() {
        assert_eq!(format("\u{feff}package a;\n"), "package a;\n");
    }

    #[test]
    fn reports_syntax_errors() {
        let errors = format_source("bad.rpc", "package a\n").unwrap_err();
        assert!(errors.to_string().contains("expected `;`"), "{errors}");
    }
}
