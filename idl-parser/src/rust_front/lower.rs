//! Rust items → the `.rpc` syntax tree: each annotated struct, enum or trait becomes one `.rpc`
//! item.
//!
//! Lowering checks only what `.rpc` syntax cannot express (a tuple struct, a generic type, a
//! `&mut self` method…); names, types, attributes and wire names are checked afterwards by the
//! resolver, on the syntax tree, exactly as for `.rpc` files.

use syn::spanned::Spanned;

use super::options::{annotation, Annotation};
use super::spans::SpanMap;
use crate::ast::{self, Ident};
use crate::diagnostic::Diagnostic;
use crate::source::{FileId, Span};

/// Lowers Rust items into `.rpc` syntax, collecting the errors only Rust source can have.
pub(crate) struct Lowerer<'a> {
    file: FileId,
    spans: &'a mut dyn SpanMap,
    /// Problems found while lowering.
    pub(crate) errors: Vec<Diagnostic>,
    /// The `package = "…"` option of a service, with its span.
    pub(crate) package: Option<Ident>,
    /// Which Rust map types the lowered items wrote.
    pub(crate) maps: MapsWritten,
}

/// Which of Rust's map types the annotated items of a file wrote for their `map<K, V>`s.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MapsWritten {
    /// Some map was a `HashMap`.
    pub hash_map: bool,
    /// Some map was a `BTreeMap`.
    pub btree_map: bool,
}

impl MapsWritten {
    /// Whether there were maps and every one of them was a `HashMap`.
    pub fn only_hash_maps(self) -> bool {
        self.hash_map && !self.btree_map
    }
}

impl<'a> Lowerer<'a> {
    /// A lowerer whose spans go through `spans` and whose diagnostics name `file`.
    pub(crate) fn new(file: FileId, spans: &'a mut dyn SpanMap) -> Lowerer<'a> {
        Lowerer {
            file,
            spans,
            errors: Vec::new(),
            package: None,
            maps: MapsWritten::default(),
        }
    }

    /// Maps a token's span into the syntax tree.
    pub(crate) fn span(&mut self, span: proc_macro2::Span) -> Span {
        self.spans.map(span)
    }

    /// Marks the spans mapped from now on as the macro's own item's (or not).
    pub(crate) fn record_own(&mut self, own: bool) {
        self.spans.record_own(own);
    }

    /// A name as written (a raw identifier `r#type` is the name `type`).
    pub(crate) fn ident(&mut self, ident: &syn::Ident) -> Ident {
        let text = ident.to_string();
        Ident {
            text: text.strip_prefix("r#").unwrap_or(&text).to_string(),
            span: self.span(ident.span()),
        }
    }

    /// Reports an error at a token.
    pub(crate) fn error_at(
        &mut self,
        at: proc_macro2::Span,
        message: impl Into<String>,
        label: impl Into<String>,
        help: Option<&str>,
    ) {
        let span = self.span(at);
        let mut diagnostic = Diagnostic::error(message).primary(self.file, span, label);
        if let Some(help) = help {
            diagnostic = diagnostic.help(help);
        }
        self.errors.push(diagnostic);
    }

    /// One item, if it carries an rpcgen annotation.
    pub(crate) fn item(&mut self, item: &syn::Item) -> Option<ast::Item> {
        let attrs = item_attrs(item)?;
        let (annotation, attr) = annotation(attrs)?;
        match (annotation, item) {
            (Annotation::Data, syn::Item::Struct(item)) => self.structure(item, false),
            (Annotation::Error, syn::Item::Struct(item)) => self.structure(item, true),
            (Annotation::Data, syn::Item::Enum(item)) => self.enumeration(item),
            (Annotation::Service, syn::Item::Trait(item)) => self.service(item, attr),
            (annotation, _) => {
                let expected = match annotation {
                    Annotation::Service => "a trait",
                    Annotation::Data => "a struct or an enum",
                    Annotation::Error => "a struct with named fields",
                };
                self.error_at(
                    attr.span(),
                    format!("`{}` belongs on {expected}", annotation.written()),
                    "not allowed on this item",
                    None,
                );
                None
            }
        }
    }

    /// Reports generic parameters on a type or a trait.
    pub(crate) fn refuse_generics(&mut self, generics: &syn::Generics, what: &str) {
        if !generics.params.is_empty() || generics.where_clause.is_some() {
            self.error_at(
                generics.span(),
                format!("{what} cannot be generic"),
                "generic parameters",
                Some("the wire and the other languages need one concrete shape; write the concrete types"),
            );
        }
    }

    fn structure(&mut self, item: &syn::ItemStruct, error: bool) -> Option<ast::Item> {
        let what = if error { "an error type" } else { "a struct" };
        self.refuse_generics(&item.generics, &format!("{what} of a service"));
        let fields = match &item.fields {
            syn::Fields::Named(named) => self.fields(named),
            syn::Fields::Unit => Vec::new(),
            syn::Fields::Unnamed(unnamed) => {
                self.error_at(
                    unnamed.span(),
                    format!("{what} needs named fields"),
                    "positional fields",
                    Some("name the fields: on the wire a struct is a map keyed by field name"),
                );
                Vec::new()
            }
        };
        let decorations = self.decorations(&item.attrs);
        let name = self.ident(&item.ident);
        let span = self.span(item.span());
        let kind = if error {
            ast::ItemKind::Error(fields)
        } else {
            ast::ItemKind::Struct(fields)
        };
        Some(ast::Item {
            decorations,
            name,
            kind,
            span,
        })
    }

    fn fields(&mut self, fields: &syn::FieldsNamed) -> Vec<ast::Field> {
        fields
            .named
            .iter()
            .filter_map(|field| {
                let decorations = self.decorations(&field.attrs);
                let name = self.ident(field.ident.as_ref()?);
                let ty = self.type_expr(&field.ty)?;
                Some(ast::Field {
                    decorations,
                    name,
                    ty,
                })
            })
            .collect()
    }

    fn enumeration(&mut self, item: &syn::ItemEnum) -> Option<ast::Item> {
        self.refuse_generics(&item.generics, "an enum of a service");
        let variants = item
            .variants
            .iter()
            .filter_map(|variant| self.variant(variant))
            .collect();
        let decorations = self.decorations(&item.attrs);
        let name = self.ident(&item.ident);
        let span = self.span(item.span());
        Some(ast::Item {
            decorations,
            name,
            kind: ast::ItemKind::Enum(variants),
            span,
        })
    }

    fn variant(&mut self, variant: &syn::Variant) -> Option<ast::Variant> {
        if let Some((_, discriminant)) = &variant.discriminant {
            self.error_at(
                discriminant.span(),
                "a variant cannot have an explicit discriminant",
                "discriminant",
                Some("variants travel by name, not by number; remove `= …`"),
            );
        }
        let data = match &variant.fields {
            syn::Fields::Unit => ast::VariantData::Unit,
            syn::Fields::Unnamed(unnamed) if unnamed.unnamed.is_empty() => {
                self.error_at(
                    unnamed.span(),
                    "a tuple variant needs at least one value",
                    "empty parentheses",
                    Some("remove the `()` for a variant without data"),
                );
                ast::VariantData::Unit
            }
            syn::Fields::Unnamed(unnamed) => ast::VariantData::Tuple(
                unnamed
                    .unnamed
                    .iter()
                    .filter_map(|field| self.type_expr(&field.ty))
                    .collect(),
            ),
            syn::Fields::Named(named) => {
                let close = self.span(named.brace_token.span.close());
                ast::VariantData::Struct(self.fields(named), close)
            }
        };
        let decorations = self.decorations(&variant.attrs);
        let name = self.ident(&variant.ident);
        Some(ast::Variant {
            decorations,
            name,
            data,
        })
    }
}

/// The attributes of the item kinds rpcgen lowers.
fn item_attrs(item: &syn::Item) -> Option<&[syn::Attribute]> {
    match item {
        syn::Item::Struct(item) => Some(&item.attrs),
        syn::Item::Enum(item) => Some(&item.attrs),
        syn::Item::Trait(item) => Some(&item.attrs),
        syn::Item::Fn(item) => Some(&item.attrs),
        syn::Item::Union(item) => Some(&item.attrs),
        syn::Item::Type(item) => Some(&item.attrs),
        syn::Item::Impl(item) => Some(&item.attrs),
        _ => None,
    }
}
