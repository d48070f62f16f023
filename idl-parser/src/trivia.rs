//! Finds the comments of a file, which the parser skips but the formatter and syntax errors need.

use pest::Parser as _;

use crate::grammar::{RpcParser, Rule};
use crate::source::Span;

/// A `//` or `/* */` comment, or a `///` doc comment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Comment {
    /// The comment, from its first `/` to its end (the line break after `//` is not included).
    pub span: Span,
    /// Whether it is a `///` doc comment.
    pub doc: bool,
}

/// Every comment of `text`, in order. Works on any text, even text that does not parse, because
/// the scanning rule accepts every character.
pub(crate) fn comments(text: &str) -> Vec<Comment> {
    let scan = RpcParser::parse(Rule::comment_scan, text)
        .expect("comment_scan accepts any text")
        .next()
        .expect("comment_scan produces one pair");
    scan.into_inner()
        .filter_map(|pair| {
            let doc = match pair.as_rule() {
                Rule::comment => false,
                Rule::doc_comment => true,
                _ => return None,
            };
            Some(Comment {
                span: pair.as_span().into(),
                doc,
            })
        })
        .collect()
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
