//! Rust attributes → `.rpc` decorations: doc comments, `#[deprecated]`, the `#[rpcgen(…)]` options
//! (`name`, `timeout`) and the annotations that mark what belongs to a service
//! (`#[rpcgen::service]`, `#[rpcgen::data]`, `#[rpcgen::error]`).
//!
//! Options become the `.rpc` attributes they stand for (`name = "x"` is `@name("x")`), so the
//! resolver checks them exactly as it checks `.rpc` files: unknown options, options in the wrong
//! place, repeated options and malformed durations get the same diagnostics.

use syn::spanned::Spanned;
use syn::{Attribute, Expr, ExprLit, Lit, Meta};

use super::lower::Lowerer;
use crate::ast::{self, rpc_string_literal, AttrValue, Decorations, DocLine, Ident, StringLit};

/// What an annotation marks an item as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Annotation {
    /// `#[rpcgen::service]` on a trait.
    Service,
    /// `#[rpcgen::data]` on a struct or an enum.
    Data,
    /// `#[rpcgen::error]` on a struct.
    Error,
}

impl Annotation {
    /// The annotation as written.
    pub(crate) fn written(self) -> &'static str {
        match self {
            Annotation::Service => "#[rpcgen::service]",
            Annotation::Data => "#[rpcgen::data]",
            Annotation::Error => "#[rpcgen::error]",
        }
    }
}

/// The crates an annotation's path may start with: the macros crate under its own name or
/// renamed to `rpcgen` (see docs/trait-first.md).
const ANNOTATION_CRATES: [&str; 2] = ["rpcgen", "rpcgen_macros"];

/// The rpcgen annotation among an item's attributes, if any.
pub(crate) fn annotation(attrs: &[Attribute]) -> Option<(Annotation, &Attribute)> {
    attrs.iter().find_map(|attr| {
        let segments: Vec<String> = attr
            .path()
            .segments
            .iter()
            .map(|segment| segment.ident.to_string())
            .collect();
        let [krate, name] = segments.as_slice() else {
            return None;
        };
        if !ANNOTATION_CRATES.contains(&krate.as_str()) {
            return None;
        }
        let annotation = match name.as_str() {
            "service" => Annotation::Service,
            "data" => Annotation::Data,
            "error" => Annotation::Error,
            _ => return None,
        };
        Some((annotation, attr))
    })
}

/// Whether an attribute is one of ours: the annotation or a `#[rpcgen(…)]` option.
fn is_rpcgen(attr: &Attribute) -> bool {
    attr.path().is_ident("rpcgen") || annotation(std::slice::from_ref(attr)).is_some()
}

/// The text of one doc comment, split into `.rpc` doc lines (one leading space removed). An empty
/// `///` line is one empty doc line, the paragraph break it is.
fn doc_lines(text: &str) -> impl Iterator<Item = String> + '_ {
    let empty = text.is_empty().then_some("");
    text.lines().chain(empty).map(|line| {
        line.strip_prefix(' ')
            .unwrap_or(line)
            .trim_end()
            .to_string()
    })
}

/// An option's value as written: `"30s"`, `30`.
pub(crate) enum OptionValue {
    /// A string literal, with its value.
    Text(String),
    /// An integer literal, with its digits and suffix.
    Number(String),
}

/// `key = value` inside `#[rpcgen(…)]` or `#[rpcgen::service(…)]`.
pub(crate) struct OptionItem {
    /// The key.
    pub key: syn::Ident,
    /// The value and where it is.
    pub value: Option<(OptionValue, proc_macro2::Span)>,
    /// The whole `key = value`.
    pub span: proc_macro2::Span,
}

impl Lowerer<'_> {
    /// Doc comments, `#[deprecated]` and `#[rpcgen(…)]` options of a declaration; reports any
    /// other attribute, which rpcgen would not carry into the generated item.
    pub(crate) fn decorations(&mut self, attrs: &[Attribute]) -> Decorations {
        let mut decorations = Decorations::default();
        for attr in attrs {
            if attr.path().is_ident("doc") {
                self.doc(attr, &mut decorations.docs);
            } else if attr.path().is_ident("deprecated") {
                decorations.attributes.push(self.deprecated(attr));
            } else if attr.path().is_ident("rpcgen") {
                let options = self.option_list(attr);
                decorations.attributes.extend(self.attributes(options));
            } else if !is_rpcgen(attr) {
                self.foreign_attribute(attr);
            }
        }
        decorations
    }

    /// The package's docs: the file's `//!` doc comments, as `.rpc` docs before `package`. The
    /// file's other inner attributes, and docs that are not literal text
    /// (`#![doc = include_str!("../README.md")]`), are the crate's business and left out.
    pub(crate) fn file_docs(&mut self, attrs: &[Attribute]) -> Vec<DocLine> {
        let mut docs = Vec::new();
        for attr in attrs.iter().filter(|attr| attr.path().is_ident("doc")) {
            if let Meta::NameValue(syn::MetaNameValue {
                value:
                    Expr::Lit(ExprLit {
                        lit: Lit::Str(text),
                        ..
                    }),
                ..
            }) = &attr.meta
            {
                let span = self.span(attr.span());
                docs.extend(doc_lines(&text.value()).map(|text| DocLine { text, span }));
            }
        }
        docs
    }

    fn doc(&mut self, attr: &Attribute, docs: &mut Vec<DocLine>) {
        let span = self.span(attr.span());
        match &attr.meta {
            Meta::NameValue(pair) => match &pair.value {
                Expr::Lit(ExprLit {
                    lit: Lit::Str(text),
                    ..
                }) => docs.extend(doc_lines(&text.value()).map(|text| DocLine { text, span })),
                other => self.error_at(
                    other.span(),
                    "a doc comment must be a string literal",
                    "not a literal string",
                    None,
                ),
            },
            _ => self.error_at(
                attr.span(),
                "expected a doc comment",
                "write it as `/// text`",
                None,
            ),
        }
    }

    /// `#[deprecated]`, `#[deprecated = "why"]` or `#[deprecated(note = "why", …)]` as
    /// `@deprecated("why")`.
    fn deprecated(&mut self, attr: &Attribute) -> ast::Attribute {
        let name = Ident {
            text: "deprecated".to_string(),
            span: self.span(attr.path().span()),
        };
        let note = match &attr.meta {
            Meta::Path(_) => None,
            Meta::NameValue(pair) => self.string_value(&pair.value),
            Meta::List(_) => {
                let mut note = None;
                let parsed = attr.parse_nested_meta(|meta| {
                    let value: Expr = meta.value()?.parse()?;
                    if meta.path.is_ident("note") {
                        note = self.string_value(&value);
                    }
                    Ok(())
                });
                if let Err(error) = parsed {
                    self.error_at(
                        error.span(),
                        format!("cannot read `#[deprecated]`: {error}"),
                        "here",
                        Some("write `#[deprecated(note = \"why\")]`"),
                    );
                }
                note
            }
        };
        let span = self.span(attr.span());
        ast::Attribute {
            name,
            value: note.map(AttrValue::String),
            span,
        }
    }

    fn string_value(&mut self, value: &Expr) -> Option<StringLit> {
        match value {
            Expr::Lit(ExprLit {
                lit: Lit::Str(text),
                ..
            }) => Some(StringLit {
                value: text.value(),
                raw: rpc_string_literal(&text.value()),
                span: self.span(text.span()),
            }),
            other => {
                self.error_at(other.span(), "expected a string", "not a string", None);
                None
            }
        }
    }

    /// The `key = value` items of `#[rpcgen(…)]`.
    fn option_list(&mut self, attr: &Attribute) -> Vec<OptionItem> {
        match &attr.meta {
            Meta::List(list) => match list.parse_args_with(parse_options) {
                Ok(options) => options,
                Err(error) => {
                    self.option_syntax_error(error);
                    Vec::new()
                }
            },
            _ => {
                self.error_at(
                    attr.span(),
                    "`#[rpcgen]` needs options",
                    "no options",
                    Some("write for example `#[rpcgen(name = \"wire_name\")]` or `#[rpcgen(timeout = \"30s\")]`"),
                );
                Vec::new()
            }
        }
    }

    /// Reports options that are not `key = value` pairs.
    pub(crate) fn option_syntax_error(&mut self, error: syn::Error) {
        self.error_at(
            error.span(),
            format!("cannot read the rpcgen options: {error}"),
            "here",
            Some("options are `key = \"value\"` pairs separated by commas, like `name = \"wire_name\"`"),
        );
    }

    /// Options as `.rpc` attributes: `name = "x"` is `@name("x")`, `timeout = "30s"` is
    /// `@timeout(30s)`; the resolver checks where each is allowed.
    pub(crate) fn attributes(&mut self, options: Vec<OptionItem>) -> Vec<ast::Attribute> {
        options
            .into_iter()
            .map(|option| {
                let key = option.key.to_string();
                let name = Ident {
                    text: key.clone(),
                    span: self.span(option.key.span()),
                };
                let value = option.value.map(|(value, span)| {
                    let span = self.span(span);
                    match (key.as_str(), value) {
                        ("timeout", OptionValue::Text(text) | OptionValue::Number(text)) => {
                            AttrValue::Duration(Ident { text, span })
                        }
                        (_, OptionValue::Text(text)) => AttrValue::String(StringLit {
                            raw: rpc_string_literal(&text),
                            value: text,
                            span,
                        }),
                        (_, OptionValue::Number(text)) => AttrValue::Word(Ident { text, span }),
                    }
                });
                ast::Attribute {
                    name,
                    value,
                    span: self.span(option.span),
                }
            })
            .collect()
    }

    fn foreign_attribute(&mut self, attr: &Attribute) {
        let path = attr
            .path()
            .segments
            .iter()
            .map(|segment| segment.ident.to_string())
            .collect::<Vec<_>>()
            .join("::");
        let help = match path.as_str() {
            "derive" => "rpcgen derives what the `.rpc` path derives (Debug, Clone, PartialEq, serde, and Eq, Hash and Ord where the type allows); remove the derive",
            "serde" => "the wire form is rpcgen's: rename with `#[rpcgen(name = \"wire_name\")]` instead",
            _ => "only doc comments, `#[deprecated]` and `#[rpcgen(…)]` options are carried into the generated code; remove it",
        };
        self.error_at(
            attr.span(),
            format!("`#[{path}]` is not supported on rpcgen items"),
            "not carried into the generated code",
            Some(help),
        );
    }
}

/// Parses `key = value, …` where values are string or integer literals; a key without a value is
/// kept (the resolver reports the missing value).
pub(crate) fn parse_options(input: syn::parse::ParseStream<'_>) -> syn::Result<Vec<OptionItem>> {
    let mut options = Vec::new();
    while !input.is_empty() {
        let key: syn::Ident = input.call(syn::ext::IdentExt::parse_any)?;
        let mut span = key.span();
        let value = if input.peek(syn::Token![=]) {
            input.parse::<syn::Token![=]>()?;
            let literal: Lit = input.parse()?;
            span = span.join(literal.span()).unwrap_or(span);
            let value = match &literal {
                Lit::Str(text) => OptionValue::Text(text.value()),
                Lit::Int(number) => OptionValue::Number(number.to_string()),
                other => {
                    return Err(syn::Error::new(
                        other.span(),
                        "expected a string like \"30s\"",
                    ))
                }
            };
            Some((value, literal.span()))
        } else {
            None
        };
        options.push(OptionItem { key, value, span });
        if !input.is_empty() {
            input.parse::<syn::Token![,]>()?;
        }
    }
    Ok(options)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn annotations_need_the_crate_prefix() {
        let item: syn::ItemStruct = syn::parse_quote! {
            #[error("thiserror's, not ours")]
            #[rpcgen::data]
            struct Ticket;
        };
        assert_eq!(
            annotation(&item.attrs).map(|(kind, _)| kind),
            Some(Annotation::Data)
        );
        let plain: syn::ItemStruct = syn::parse_quote!(
            #[error("x")]
            struct Failure;
        );
        assert!(annotation(&plain.attrs).is_none());
        let renamed: syn::ItemTrait = syn::parse_quote!(
            #[rpcgen_macros::service]
            trait S {}
        );
        assert_eq!(
            annotation(&renamed.attrs).map(|(kind, _)| kind),
            Some(Annotation::Service)
        );
    }

    #[test]
    fn doc_lines_lose_one_leading_space() {
        let lines: Vec<String> = doc_lines(" One.\n   Indented.\n").collect();
        assert_eq!(lines, ["One.", "  Indented."]);
        assert_eq!(doc_lines("").collect::<Vec<_>>(), [""]);
    }

    #[test]
    fn options_parse_strings_numbers_and_bare_keys() {
        let options =
            syn::parse::Parser::parse_str(parse_options, "name = \"a\", timeout = 30, type")
                .unwrap();
        let keys: Vec<String> = options
            .iter()
            .map(|option| option.key.to_string())
            .collect();
        assert_eq!(keys, ["name", "timeout", "type"]);
        assert!(matches!(&options[0].value, Some((OptionValue::Text(text), _)) if text == "a"));
        assert!(matches!(&options[1].value, Some((OptionValue::Number(text), _)) if text == "30"));
        assert!(options[2].value.is_none());
        assert!(syn::parse::Parser::parse_str(parse_options, "name = true").is_err());
    }
}
