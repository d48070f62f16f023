//! Finds the comments of a file, which the parser skips but the formatter and syntax errors need,
//! and checks how deeply comments and types nest before the parser (which recurses for each
//! level) sees them.
//!
//! The scan is a loop over the bytes, without recursion, so no input can exhaust the stack here.

use crate::source::Span;

/// How deeply block comments (`/* /* */ */`) and types (`list<list<u64>>`) may nest.
pub(crate) const MAX_NESTING: usize = 100;

/// A `//` or `/* */` comment, or a `///` doc comment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Comment {
    /// The comment, from its first `/` to its end (the line break after `//` is not included).
    pub span: Span,
    /// Whether it is a `///` doc comment.
    pub doc: bool,
}

/// The first place where nesting goes deeper than [`MAX_NESTING`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TooDeep {
    /// The `/*` that opens one level too many, and the outermost `/*` when it is never closed.
    Comment { at: Span, unclosed: Option<Span> },
    /// The `<` that opens one level too many.
    Type { at: Span },
}

/// What one pass over a file's text finds outside strings.
#[derive(Debug, Default)]
pub(crate) struct Scan {
    /// Every comment, in order. A block comment that is never closed runs to the end of the text.
    pub comments: Vec<Comment>,
    /// The first nesting deeper than [`MAX_NESTING`], if any.
    pub too_deep: Option<TooDeep>,
}

/// Scans `text`, which may be any text, even text that does not parse.
pub(crate) fn scan(text: &str) -> Scan {
    let bytes = text.as_bytes();
    let mut found = Scan::default();
    let mut type_depth = 0;
    let mut index = 0;
    while index < bytes.len() {
        let rest = &bytes[index..];
        index = match rest {
            [b'"', ..] => string_end(bytes, index),
            [b'/', b'/', ..] => {
                let end = line_end(bytes, index);
                let doc = rest.starts_with(b"///") && !rest.starts_with(b"////");
                found.push(index, end, doc);
                end
            }
            [b'/', b'*', ..] => {
                let end = block_comment_end(bytes, index, &mut found.too_deep);
                found.push(index, end, false);
                end
            }
            [b'<', ..] => {
                type_depth += 1;
                if type_depth > MAX_NESTING && found.too_deep.is_none() {
                    found.too_deep = Some(TooDeep::Type {
                        at: Span::new(index, index + 1),
                    });
                }
                index + 1
            }
            // `->` is not a closing `>`; the other brackets and `;` never occur inside a type.
            [b'-', b'>', ..] => index + 2,
            [b'>', ..] => {
                type_depth = type_depth.saturating_sub(1);
                index + 1
            }
            [b';' | b'{' | b'}' | b'(' | b')', ..] => {
                type_depth = 0;
                index + 1
            }
            _ => index + 1,
        };
    }
    found
}

impl Scan {
    fn push(&mut self, start: usize, end: usize, doc: bool) {
        self.comments.push(Comment {
            span: Span::new(start, end),
            doc,
        });
    }
}

/// Every comment of `text`, in order (see [`scan`]).
pub(crate) fn comments(text: &str) -> Vec<Comment> {
    scan(text).comments
}

/// Where the line that `start` is on ends: at its line break, or at the end of the text.
fn line_end(bytes: &[u8], start: usize) -> usize {
    bytes[start..]
        .iter()
        .position(|byte| matches!(byte, b'\n' | b'\r'))
        .map_or(bytes.len(), |offset| start + offset)
}

/// Just past the string literal whose `"` is at `start`: after its closing `"`, or at the end of
/// its line when it has none (strings are on one line).
fn string_end(bytes: &[u8], start: usize) -> usize {
    let mut index = start + 1;
    while index < bytes.len() {
        match bytes[index] {
            b'"' => return index + 1,
            b'\n' | b'\r' => return index,
            b'\\' if matches!(bytes.get(index + 1), Some(b'"' | b'\\')) => index += 2,
            _ => index += 1,
        }
    }
    index
}

/// Just past the block comment whose `/*` is at `start` (its inner comments included), or the
/// end of the text when it is never closed. Records the first level deeper than
/// [`MAX_NESTING`] in `too_deep`, unless something is recorded there already.
fn block_comment_end(bytes: &[u8], start: usize, too_deep: &mut Option<TooDeep>) -> usize {
    let mut depth = 1;
    let mut deepest = None;
    let mut index = start + 2;
    while index < bytes.len() {
        match &bytes[index..] {
            [b'/', b'*', ..] => {
                depth += 1;
                if depth > MAX_NESTING && deepest.is_none() {
                    deepest = Some(Span::new(index, index + 2));
                }
                index += 2;
            }
            [b'*', b'/', ..] => {
                depth -= 1;
                index += 2;
                if depth == 0 {
                    break;
                }
            }
            _ => index += 1,
        }
    }
    if let (Some(at), None) = (deepest, &too_deep) {
        let unclosed = (depth > 0).then(|| Span::new(start, start + 2));
        *too_deep = Some(TooDeep::Comment { at, unclosed });
    }
    index
}

/// The end of the last token before `position`: steps back over whitespace and plain comments.
pub(crate) fn previous_token_end(text: &str, comments: &[Comment], position: usize) -> usize {
    let mut end = position;
    loop {
        end = text[..end].trim_end().len();
        match comments
            .iter()
            .find(|comment| !comment.doc && comment.span.end == end && end > 0)
        {
            Some(comment) => end = comment.span.start,
            None => return end,
        }
    }
}

/// The first doc comment starting at or before `limit` that follows code on its own line
/// (`a: u64, /// the id`). Plain comments before it do not count as code, and neither does an
/// opening `(` or `{` (`get(/// the id`): nothing before the comment could be meant there.
pub(crate) fn doc_after_code<'c>(
    text: &str,
    comments: &'c [Comment],
    limit: usize,
) -> Option<&'c Comment> {
    comments
        .iter()
        .take_while(|comment| comment.span.start <= limit)
        .filter(|comment| comment.doc)
        .find(|doc| {
            let code_end = previous_token_end(text, comments, doc.span.start);
            let opening = text[..code_end].ends_with(['(', '{']);
            code_end > 0 && !opening && !text[code_end..doc.span.start].contains('\n')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_line_block_and_doc_comments_but_not_strings() {
        let text = "// a\n/* b /* c */ */ import \"//x\"; /// d\n//// e";
        let found: Vec<(&str, bool)> = comments(text)
            .iter()
            .map(|comment| (&text[comment.span.start..comment.span.end], comment.doc))
            .collect();
        assert_eq!(
            found,
            [
                ("// a", false),
                ("/* b /* c */ */", false),
                ("/// d", true),
                ("//// e", false)
            ]
        );
    }

    #[test]
    fn nesting_deeper_than_the_limit_is_found_without_recursion() {
        let deep_comment = format!("{}{}", "/*".repeat(20_000), "*/".repeat(20_000));
        assert_eq!(
            scan(&deep_comment).too_deep,
            Some(TooDeep::Comment {
                at: Span::new(2 * MAX_NESTING, 2 * MAX_NESTING + 2),
                unclosed: None
            })
        );
        let unclosed = "/*".repeat(20_000);
        assert!(matches!(
            scan(&unclosed).too_deep,
            Some(TooDeep::Comment { unclosed: Some(span), .. }) if span == Span::new(0, 2)
        ));
        let limit = format!(
            "a: {}u64{} -> x",
            "list<".repeat(MAX_NESTING),
            ">".repeat(MAX_NESTING)
        );
        assert_eq!(scan(&format!("{limit}; {limit}")).too_deep, None);
        let deeper = format!("a: {}u64", "list<".repeat(MAX_NESTING + 1));
        let at = deeper.rfind('<').unwrap();
        assert_eq!(
            scan(&deeper).too_deep,
            Some(TooDeep::Type {
                at: Span::new(at, at + 1)
            })
        );
    }

    #[test]
    fn a_doc_comment_after_code_on_its_line_is_found() {
        let text =
            "package a; /* c */\n/// own line\nstruct A { /// first\n a: u64, /// trailing\n}";
        let comments = comments(text);
        let doc = doc_after_code(text, &comments, text.len()).expect("a trailing doc");
        assert_eq!(&text[doc.span.start..doc.span.end], "/// trailing");
        assert_eq!(doc_after_code(text, &comments, doc.span.start - 1), None);
    }

    #[test]
    fn previous_token_end_skips_comments_and_blanks() {
        let text = "package a // note\n /* more */\n struct";
        let position = text.find("struct").unwrap();
        let end = previous_token_end(text, &comments(text), position);
        assert_eq!(&text[..end], "package a");
    }
}
