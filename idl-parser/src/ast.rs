//! The syntax tree of one `.rpc` file, with spans, and the only code that reads pest's pairs.
//!
//! [`parse`] runs the grammar (`rpc.pest`) and builds a [`File`]. The tree keeps everything as
//! written (names, attribute arguments, doc lines) and checks nothing beyond syntax: the resolver
//! checks meaning, and the formatter prints the tree back.

use std::fmt;

use pest::iterators::Pair;
use pest::Parser as _;

use crate::diagnostic::Diagnostic;
use crate::grammar::{RpcParser, Rule};
use crate::source::{FileId, Span};
use crate::syntax_error::{doc_after_code_error, inner_doc_error, nesting_error, syntax_error};
use crate::trivia;

/// One parsed `.rpc` file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct File {
    /// Doc comments before `package`.
    pub docs: Vec<DocLine>,
    /// The package name.
    pub package: Ident,
    /// The whole `package …;` declaration.
    pub package_span: Span,
    /// `import "…";` declarations, in order.
    pub imports: Vec<Import>,
    /// Types and services, in order.
    pub items: Vec<Item>,
}

/// A name as written, with its place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ident {
    /// The name.
    pub text: String,
    /// Where it is.
    pub span: Span,
}

/// One `///` line: the text after `///` (without one leading space), with the span of the line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocLine {
    /// The documentation text.
    pub text: String,
    /// The whole comment, `///` included.
    pub span: Span,
}

/// `import "path";`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Import {
    /// The path between the quotes.
    pub path: StringLit,
    /// The whole declaration.
    pub span: Span,
}

/// A string literal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StringLit {
    /// The value, escapes decoded.
    pub value: String,
    /// The literal as written, quotes included (the formatter prints this).
    pub raw: String,
    /// Where it is.
    pub span: Span,
}

/// `@name`, `@name(value)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribute {
    /// The name after `@`.
    pub name: Ident,
    /// The value between the parentheses, if any.
    pub value: Option<AttrValue>,
    /// The whole attribute.
    pub span: Span,
}

/// The value of an attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttrValue {
    /// `"text"`.
    String(StringLit),
    /// Digits with an optional unit, as written: `30s`, `500ms`, `30`.
    Duration(Ident),
    /// A bare word.
    Word(Ident),
}

impl AttrValue {
    /// Where the value is.
    pub fn span(&self) -> Span {
        match self {
            AttrValue::String(string) => string.span,
            AttrValue::Duration(word) | AttrValue::Word(word) => word.span,
        }
    }
}

/// Doc comments and attributes written before an item, field, variant, method or parameter.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Decorations {
    /// `///` lines.
    pub docs: Vec<DocLine>,
    /// `@…` attributes.
    pub attributes: Vec<Attribute>,
}

/// A top-level declaration: a user type or a service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// Its docs and attributes.
    pub decorations: Decorations,
    /// Its name.
    pub name: Ident,
    /// What it declares.
    pub kind: ItemKind,
    /// From the keyword to the closing `}` (decorations excluded).
    pub span: Span,
}

/// What an [`Item`] declares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItemKind {
    /// `struct Name { fields }`.
    Struct(Vec<Field>),
    /// `error Name { fields }`.
    Error(Vec<Field>),
    /// `enum Name { variants }`.
    Enum(Vec<Variant>),
    /// `service Name { methods }`.
    Service(Vec<Method>),
}

impl ItemKind {
    /// The keyword that introduces this kind of item.
    pub fn keyword(&self) -> &'static str {
        match self {
            ItemKind::Struct(_) => "struct",
            ItemKind::Error(_) => "error",
            ItemKind::Enum(_) => "enum",
            ItemKind::Service(_) => "service",
        }
    }
}

/// `name: type` in a struct, an error or a struct-like variant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// Its docs and attributes.
    pub decorations: Decorations,
    /// The field name.
    pub name: Ident,
    /// The field type.
    pub ty: TypeExpr,
}

/// An enum variant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variant {
    /// Its docs and attributes.
    pub decorations: Decorations,
    /// The variant name.
    pub name: Ident,
    /// What it carries.
    pub data: VariantData,
}

/// The data an enum variant carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VariantData {
    /// No data: `Low`.
    Unit,
    /// Positional data: `Moved(u64, string)`.
    Tuple(Vec<TypeExpr>),
    /// Named fields: `Closed { id: u64 }`; the span is the closing `}`.
    Struct(Vec<Field>, Span),
}

/// A service method.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Method {
    /// Its docs and attributes.
    pub decorations: Decorations,
    /// The method name.
    pub name: Ident,
    /// Its parameters.
    pub params: Vec<Param>,
    /// The `)` that closes the parameter list.
    pub params_close: Span,
    /// The type after `->`, if any.
    pub returns: Option<TypeExpr>,
    /// The types after `throws`.
    pub throws: Vec<TypePath>,
}

/// `name: type` in a method's parameter list: the same shape as a field.
pub type Param = Field;

/// A type as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeExpr {
    /// Which type.
    pub kind: TypeExprKind,
    /// Where it is, `?` included.
    pub span: Span,
}

/// The shapes a written type can have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TypeExprKind {
    /// A built-in or user type name.
    Path(TypePath),
    /// `list<T>`.
    List(Box<TypeExpr>),
    /// `map<K, V>`.
    Map(Box<TypeExpr>, Box<TypeExpr>),
    /// `stream<T>`.
    Stream(Box<TypeExpr>),
    /// `T?`.
    Optional(Box<TypeExpr>),
}

/// `Name` or `package.Name`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypePath {
    /// The package qualifier, if written.
    pub package: Option<Ident>,
    /// The type name.
    pub name: Ident,
    /// The whole path.
    pub span: Span,
}

/// Prints the type in canonical form: `map<string, list<u64>>?`, `common.Money`.
impl fmt::Display for TypeExpr {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            TypeExprKind::Path(path) => write!(formatter, "{path}"),
            TypeExprKind::List(item) => write!(formatter, "list<{item}>"),
            TypeExprKind::Map(key, value) => write!(formatter, "map<{key}, {value}>"),
            TypeExprKind::Stream(item) => write!(formatter, "stream<{item}>"),
            TypeExprKind::Optional(inner) => write!(formatter, "{inner}?"),
        }
    }
}

/// Prints `Name` or `package.Name`.
impl fmt::Display for TypePath {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(package) = &self.package {
            write!(formatter, "{}.", package.text)?;
        }
        formatter.write_str(&self.name.text)
    }
}

/// Parses one file; a syntax error becomes a diagnostic about `file`. Comments and types nested
/// deeper than [`trivia::MAX_NESTING`] are an error, found before the grammar (which recurses
/// for each level) runs.
pub fn parse(file: FileId, text: &str) -> Result<File, Diagnostic> {
    let scan = trivia::scan(text);
    if let Some(too_deep) = scan.too_deep {
        return Err(nesting_error(file, too_deep));
    }
    let comments = scan.comments;
    if let Some(inner) = comments
        .iter()
        .find(|comment| text[comment.span.start..].starts_with("//!"))
    {
        return Err(inner_doc_error(file, inner));
    }
    let mut pairs = RpcParser::parse(Rule::file, text)
        .map_err(|error| syntax_error(file, text, &comments, &error))?;
    if let Some(doc) = trivia::doc_after_code(text, &comments, text.len()) {
        return Err(doc_after_code_error(file, doc));
    }
    Ok(build_file(
        pairs
            .next()
            .expect("the file rule always produces one pair"),
    ))
}

/// The pairs inside `pair`, without punctuation and keywords (which carry no information).
fn children(pair: Pair<'_, Rule>) -> impl Iterator<Item = Pair<'_, Rule>> {
    pair.into_inner().filter(|child| !is_token(child.as_rule()))
}

fn is_token(rule: Rule) -> bool {
    matches!(
        rule,
        Rule::semicolon
            | Rule::comma
            | Rule::colon
            | Rule::lbrace
            | Rule::rbrace
            | Rule::lparen
            | Rule::rparen
            | Rule::langle
            | Rule::rangle
            | Rule::arrow
            | Rule::kw_package
            | Rule::kw_import
            | Rule::kw_struct
            | Rule::kw_enum
            | Rule::kw_error
            | Rule::kw_service
            | Rule::kw_throws
            | Rule::kw_list
            | Rule::kw_map
            | Rule::kw_stream
            | Rule::EOI
    )
}

fn build_file(pair: Pair<'_, Rule>) -> File {
    let mut parts = children(pair);
    let package_decl = parts.next().expect("a file starts with its package");
    let package_span = package_decl.as_span().into();
    let mut docs = Vec::new();
    let mut package = None;
    for part in children(package_decl) {
        match part.as_rule() {
            Rule::doc_comment => docs.push(build_doc(part)),
            _ => package = Some(build_ident(part)),
        }
    }
    let mut imports = Vec::new();
    let mut items = Vec::new();
    for part in parts {
        match part.as_rule() {
            Rule::import_decl => imports.push(Import {
                span: part.as_span().into(),
                path: build_string(children(part).next().expect("an import has a path")),
            }),
            _ => items.push(build_item(part)),
        }
    }
    File {
        docs,
        package: package.expect("a package declaration has a name"),
        package_span,
        imports,
        items,
    }
}

fn build_item(pair: Pair<'_, Rule>) -> Item {
    let mut parts = children(pair);
    let decorations = build_decorations(parts.next().expect("an item starts with decorations"));
    let definition = parts.next().expect("an item has a definition");
    let span = definition.as_span().into();
    let rule = definition.as_rule();
    let mut parts = children(definition);
    let name = build_ident(parts.next().expect("an item has a name"));
    let kind = match rule {
        Rule::struct_def => ItemKind::Struct(parts.map(build_field).collect()),
        Rule::error_def => ItemKind::Error(parts.map(build_field).collect()),
        Rule::enum_def => ItemKind::Enum(parts.map(build_variant).collect()),
        Rule::service_def => ItemKind::Service(parts.map(build_method).collect()),
        other => unreachable!("not an item definition: {other:?}"),
    };
    Item {
        decorations,
        name,
        kind,
        span,
    }
}

fn build_decorations(pair: Pair<'_, Rule>) -> Decorations {
    let mut decorations = Decorations::default();
    for part in children(pair) {
        match part.as_rule() {
            Rule::doc_comment => decorations.docs.push(build_doc(part)),
            _ => decorations.attributes.push(build_attribute(part)),
        }
    }
    decorations
}

fn build_doc(pair: Pair<'_, Rule>) -> DocLine {
    let span = pair.as_span().into();
    let text = pair.into_inner().next().map_or("", |text| text.as_str());
    let text = text.strip_prefix(' ').unwrap_or(text).trim_end();
    DocLine {
        text: text.to_string(),
        span,
    }
}

fn build_attribute(pair: Pair<'_, Rule>) -> Attribute {
    // Up to the end of the last token, for the reason given on `build_type`.
    let last_token = pair
        .clone()
        .into_inner()
        .last()
        .expect("an attribute has a name");
    let span = Span::new(pair.as_span().start(), last_token.as_span().end());
    let mut parts = children(pair);
    let name_pair = parts.next().expect("an attribute has a name");
    let name = build_ident(
        name_pair
            .into_inner()
            .next()
            .expect("`@` is followed by a name"),
    );
    let value = parts.next().map(|value| match value.as_rule() {
        Rule::string => AttrValue::String(build_string(value)),
        Rule::duration => AttrValue::Duration(build_ident(value)),
        _ => AttrValue::Word(build_ident(value)),
    });
    Attribute { name, value, span }
}

fn build_field(pair: Pair<'_, Rule>) -> Field {
    let mut parts = children(pair);
    let decorations = build_decorations(parts.next().expect("decorations come first"));
    let name = build_ident(parts.next().expect("a name follows the decorations"));
    let ty = build_type(parts.next().expect("a type follows the name"));
    Field {
        decorations,
        name,
        ty,
    }
}

fn build_variant(pair: Pair<'_, Rule>) -> Variant {
    let mut parts = children(pair);
    let decorations = build_decorations(parts.next().expect("decorations come first"));
    let name = build_ident(parts.next().expect("a variant has a name"));
    let data = match parts.next() {
        None => VariantData::Unit,
        Some(data) if data.as_rule() == Rule::tuple_data => {
            VariantData::Tuple(children(data).map(build_type).collect())
        }
        Some(data) => {
            let close = closing_token(&data);
            VariantData::Struct(children(data).map(build_field).collect(), close)
        }
    };
    Variant {
        decorations,
        name,
        data,
    }
}

fn build_method(pair: Pair<'_, Rule>) -> Method {
    let mut parts = children(pair);
    let decorations = build_decorations(parts.next().expect("decorations come first"));
    let name = build_ident(parts.next().expect("a method has a name"));
    let param_list = parts.next().expect("a method has a parameter list");
    let params_close = closing_token(&param_list);
    let params = children(param_list).map(build_field).collect();
    let mut returns = None;
    let mut throws = Vec::new();
    for part in parts {
        match part.as_rule() {
            Rule::returns => returns = children(part).next().map(build_type),
            _ => throws = children(part).map(build_type_path).collect(),
        }
    }
    Method {
        decorations,
        name,
        params,
        params_close,
        returns,
        throws,
    }
}

/// The span of the last token of a bracketed rule: its closing `}` or `)`.
fn closing_token(pair: &Pair<'_, Rule>) -> Span {
    let end = pair.as_span().end();
    Span::new(end - 1, end)
}

/// Builds a type. Its span is computed from its parts: pest's span of a rule that ends with an
/// optional part (here the `?`) also covers the whitespace skipped while looking for that part.
fn build_type(pair: Pair<'_, Rule>) -> TypeExpr {
    let mut parts = children(pair);
    let base = parts.next().expect("a type has a base");
    let base_span: Span = base.as_span().into();
    let kind = match base.as_rule() {
        Rule::type_path => TypeExprKind::Path(build_type_path(base)),
        Rule::list_type => TypeExprKind::List(Box::new(first_type(base))),
        Rule::stream_type => TypeExprKind::Stream(Box::new(first_type(base))),
        Rule::map_type => {
            let mut types = children(base).map(build_type);
            let key = types.next().expect("a map has a key type");
            let value = types.next().expect("a map has a value type");
            TypeExprKind::Map(Box::new(key), Box::new(value))
        }
        other => unreachable!("not a type: {other:?}"),
    };
    let base = TypeExpr {
        kind,
        span: base_span,
    };
    match parts.next() {
        Some(question_mark) => TypeExpr {
            kind: TypeExprKind::Optional(Box::new(base)),
            span: Span::new(base_span.start, question_mark.as_span().end()),
        },
        None => base,
    }
}

/// The type argument of `list<T>` or `stream<T>`.
fn first_type(pair: Pair<'_, Rule>) -> TypeExpr {
    build_type(
        children(pair)
            .next()
            .expect("a generic type has an argument"),
    )
}

fn build_type_path(pair: Pair<'_, Rule>) -> TypePath {
    let span = pair.as_span().into();
    let mut names: Vec<Ident> = pair.into_inner().map(build_ident).collect();
    let name = names.pop().expect("a type path has a name");
    TypePath {
        package: names.pop(),
        name,
        span,
    }
}

fn build_ident(pair: Pair<'_, Rule>) -> Ident {
    Ident {
        text: pair.as_str().to_string(),
        span: pair.as_span().into(),
    }
}

fn build_string(pair: Pair<'_, Rule>) -> StringLit {
    let span = pair.as_span().into();
    let raw = pair.as_str().to_string();
    let text = pair.into_inner().next().map_or("", |text| text.as_str());
    StringLit {
        value: unescape(text),
        raw,
        span,
    }
}

/// A string as a `.rpc` literal, quotes and escapes included: what the parser decodes back to
/// `value`.
pub fn rpc_string_literal(value: &str) -> String {
    let mut quoted = String::with_capacity(value.len() + 2);
    quoted.push('"');
    for character in value.chars() {
        match character {
            '"' => quoted.push_str("\\\""),
            '\\' => quoted.push_str("\\\\"),
            '\n' => quoted.push_str("\\n"),
            '\r' => quoted.push_str("\\r"),
            '\t' => quoted.push_str("\\t"),
            other => quoted.push(other),
        }
    }
    quoted.push('"');
    quoted
}

/// Decodes the escapes the grammar allows inside a string.
fn unescape(text: &str) -> String {
    let mut value = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            value.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => value.push('\n'),
            Some('r') => value.push('\r'),
            Some('t') => value.push('\t'),
            Some(other) => value.push(other),
            None => {}
        }
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_ok(text: &str) -> File {
        parse(FileId(0), text).unwrap_or_else(|diagnostic| panic!("{}", diagnostic.message))
    }

    #[test]
    fn builds_every_construct() {
        let file = parse_ok(
            r#"/// The shop.
package shop;
import "common.rpc";
/// A ticket.
@deprecated("old")
struct Ticket { id: u64, tags: list<string>, extra: map<string, any>?, money: common.Money }
enum Event { Low, Opened(Ticket), Closed { id: u64 } }
error NotFound {}
service Tickets {
    @timeout(30s)
    get(/// the id
        id: u64) -> stream<Ticket> throws NotFound, common.Denied;
    ping();
}
"#,
        );
        assert_eq!(file.docs[0].text, "The shop.");
        assert_eq!(file.package.text, "shop");
        assert_eq!(file.imports[0].path.value, "common.rpc");
        assert_eq!(file.items.len(), 4);

        let ticket = &file.items[0];
        assert_eq!(ticket.decorations.docs[0].text, "A ticket.");
        let deprecated = &ticket.decorations.attributes[0];
        assert_eq!(deprecated.name.text, "deprecated");
        assert!(matches!(&deprecated.value, Some(AttrValue::String(s)) if s.value == "old"));
        let ItemKind::Struct(fields) = &ticket.kind else {
            panic!("not a struct")
        };
        assert_eq!(fields.len(), 4);
        assert!(matches!(fields[1].ty.kind, TypeExprKind::List(_)));
        assert!(
            matches!(&fields[2].ty.kind, TypeExprKind::Optional(inner) if matches!(inner.kind, TypeExprKind::Map(..)))
        );
        let TypeExprKind::Path(money) = &fields[3].ty.kind else {
            panic!("not a path")
        };
        assert_eq!(
            money.package.as_ref().map(|p| p.text.as_str()),
            Some("common")
        );
        assert_eq!(money.name.text, "Money");

        let ItemKind::Enum(variants) = &file.items[1].kind else {
            panic!("not an enum")
        };
        assert_eq!(variants[0].data, VariantData::Unit);
        assert!(matches!(&variants[1].data, VariantData::Tuple(items) if items.len() == 1));
        assert!(matches!(&variants[2].data, VariantData::Struct(fields, _) if fields.len() == 1));
        assert!(matches!(&file.items[2].kind, ItemKind::Error(fields) if fields.is_empty()));

        let ItemKind::Service(methods) = &file.items[3].kind else {
            panic!("not a service")
        };
        let get = &methods[0];
        assert!(
            matches!(&get.decorations.attributes[0].value, Some(AttrValue::Duration(d)) if d.text == "30s")
        );
        assert_eq!(get.params[0].decorations.docs[0].text, "the id");
        assert!(matches!(
            get.returns.as_ref().map(|t| &t.kind),
            Some(TypeExprKind::Stream(_))
        ));
        assert_eq!(get.throws.len(), 2);
        assert!(methods[1].params.is_empty() && methods[1].returns.is_none());
    }

    #[test]
    fn types_print_in_canonical_form() {
        let file = parse_ok("package a; struct A { x: map< string ,list<common.Money>>  ? }");
        let ItemKind::Struct(fields) = &file.items[0].kind else {
            panic!("not a struct")
        };
        assert_eq!(fields[0].ty.to_string(), "map<string, list<common.Money>>?");
    }

    #[test]
    fn spans_point_at_the_source() {
        let text = "package shop;\nstruct A { @deprecated id: u64 }\n";
        let file = parse_ok(text);
        let item = &file.items[0];
        assert_eq!(
            &text[item.span.start..item.span.end],
            "struct A { @deprecated id: u64 }"
        );
        let ItemKind::Struct(fields) = &item.kind else {
            panic!("not a struct")
        };
        assert_eq!(&text[fields[0].ty.span.start..fields[0].ty.span.end], "u64");
        let attribute = &fields[0].decorations.attributes[0];
        assert_eq!(
            &text[attribute.span.start..attribute.span.end],
            "@deprecated"
        );
        assert_eq!(
            &text[file.package_span.start..file.package_span.end],
            "package shop;"
        );
    }

    #[test]
    fn strings_decode_escapes_and_keep_the_raw_text() {
        let file = parse_ok(r#"package a; import "dir\\x \"y\".rpc";"#);
        assert_eq!(file.imports[0].path.value, r#"dir\x "y".rpc"#);
        assert_eq!(file.imports[0].path.raw, r#""dir\\x \"y\".rpc""#);
    }

    #[test]
    fn string_literals_escape_what_the_parser_decodes() {
        assert_eq!(rpc_string_literal("a \"b\"\n"), "\"a \\\"b\\\"\\n\"");
        let value = "tab\there \\ \"quoted\"\r\n";
        let literal = rpc_string_literal(value);
        assert_eq!(unescape(&literal[1..literal.len() - 1]), value);
    }

    #[test]
    fn nesting_up_to_the_limit_parses() {
        let depth = trivia::MAX_NESTING;
        let comment = format!("{}{}", "/*".repeat(depth), "*/".repeat(depth));
        let list = format!("{}u64{}", "list<".repeat(depth), ">".repeat(depth));
        let file = parse_ok(&format!("package a; {comment} struct A {{ x: {list} }}"));
        let ItemKind::Struct(fields) = &file.items[0].kind else {
            panic!("not a struct")
        };
        assert_eq!(fields[0].ty.to_string(), list);
    }

    #[test]
    fn plain_comments_are_skipped_and_quadruple_slash_is_not_a_doc() {
        let file = parse_ok("package a; //// not a doc\n/* block /* nested */ */ struct A {}");
        assert!(file.items[0].decorations.docs.is_empty());
    }
}
