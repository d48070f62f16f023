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
            c if is_hidden(c) => literal.push_str(&unicode_escape(c)),
            c => literal.push(c),
        }
    }
    literal.push('"');
    literal
}

/// Whether `character` is written as an escape in a string literal rather than as itself: control
/// characters, and the invisible or direction-changing format characters (zero-width spaces,
/// bidirectional marks, overrides and isolates, line separators, the byte order mark) that ruff
/// refuses unescaped in source (PLE2502, PLE2515) because they make code read differently from
/// what it does.
fn is_hidden(character: char) -> bool {
    character.is_control()
        || matches!(
            character,
            '\u{061c}'
                | '\u{200b}'..='\u{200f}'
                | '\u{2028}'..='\u{202e}'
                | '\u{2060}'..='\u{2069}'
                | '\u{feff}'
        )
}

/// `\uXXXX` for a character of the Basic Multilingual Plane (every character escaped here is).
fn unicode_escape(character: char) -> String {
    format!("\\u{:04x}", u32::from(character))
}

/// A docstring, quotes included, for code indented by `indent` spaces, whose value is the text of
/// `paragraphs` exactly (once Python's docstring indentation is removed, as `inspect.cleandoc`
/// does): paragraphs are separated by a blank line, a line holding `\n` is several lines, and the
/// trailing whitespace of every line is dropped. The first line follows the opening quotes and a
/// multi-line docstring closes on a line of its own. Blank lines carry no indentation. Returns
/// `None` when there is no text. How the text is quoted is [`Quoting`]'s choice.
pub fn docstring(paragraphs: &[Vec<String>], indent: usize) -> Option<String> {
    let lines = docstring_lines(paragraphs);
    let (first, rest) = lines.split_first()?;
    let quoting = Quoting::for_lines(&lines);
    let one_line = rest.is_empty();
    let mut text = quoting.opening();
    text.push_str(&quoting.line(first, one_line));
    if one_line {
        text.push_str(&quoting.closing());
        return Some(text);
    }
    let margin = " ".repeat(indent);
    text.push('\n');
    for line in rest {
        if !line.is_empty() {
            text.push_str(&margin);
            text.push_str(&quoting.line(line, false));
        }
        text.push('\n');
    }
    text.push_str(&margin);
    text.push_str(&quoting.closing());
    Some(text)
}

/// The lines of a docstring's text: each paragraph without blank lines at either end, a blank
/// line between paragraphs, every line split at `\n` and without trailing whitespace.
fn docstring_lines(paragraphs: &[Vec<String>]) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for paragraph in paragraphs {
        let split: Vec<String> = paragraph
            .iter()
            .flat_map(|line| line.split('\n'))
            .map(|line| line.trim_end().to_string())
            .collect();
        let text = trim_blank_lines(&split);
        if text.is_empty() {
            continue;
        }
        if !lines.is_empty() {
            lines.push(String::new());
        }
        lines.extend_from_slice(text);
    }
    lines
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

/// How a docstring's text is quoted so that the string's value is that text and ruff's docstring
/// rules hold: `'''` when the text holds `"""` but not `'''` (D300), else `"""`; a raw string when
/// the text has a backslash and a raw string can hold the text as it is (D301); otherwise a plain
/// string in which each backslash, hidden character ([`is_hidden`]) and quote that would close the
/// string is a `\u` escape, the only escape D301 accepts outside raw strings.
struct Quoting {
    /// The quote character, tripled around the text.
    quote: char,
    /// Whether the text is written as it is, in a raw string.
    raw: bool,
}

impl Quoting {
    /// The quoting of a docstring of `lines` (a single line makes a one-line docstring).
    fn for_lines(lines: &[String]) -> Self {
        let holds = |text: &str| lines.iter().any(|line| line.contains(text));
        let quote = if holds("\"\"\"") && !holds("'''") {
            '\''
        } else {
            '"'
        };
        // A one-line docstring's last character touches the closing quotes.
        let touches_closing = lines.len() == 1 && lines[0].ends_with([quote, '\\']);
        let needs_escapes = holds(&quote.to_string().repeat(3))
            || touches_closing
            || lines.iter().any(|line| line.chars().any(is_hidden));
        Self {
            quote,
            raw: holds("\\") && !needs_escapes,
        }
    }

    /// The opening quotes, with the raw prefix if any.
    fn opening(&self) -> String {
        let prefix = if self.raw { "r" } else { "" };
        format!("{prefix}{}", self.closing())
    }

    /// The closing quotes.
    fn closing(&self) -> String {
        self.quote.to_string().repeat(3)
    }

    /// One line of the text as written between the quotes; `closes` when the closing quotes
    /// follow it on the same line.
    fn line(&self, line: &str, closes: bool) -> String {
        if self.raw {
            return line.to_string();
        }
        let mut written = String::with_capacity(line.len());
        let mut quotes_before = 0;
        let mut characters = line.chars().peekable();
        while let Some(character) = characters.next() {
            let last = characters.peek().is_none();
            let closes_string = character == self.quote && (quotes_before == 2 || (closes && last));
            if character == '\\' || is_hidden(character) || closes_string {
                written.push_str(&unicode_escape(character));
                quotes_before = 0;
            } else {
                written.push(character);
                quotes_before = if character == self.quote {
                    quotes_before + 1
                } else {
                    0
                };
            }
        }
        written
    }
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
            r#""""Sent as "x\u0022""""#
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
    fn docstrings_with_backslashes_are_raw_when_a_raw_string_can_hold_them() {
        let doc = |text: &[&str]| docstring(&[lines(text)], 0).unwrap();
        assert_eq!(doc(&[r"C:\temp"]), r#"r"""C:\temp""""#);
        assert_eq!(doc(&[r"a \n", r"b\"]), "r\"\"\"a \\n\nb\\\n\"\"\"");
        // A raw one-line docstring cannot end in a backslash or a quote.
        assert_eq!(doc(&[r"C:\"]), r#""""C:\u005c""""#);
        assert_eq!(doc(&[r#"\ "x""#]), r#""""\u005c "x\u0022""""#);
    }

    #[test]
    fn docstrings_holding_triple_quotes_use_the_other_quotes() {
        let doc = |text: &[&str]| docstring(&[lines(text)], 0).unwrap();
        assert_eq!(
            doc(&[r#"Ends """ here \n"#, "next"]),
            "r'''Ends \"\"\" here \\n\nnext\n'''"
        );
        assert_eq!(doc(&["It's '''"]), r#""""It's '''""""#);
        assert_eq!(
            doc(&[r#"Both """" and '''"#]),
            r#""""Both ""\u0022" and '''""""#
        );
        assert_eq!(doc(&[r#"x """ 'y'"#]), r#"'''x """ 'y\u0027'''"#);
    }

    #[test]
    fn docstrings_escape_hidden_characters() {
        let text = docstring(&[lines(&["tab\there\\", "bell\u{7} rlo\u{202e}"])], 0).unwrap();
        assert_eq!(
            text,
            "\"\"\"tab\\u0009here\\u005c\nbell\\u0007 rlo\\u202e\n\"\"\""
        );
    }

    #[test]
    fn docstring_lines_split_at_newlines_and_lose_trailing_whitespace() {
        let text = docstring(
            &[
                lines(&["Summary.  "]),
                lines(&["Deprecated: one  \n  two \n"]),
            ],
            4,
        )
        .unwrap();
        assert_eq!(
            text,
            "\"\"\"Summary.\n\n    Deprecated: one\n      two\n    \"\"\""
        );
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
