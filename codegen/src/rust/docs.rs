//! Doc comments and deprecation notes: IDL `///` lines become `#[doc]` attributes (printed back as
//! `///`), and `@deprecated` becomes `#[deprecated]`.
//!
//! IDL docs are prose for every language, so a code block in them is not a Rust doctest: rustdoc
//! would compile and run it in the user's crate, where it fails. Code blocks are found with
//! pulldown-cmark, the Markdown parser rustdoc itself uses, and rewritten:
//! - a fence without a language becomes ```` ```text ````;
//! - a fence that rustdoc would test (`rust`, `no_run`, `should_panic`, …) becomes
//!   ```` ```rust,ignore ```` (still highlighted, never run);
//! - an indented code block becomes a ```` ```text ```` fence;
//! - any other fence (```` ```python ````) is left alone.

use std::ops::Range;

use proc_macro2::TokenStream;
use pulldown_cmark::{CodeBlockKind, Event, Parser, Tag};
use quote::quote;

/// `#[doc]` attributes for doc lines, code blocks made safe for rustdoc.
pub(super) fn doc_attributes(lines: &[String]) -> TokenStream {
    let lines = rustdoc_lines(lines);
    let attributes = lines.iter().map(|line| {
        let text = if line.is_empty() {
            String::new()
        } else {
            format!(" {line}")
        };
        quote!(#[doc = #text])
    });
    quote!(#(#attributes)*)
}

/// `#[doc]` attributes for text the backend writes itself (never containing code blocks).
pub(super) fn generated_doc(text: &str) -> TokenStream {
    let lines: Vec<String> = text.lines().map(str::to_string).collect();
    doc_attributes(&lines)
}

/// `#[deprecated]`, with the reason as its note when there is one.
pub(super) fn deprecated_attribute(deprecated: Option<&String>) -> TokenStream {
    match deprecated {
        None => TokenStream::new(),
        Some(reason) if reason.is_empty() => quote!(#[deprecated]),
        Some(reason) => quote!(#[deprecated(note = #reason)]),
    }
}

/// The doc text as introspection shows it: the lines as written, or `None` without docs.
pub(super) fn plain_text(lines: &[String]) -> Option<String> {
    (!lines.is_empty()).then(|| lines.join("\n"))
}

/// The lines with every code block rewritten so that rustdoc never runs it.
pub(super) fn rustdoc_lines(lines: &[String]) -> Vec<String> {
    let mut lines = lines.to_vec();
    if !lines.iter().any(|line| might_start_code(line)) {
        return lines;
    }
    let text = lines.join("\n");
    let line_starts: Vec<usize> = std::iter::once(0)
        .chain(text.match_indices('\n').map(|(at, _)| at + 1))
        .collect();
    let line_of = |offset: usize| line_starts.partition_point(|&start| start <= offset) - 1;
    let mut indented_blocks: Vec<Range<usize>> = Vec::new();
    for (event, range) in Parser::new(&text).into_offset_iter() {
        let Event::Start(Tag::CodeBlock(kind)) = event else {
            continue;
        };
        let first = line_of(range.start);
        match kind {
            CodeBlockKind::Fenced(info) => {
                if let Some(safe) = safe_info(&info) {
                    lines[first] = with_info(&lines[first], safe);
                }
            }
            CodeBlockKind::Indented => {
                let last = line_of(range.end.saturating_sub(1).max(range.start));
                indented_blocks.push(first..last + 1);
            }
        }
    }
    // From the last block back, so earlier line numbers stay valid.
    for block in indented_blocks.into_iter().rev() {
        fence_indented_block(&mut lines, block);
    }
    lines
}

/// A cheap test that skips the Markdown parser for the usual doc without code.
fn might_start_code(line: &str) -> bool {
    let trimmed = line.trim_start();
    trimmed.starts_with("```")
        || trimmed.starts_with("~~~")
        || line.starts_with("    ")
        || line.starts_with('\t')
}

/// The info string that keeps a fenced block from running as a doctest, or `None` when rustdoc
/// already treats it as another language (or ignores it).
fn safe_info(info: &str) -> Option<&'static str> {
    let tokens: Vec<&str> = info
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|token| !token.is_empty())
        .collect();
    if tokens.is_empty() {
        return Some("text");
    }
    let tested = tokens.iter().all(|token| is_rustdoc_attribute(token));
    let ignored = tokens.iter().any(|token| token.starts_with("ignore"));
    (tested && !ignored).then_some("rust,ignore")
}

/// Whether rustdoc reads a fence token as one of its own attributes (so the block is Rust).
fn is_rustdoc_attribute(token: &str) -> bool {
    let error_code = token.len() == 5
        && token.starts_with('E')
        && token[1..].bytes().all(|byte| byte.is_ascii_digit());
    matches!(
        token,
        "rust" | "should_panic" | "no_run" | "test_harness" | "compile_fail" | "standalone_crate"
    ) || token.starts_with("edition")
        || token.starts_with("ignore")
        || error_code
}

/// The fence line with its info string replaced.
fn with_info(line: &str, info: &str) -> String {
    let indent = line.len() - line.trim_start().len();
    let fence_char = line[indent..].chars().next().unwrap_or('`');
    let fence_len = line[indent..]
        .chars()
        .take_while(|&c| c == fence_char)
        .count();
    format!("{}{info}", &line[..indent + fence_len])
}

/// Wraps an indented code block in a ```` ```text ```` fence, removing the four columns of
/// indentation that made it code.
fn fence_indented_block(lines: &mut Vec<String>, block: Range<usize>) {
    let code_indent = lines[block.clone()]
        .iter()
        .filter(|line| !line.trim().is_empty())
        .map(|line| line.len() - line.trim_start_matches([' ', '\t']).len())
        .min()
        .unwrap_or(4);
    let container = " ".repeat(code_indent.saturating_sub(4));
    let mut fenced = vec![format!("{container}```text")];
    for line in &lines[block.clone()] {
        let strip = code_indent.min(line.len() - line.trim_start_matches([' ', '\t']).len());
        let content = &line[strip..];
        fenced.push(if content.is_empty() {
            String::new()
        } else {
            format!("{container}{content}")
        });
    }
    fenced.push(format!("{container}```"));
    lines.splice(block, fenced);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewrite(text: &str) -> String {
        let lines: Vec<String> = text.lines().map(str::to_string).collect();
        rustdoc_lines(&lines).join("\n")
    }

    #[test]
    fn prose_is_left_alone() {
        let text = "A ticket.\n\nIt has `code` and a list:\n- one\n- two";
        assert_eq!(rewrite(text), text);
    }

    #[test]
    fn fences_that_rustdoc_would_run_are_made_safe() {
        assert_eq!(rewrite("```\nlet x = 1;\n```"), "```text\nlet x = 1;\n```");
        assert_eq!(
            rewrite("Example:\n```rust\nx()\n```"),
            "Example:\n```rust,ignore\nx()\n```"
        );
        assert_eq!(rewrite("~~~no_run\nx()\n~~~"), "~~~rust,ignore\nx()\n~~~");
        assert_eq!(
            rewrite("  ```edition2021\nx\n  ```"),
            "  ```rust,ignore\nx\n  ```"
        );
    }

    #[test]
    fn other_languages_and_ignored_blocks_are_left_alone() {
        for text in [
            "```python\nprint(1)\n```",
            "```rust,ignore\nx\n```",
            "```text\nx\n```",
            "```json\n{}\n```",
        ] {
            assert_eq!(rewrite(text), text);
        }
    }

    #[test]
    fn indented_code_becomes_a_text_fence() {
        assert_eq!(
            rewrite("Call it like this:\n\n    get(7)\n      .await\n\nThen done."),
            "Call it like this:\n\n```text\nget(7)\n  .await\n```\n\nThen done."
        );
    }

    #[test]
    fn indented_continuation_of_a_list_is_not_code() {
        let text = "- a long item\n    that continues";
        assert_eq!(rewrite(text), text);
    }

    #[test]
    fn attributes_render_as_doc_lines() {
        let lines = vec!["First.".to_string(), String::new(), "Second.".to_string()];
        assert_eq!(
            doc_attributes(&lines).to_string(),
            "# [doc = \" First.\"] # [doc = \"\"] # [doc = \" Second.\"]"
        );
        assert_eq!(
            deprecated_attribute(Some(&"use get".to_string())).to_string(),
            "# [deprecated (note = \"use get\")]"
        );
        assert_eq!(
            deprecated_attribute(Some(&String::new())).to_string(),
            "# [deprecated]"
        );
        assert!(deprecated_attribute(None).is_empty());
        assert_eq!(plain_text(&lines).as_deref(), Some("First.\n\nSecond."));
        assert_eq!(plain_text(&[]), None);
    }
}
