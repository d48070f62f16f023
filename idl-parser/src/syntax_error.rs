//! Turns pest's parse errors into diagnostics a person can act on.
//!
//! pest reports the furthest position it reached and the rules it tried there. This module names
//! those rules in words ("expected `;`", "expected a type"), says what was found instead, and puts
//! the caret where the mistake is: a missing `;` or `,` is reported right after the previous token,
//! not at the start of the next line.

use pest::error::{Error, ErrorVariant, InputLocation};

use crate::diagnostic::Diagnostic;
use crate::grammar::Rule;
use crate::source::{FileId, Span};
use crate::trivia::{self, Comment, TooDeep, MAX_NESTING};
use crate::wording::{did_you_mean, foreign_generic, list_words};

/// Keywords that can start a top-level declaration, for "did you mean" on a misspelt one.
const TOP_LEVEL_KEYWORDS: [&str; 5] = ["import", "struct", "enum", "error", "service"];

/// The diagnostic for a pest error in `text`.
pub(crate) fn syntax_error(
    file: FileId,
    text: &str,
    comments: &[Comment],
    error: &Error<Rule>,
) -> Diagnostic {
    let position = match error.location {
        InputLocation::Pos(position) => position,
        InputLocation::Span((start, _)) => start,
    };
    let rules: &[Rule] = match &error.variant {
        ErrorVariant::ParsingError { positives, .. } => positives,
        ErrorVariant::CustomError { .. } => &[],
    };
    let found = Found::at(text, position);

    if text[position..].starts_with("/*") {
        return unterminated_comment(file, Span::new(position, position + 2));
    }
    let previous_end = trivia::previous_token_end(text, comments, position);
    if found.kind == FoundKind::String && rules.contains(&Rule::string) {
        let in_import = text[..previous_end].ends_with("import");
        return string_error(file, text, found.span, in_import);
    }
    if let Some(doc) = trivia::doc_after_code(text, comments, position) {
        return doc_after_code_error(file, doc);
    }
    if found.word.as_deref() == Some("import") {
        if let Some(doc) = comments
            .iter()
            .find(|c| c.doc && c.span.end == previous_end)
        {
            return Diagnostic::error("a doc comment cannot document an import")
                .primary(file, doc.span, "this doc comment is before an `import`")
                .help("remove it, or use `//` for a plain comment");
        }
    }
    if let Some(doc) = dangling_doc_comment(comments, previous_end, &found) {
        return Diagnostic::error("this doc comment documents nothing")
            .primary(file, doc.span, "nothing follows it")
            .help("`///` goes right before the item, field, variant, method or parameter it describes; use `//` for a plain comment");
    }

    let expected = expected_words(rules);
    let expected_text = list_words(&expected, "or");
    let (message, label) = if expected.is_empty() {
        (
            format!("unexpected {}", found.description),
            "unexpected here".to_string(),
        )
    } else {
        (
            format!("expected {expected_text}, found {}", found.description),
            format!("expected {expected_text}"),
        )
    };
    let at_end = found.kind == FoundKind::EndOfFile;
    let missing_separator = rules.iter().any(|rule| is_separator(*rule, at_end));
    let on_a_later_line = text[previous_end..position].contains('\n') || at_end;
    let mut diagnostic = Diagnostic::error(message);
    if missing_separator && on_a_later_line && previous_end > 0 {
        diagnostic = diagnostic.primary(
            file,
            Span::new(previous_end, previous_end),
            format!("{label} after this"),
        );
        if found.kind != FoundKind::EndOfFile {
            diagnostic = diagnostic.secondary(file, found.span, "unexpected here");
        }
    } else {
        diagnostic = diagnostic.primary(file, found.span, label);
    }
    if let Some(help) = foreign_syntax(text, position, &found) {
        return diagnostic.help(help);
    }
    if let Some(help) = habit(&text[..previous_end], rules, &found) {
        return diagnostic.help(help);
    }
    for help in helps(rules, &found) {
        diagnostic = diagnostic.help(help);
    }
    diagnostic
}

/// The error for a block comment whose `/*` (at `start`) is never closed.
fn unterminated_comment(file: FileId, start: Span) -> Diagnostic {
    Diagnostic::error("unterminated block comment")
        .primary(file, start, "this `/*` is never closed")
        .help("end it with `*/`; block comments nest, so each `/*` inside needs its own `*/`")
}

/// The error for comments or types nested deeper than [`MAX_NESTING`]; a block comment that is
/// also never closed is reported as unterminated, the likelier mistake.
pub(crate) fn nesting_error(file: FileId, too_deep: TooDeep) -> Diagnostic {
    let level = format!("level {} starts here", MAX_NESTING + 1);
    match too_deep {
        TooDeep::Comment {
            unclosed: Some(start),
            ..
        } => unterminated_comment(file, start),
        TooDeep::Comment { at, unclosed: None } => Diagnostic::error(format!(
            "comments nested too deeply (more than {MAX_NESTING} levels)"
        ))
        .primary(file, at, level)
        .help("each `/*` inside a block comment opens a new level that needs its own `*/`; use `//` comments instead"),
        TooDeep::Type { at } => Diagnostic::error(format!(
            "type nested too deeply (more than {MAX_NESTING} levels)"
        ))
        .primary(file, at, level)
        .help("give an inner part of the type a name: declare a `struct` with a field of that part"),
    }
}

/// The error for a `///` written after code on the same line (`a: u64, /// the id`), which
/// would document the next declaration rather than that code.
pub(crate) fn doc_after_code_error(file: FileId, doc: &Comment) -> Diagnostic {
    Diagnostic::error("a doc comment cannot follow code on the same line")
        .primary(
            file,
            doc.span,
            "this would document what comes next, not this line",
        )
        .help("move it to its own line above what it documents, or use `//` for a plain comment")
}

/// The error for a `//!` comment: Rust's inner doc comment, which `.rpc` files do not have (it
/// would be a plain comment, and the docs it holds would silently go nowhere).
pub(crate) fn inner_doc_error(file: FileId, comment: &Comment) -> Diagnostic {
    Diagnostic::error("`//!` is not a doc comment in .rpc files")
        .primary(
            file,
            comment.span,
            "these docs would not reach the generated code",
        )
        .help(
            "a package's docs are `///` lines right before `package`; use `//` for a plain comment",
        )
}

/// The escapes a string may contain, as the grammar allows them.
const ESCAPES: &str = "`\\\"`, `\\\\`, `\\n`, `\\r` and `\\t`";

/// The diagnostic for a string literal the grammar rejects (`span`: from its `"` to the end of
/// the line): an unknown escape, at its backslash, or else a missing closing `"`. Inside an
/// import path a backslash is most likely a Windows path separator.
fn string_error(file: FileId, text: &str, span: Span, in_import: bool) -> Diagnostic {
    let literal = &text[span.start..span.end];
    let mut chars = literal.char_indices().skip(1);
    while let Some((offset, character)) = chars.next() {
        match character {
            '"' | '\r' => break,
            '\\' => match chars.next() {
                None | Some((_, '\r')) => break,
                Some((_, '"' | '\\' | 'n' | 'r' | 't')) => {}
                Some((_, escaped)) => {
                    let start = span.start + offset;
                    let escape = Span::new(start, start + 1 + escaped.len_utf8());
                    return unknown_escape(file, literal, escape, escaped, in_import);
                }
            },
            _ => {}
        }
    }
    Diagnostic::error("unterminated string")
        .primary(file, span, "this string has no closing `\"`")
        .help("close the string with `\"` on the same line")
}

/// "unknown escape `\q`", with the help that fits: `/` in import paths, the character itself
/// for a Unicode escape, else the list of escapes.
fn unknown_escape(
    file: FileId,
    literal: &str,
    escape: Span,
    escaped: char,
    in_import: bool,
) -> Diagnostic {
    let diagnostic = Diagnostic::error(format!("unknown escape `\\{escaped}`")).primary(
        file,
        escape,
        "not an escape the IDL knows",
    );
    if in_import {
        let path = literal.split_inclusive('"').take(2).collect::<String>();
        return diagnostic.help(format!(
            "use `/` in import paths, on every system: {}",
            path.replace('\\', "/")
        ));
    }
    let diagnostic = if escaped == 'u' || escaped == 'x' {
        diagnostic.help("strings are UTF-8: write the character itself, such as `é`")
    } else {
        diagnostic
    };
    diagnostic.help(format!(
        "the escapes are {ESCAPES}; write `\\\\` for a backslash"
    ))
}

/// What stands at the error position.
struct Found {
    kind: FoundKind,
    description: String,
    span: Span,
    word: Option<String>,
}

#[derive(Debug, PartialEq, Eq)]
enum FoundKind {
    EndOfFile,
    Word,
    String,
    DocComment,
    Symbol,
}

impl Found {
    fn at(text: &str, position: usize) -> Found {
        let rest = &text[position..];
        let Some(first) = rest.chars().next() else {
            return Found {
                kind: FoundKind::EndOfFile,
                description: "end of file".to_string(),
                span: Span::new(position, position),
                word: None,
            };
        };
        let line_length = rest.find('\n').unwrap_or(rest.len());
        let (kind, length) = if rest.starts_with("///") {
            (FoundKind::DocComment, line_length)
        } else if first == '"' {
            (FoundKind::String, line_length)
        } else if first.is_ascii_alphanumeric() || first == '_' {
            let length = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            (FoundKind::Word, length)
        } else {
            (FoundKind::Symbol, first.len_utf8())
        };
        let written = &rest[..length];
        let description = match kind {
            FoundKind::DocComment => "a doc comment".to_string(),
            FoundKind::String => "a string".to_string(),
            _ => format!("`{written}`"),
        };
        Found {
            word: (kind == FoundKind::Word).then(|| written.to_string()),
            kind,
            description,
            span: Span::new(position, position + length),
        }
    }
}

/// The doc comment just before the error, when nothing it could document follows it.
fn dangling_doc_comment<'c>(
    comments: &'c [Comment],
    previous_end: usize,
    found: &Found,
) -> Option<&'c Comment> {
    let doc = comments
        .iter()
        .find(|comment| comment.doc && comment.span.end == previous_end)?;
    let documentable = found.kind == FoundKind::Word
        || found.kind == FoundKind::Symbol && found.description == "`@`";
    (!documentable).then_some(doc)
}

/// Tokens that end or separate something: when one is missing, the caret goes after the previous
/// token. Closing brackets count only at the end of the file (elsewhere, the token found instead
/// is the mistake).
fn is_separator(rule: Rule, at_end: bool) -> bool {
    match rule {
        Rule::semicolon | Rule::comma => true,
        Rule::rparen | Rule::rbrace | Rule::rangle => at_end,
        _ => false,
    }
}

/// The expected rules in words, without duplicates, in pest's order.
fn expected_words(rules: &[Rule]) -> Vec<&'static str> {
    let mut words: Vec<&'static str> = Vec::new();
    for rule in rules {
        for word in describe(*rule) {
            if !words.contains(word) {
                words.push(word);
            }
        }
    }
    if words.len() > 1 {
        words.retain(|word| *word != "end of file");
    }
    words
}

/// A rule in words; empty for rules that are always optional (they would only add noise).
fn describe(rule: Rule) -> &'static [&'static str] {
    match rule {
        Rule::semicolon => &["`;`"],
        Rule::comma => &["`,`"],
        Rule::colon => &["`:`"],
        Rule::lbrace => &["`{`"],
        Rule::rbrace => &["`}`"],
        Rule::lparen => &["`(`"],
        Rule::rparen => &["`)`"],
        Rule::langle => &["`<`"],
        Rule::rangle => &["`>`"],
        Rule::arrow | Rule::returns => &["`->`"],
        Rule::kw_throws | Rule::throws => &["`throws`"],
        Rule::package_decl | Rule::kw_package => &["`package`"],
        Rule::import_decl | Rule::kw_import => &["`import`"],
        Rule::item => &["`struct`", "`enum`", "`error`", "`service`"],
        Rule::kw_struct => &["`struct`"],
        Rule::kw_enum => &["`enum`"],
        Rule::kw_error => &["`error`"],
        Rule::kw_service => &["`service`"],
        Rule::ident => &["a name"],
        Rule::field => &["a field"],
        Rule::variant => &["a variant"],
        Rule::method => &["a method"],
        Rule::param => &["a parameter"],
        Rule::type_expr
        | Rule::type_path
        | Rule::list_type
        | Rule::map_type
        | Rule::stream_type
        | Rule::kw_list
        | Rule::kw_map
        | Rule::kw_stream => &["a type"],
        Rule::string => &["a string"],
        Rule::duration => &["a number"],
        Rule::EOI => &["end of file"],
        _ => &[],
    }
}

/// The IDL spelling of another language's type syntax found at `position`: a generic such as
/// `Option<u64>` or `Vec<u8>` (found: its `<`), or an array `u64[]` (found: its `[`).
fn foreign_syntax(text: &str, position: usize, found: &Found) -> Option<String> {
    let before = &text[..position];
    let name_start = before
        .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
        .map_or(0, |index| index + 1);
    let name = &before[name_start..];
    if name.is_empty() {
        return None;
    }
    let written = match found.description.as_str() {
        "`<`" => {
            let arguments = generic_arguments(&text[position + 1..])?;
            let idl = foreign_generic(name, arguments)?;
            return Some(format!("the IDL writes `{name}<{arguments}>` as {idl}"));
        }
        "`[`" => format!("{name}[]"),
        _ => return None,
    };
    Some(format!("the IDL writes `{written}` as `list<{name}>`"))
}

/// A hint for syntax other IDLs and languages use, from what is found and the text before it
/// (up to the previous token).
fn habit(before: &str, rules: &[Rule], found: &Found) -> Option<String> {
    let previous_word = before
        .rsplit(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .next()
        .unwrap_or("");
    let symbol = found.description.trim_matches('`');
    let help = match symbol {
        _ if found.kind == FoundKind::Symbol
            && symbol.chars().next().is_some_and(char::is_alphabetic) =>
        {
            format!("names are ASCII letters, digits and `_`: `{symbol}` cannot be part of one")
        }
        "." if before
            .trim_end_matches(|c: char| c.is_ascii_alphanumeric() || c == '_')
            .trim_end()
            .ends_with("package") =>
        {
            "a package name is one snake_case word, such as `shop` or `example_shop`".to_string()
        }
        "=" if rules.contains(&Rule::lparen) && rules.contains(&Rule::lbrace) => {
            "enum variants have no values: each travels as its name".to_string()
        }
        "#" => "attributes are written with `@`, like `@deprecated`".to_string(),
        ";" if rules.contains(&Rule::item) && before.ends_with('}') => {
            "no `;` after a declaration's closing `}`".to_string()
        }
        _ if previous_word == "rpc" && rules.contains(&Rule::lparen) => {
            "methods are written `name(param: Type) -> Result;`, without `rpc` or `returns`"
                .to_string()
        }
        _ => return None,
    };
    Some(help)
}

/// The type arguments written after a `<`, up to its matching `>` on the same line.
fn generic_arguments(after: &str) -> Option<&str> {
    let mut depth = 0;
    for (index, character) in after.char_indices() {
        match character {
            '<' => depth += 1,
            '>' if depth == 0 => return Some(after[..index].trim()),
            '>' => depth -= 1,
            '\n' | ';' | '{' | '}' => return None,
            _ => {}
        }
    }
    None
}

/// Hints for the common mistakes.
fn helps(rules: &[Rule], found: &Found) -> Vec<String> {
    let mut helps = Vec::new();
    if rules.contains(&Rule::package_decl) {
        helps.push("every .rpc file starts with `package NAME;`".to_string());
    }
    if let Some(word) = &found.word {
        if rules.contains(&Rule::item) {
            if word == "import" {
                helps.push(
                    "imports go right after the `package` line, before the first type or service"
                        .to_string(),
                );
            } else if word == "package" {
                helps.push("a file has one `package` line, at the top".to_string());
            } else if let Some(keyword) = did_you_mean(word, TOP_LEVEL_KEYWORDS) {
                helps.push(format!("did you mean `{keyword}`?"));
            }
        }
        let starts_badly = word.starts_with(|c: char| c == '_' || c.is_ascii_digit());
        let expects_name = rules.iter().any(|rule| {
            matches!(
                rule,
                Rule::ident | Rule::field | Rule::variant | Rule::method | Rule::param
            )
        });
        if expects_name && starts_badly {
            helps.push("names start with a letter (`a`–`z`, `A`–`Z`)".to_string());
        }
    }
    if rules.contains(&Rule::colon) {
        helps.push("fields and parameters are written `name: type`".to_string());
    }
    helps
}

#[cfg(test)]
mod tests {
    use crate::ast::parse;
    use crate::source::FileId;

    /// The message and the help lines of the syntax error in `text`.
    fn error(text: &str) -> (String, Vec<String>) {
        let diagnostic = parse(FileId(0), text).expect_err("the text has a syntax error");
        (diagnostic.message, diagnostic.help)
    }

    #[test]
    fn unicode_escapes_ask_for_the_character_itself() {
        let (message, help) = error("package a; service S { @name(\"a\\u00e9\") f(); }");
        assert_eq!(message, "unknown escape `\\u`");
        assert!(help[0].contains("write the character itself"), "{help:?}");
    }

    #[test]
    fn habits_from_other_languages_get_a_hint() {
        let cases = [
            ("package a; struct Tëst {}", "names are ASCII letters"),
            (
                "package a; struct T { naïve: u64 }",
                "names are ASCII letters",
            ),
            ("package com.example.shop;", "one snake_case word"),
            ("package a; enum E { A = 1 }", "variants have no values"),
            ("package a; #[deprecated] struct A {}", "`@deprecated`"),
            (
                "package a; service S { rpc Ping(Req) returns (Resp); }",
                "without `rpc`",
            ),
            ("package a; struct A {};", "no `;` after"),
        ];
        for (text, hint) in cases {
            let (message, help) = error(text);
            assert!(
                help.len() == 1 && help[0].contains(hint),
                "{text}: {message} {help:?}"
            );
        }
        let (message, _) = error("package a;\n/// doc\nimport \"b.rpc\";");
        assert_eq!(message, "a doc comment cannot document an import");
    }

    #[test]
    fn a_string_without_a_closing_quote_is_unterminated() {
        let (message, _) = error("package a;\nimport \"a\\\\b.rpc;\n");
        assert_eq!(message, "unterminated string");
    }
}
