//! Python source text: string literals, docstrings and the line layout of long constructs.
//!
//! Everything here is about how text is written, not about what it means, so the view models can
//! hand the template finished pieces of code.

/// Longest line the generator aims for (user doc lines are kept as written, whatever their length).
const LINE_LIMIT: usize = 100;

/// Spaces per indentation level.
pub const INDENT: usize = 4;

/// A Python string literal for `text`, in double quotes, with every character that needs it
/// escaped.
pub fn string_literal(text: &str) -> String {
    let mut literal = String::with_capacity(text.len() + 2);
    literal.push('"');
    for character in text.chars() {
        match character {
            '"' => literal.push_str("\\\""),
            '\\' => literal.push_str("\\\\"),
            '\n' => literal.push_str("\\n"),
            '\r' => literal.push_str("\\r"),
            '\t' => literal.push_str("\\t"),
            c if c.is_control() => literal.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => literal.push(c),
        }
    }
    literal.push('"');
    literal
}

/// A docstring, quotes included, for code indented by `indent` spaces: paragraphs are separated
/// by a blank line, the first line follows the opening quotes and a multi-line docstring closes on
/// a line of its own. Blank lines carry no indentation. Returns `None` when there is no text.
pub fn docstring(paragraphs: &[Vec<String>], indent: usize) -> Option<String> {
    let mut lines: Vec<String> = Vec::new();
    for paragraph in paragraphs {
        let text = trim_blank_lines(paragraph);
        if text.is_empty() {
            continue;
        }
        if !lines.is_empty() {
            lines.push(String::new());
        }
        lines.extend(
            text.iter()
                .map(|line| escape_docstring_line(line.trim_end())),
        );
    }
    let (first, rest) = lines.split_first()?;
    if rest.is_empty() {
        let ends_in_quote = first.ends_with('"') && !first.ends_with("\\\"");
        let first = if ends_in_quote {
            format!("{}\\\"", &first[..first.len() - 1])
        } else {
            first.clone()
        };
        return Some(format!("\"\"\"{first}\"\"\""));
    }
    let margin = " ".repeat(indent);
    let mut text = format!("\"\"\"{first}\n");
    for line in rest {
        if !line.is_empty() {
            text.push_str(&margin);
            text.push_str(line);
        }
        text.push('\n');
    }
    text.push_str(&margin);
    text.push_str("\"\"\"");
    Some(text)
}

/// The lines of `lines` without the blank ones at either end.
fn trim_blank_lines(lines: &[String]) -> &[String] {
    let start = lines
        .iter()
        .position(|line| !line.trim().is_empty())
        .unwrap_or(lines.len());
    let end = lines
        .iter()
        .rposition(|line| !line.trim().is_empty())
        .map_or(start, |last| last + 1);
    &lines[start..end]
}

/// One line of docstring text: backslashes are doubled and `"""` cannot close the string early.
fn escape_docstring_line(line: &str) -> String {
    line.replace('\\', "\\\\").replace("\"\"\"", "\\\"\\\"\\\"")
}

/// How [`bracketed`] lays out its items.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// On one line when that fits in the line limit, else one item per line.
    Fit,
    /// Always one item per line.
    Split,
}

/// `head` + the items separated by commas + `tail`, where `head` ends with an opening bracket and
/// `tail` starts with the closing one (`def get(` … `) -> Ticket:`). Split over several lines, each
/// item is on its own line one level deeper than `indent`, with a trailing comma, as ruff formats
/// it. The first line carries no indentation (the template places it).
pub fn bracketed(
    indent: usize,
    head: &str,
    items: &[String],
    tail: &str,
    layout: Layout,
) -> String {
    let one_line = format!("{head}{}{tail}", items.join(", "));
    let fits = indent + one_line.len() <= LINE_LIMIT && !one_line.contains('\n');
    if items.is_empty() || (layout == Layout::Fit && fits) {
        return one_line;
    }
    let inner = " ".repeat(indent + INDENT);
    let mut text = format!("{head}\n");
    for item in items {
        text.push_str(&inner);
        text.push_str(item);
        text.push_str(",\n");
    }
    text.push_str(&" ".repeat(indent));
    text.push_str(tail);
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &[&str]) -> Vec<String> {
        text.iter().map(|line| line.to_string()).collect()
    }

    #[test]
    fn string_literals_escape_what_python_needs() {
        assert_eq!(string_literal("plain"), r#""plain""#);
        assert_eq!(string_literal(r#"a "b" \c"#), r#""a \"b\" \\c""#);
        assert_eq!(string_literal("line\nnext\ttab"), r#""line\nnext\ttab""#);
        assert_eq!(string_literal("bell\u{7}"), r#""bell\u0007""#);
        assert_eq!(string_literal("héllo ✓"), "\"héllo ✓\"");
    }

    #[test]
    fn one_line_docstrings() {
        assert_eq!(
            docstring(&[lines(&["A ticket."])], 4).unwrap(),
            r#""""A ticket.""""#
        );
        assert_eq!(
            docstring(&[lines(&[r#"Sent as "x""#])], 0).unwrap(),
            r#""""Sent as "x\"""""#
        );
        assert_eq!(docstring(&[lines(&["", "  "]), vec![]], 0), None);
    }

    #[test]
    fn multi_line_docstrings_indent_their_lines_but_not_blank_ones() {
        let text = docstring(
            &[
                lines(&["Summary.", "", "  Indented   "]),
                lines(&["Raises:"]),
            ],
            4,
        )
        .unwrap();
        assert_eq!(
            text,
            "\"\"\"Summary.\n\n      Indented\n\n    Raises:\n    \"\"\""
        );
    }

    #[test]
    fn docstrings_cannot_be_closed_or_escaped_by_their_text() {
        let text = docstring(&[lines(&[r#"Ends """ here \n"#, "next"])], 0).unwrap();
        assert_eq!(text, "\"\"\"Ends \\\"\\\"\\\" here \\\\n\nnext\n\"\"\"");
    }

    #[test]
    fn bracketed_items_fit_on_one_line_or_split() {
        let items = lines(&["self", "id: int"]);
        assert_eq!(
            bracketed(4, "def get(", &items, ") -> Ticket:", Layout::Fit),
            "def get(self, id: int) -> Ticket:"
        );
        assert_eq!(
            bracketed(0, "f(", &items, ")", Layout::Split),
            "f(\n    self,\n    id: int,\n)"
        );
        let long: Vec<String> = (0..20).map(|n| format!("parameter_{n}: int")).collect();
        let text = bracketed(4, "def f(", &long, ") -> None:", Layout::Fit);
        assert!(
            text.starts_with("def f(\n        parameter_0: int,\n"),
            "{text}"
        );
        assert!(text.ends_with(",\n    ) -> None:"), "{text}");
        assert_eq!(bracketed(0, "f(", &[], ")", Layout::Split), "f()");
    }
}
