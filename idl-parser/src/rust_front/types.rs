//! Rust types → `.rpc` type expressions.
//!
//! | Rust | `.rpc` |
//! | --- | --- |
//! | `bool`, `i8`…`i64`, `u8`…`u64`, `f32`, `f64` | the same |
//! | `String` | `string` |
//! | `Vec<u8>`, `Bytes` (`rpcgen_runtime::Bytes`) | `bytes` |
//! | `Value` (`rpcgen_runtime::Value`) | `any` |
//! | `Vec<T>` | `list<T>` |
//! | `BTreeMap<K, V>`, `HashMap<K, V>` | `map<K, V>` |
//! | `Option<T>` | `T?` |
//! | `Box<T>` | `T` (the generated code boxes where a type contains itself) |
//! | `BoxStream<'_, T>`, `Stream<Item = T>` | `stream<T>` (a method's return only) |
//! | any other name, `a::b::Ticket` | the user type named by the last segment |
//!
//! Anything else (references, tuples, arrays, `usize`, `char`, generic user types…) is an error at
//! the type, with the type to write instead.

use syn::spanned::Spanned;

use super::lower::Lowerer;
use crate::ast::{Ident, TypeExpr, TypeExprKind, TypePath};

/// Rust scalars that keep their name in the IDL.
const SAME_NAME: [&str; 11] = [
    "bool", "i8", "i16", "i32", "i64", "u8", "u16", "u32", "u64", "f32", "f64",
];

/// Rust types with no `.rpc` equivalent, with what to write instead.
const UNSUPPORTED: [(&str, &str); 8] = [
    ("usize", "use `u64` (or `u32`): the wire needs a fixed size"),
    ("isize", "use `i64` (or `i32`): the wire needs a fixed size"),
    (
        "u128",
        "128-bit integers do not fit in MessagePack; use `u64` or a `String`",
    ),
    (
        "i128",
        "128-bit integers do not fit in MessagePack; use `i64` or a `String`",
    ),
    ("char", "use a `String`"),
    ("str", "use `String`"),
    ("HashSet", "use `Vec<T>`"),
    ("BTreeSet", "use `Vec<T>`"),
];

/// The last segment of a path: `Ticket` in `crate::model::Ticket`.
pub(crate) fn last_segment(path: &syn::Path) -> Option<&syn::PathSegment> {
    path.segments.last()
}

/// The type arguments of a path segment: `[K, V]` for `BTreeMap<K, V>` (lifetimes skipped).
pub(crate) fn type_arguments(segment: &syn::PathSegment) -> Vec<&syn::Type> {
    match &segment.arguments {
        syn::PathArguments::AngleBracketed(arguments) => arguments
            .args
            .iter()
            .filter_map(|argument| match argument {
                syn::GenericArgument::Type(ty) => Some(ty),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// The item type of a stream type: `BoxStream<'a, T>`, `Stream<T>`, `Stream<Item = T>`,
/// `impl Stream<Item = T>` (any path whose last segment is `Stream` or `BoxStream`).
pub(crate) fn stream_item(ty: &syn::Type) -> Option<&syn::Type> {
    match ty {
        syn::Type::Path(path) => stream_segment_item(last_segment(&path.path)?),
        syn::Type::ImplTrait(bounds) => bounds.bounds.iter().find_map(|bound| match bound {
            syn::TypeParamBound::Trait(bound) => stream_segment_item(last_segment(&bound.path)?),
            _ => None,
        }),
        _ => None,
    }
}

fn stream_segment_item(segment: &syn::PathSegment) -> Option<&syn::Type> {
    if segment.ident != "Stream" && segment.ident != "BoxStream" {
        return None;
    }
    let syn::PathArguments::AngleBracketed(arguments) = &segment.arguments else {
        return None;
    };
    arguments.args.iter().find_map(|argument| match argument {
        syn::GenericArgument::Type(ty) => Some(ty),
        syn::GenericArgument::AssocType(item) if item.ident == "Item" => Some(&item.ty),
        _ => None,
    })
}

impl Lowerer<'_> {
    /// The `.rpc` type a Rust type stands for; `None` after reporting an unsupported type.
    pub(crate) fn type_expr(&mut self, ty: &syn::Type) -> Option<TypeExpr> {
        let kind = match ty {
            syn::Type::Paren(inner) => return self.type_expr(&inner.elem),
            syn::Type::Group(inner) => return self.type_expr(&inner.elem),
            syn::Type::Path(path) if path.qself.is_none() => self.path_type(ty, &path.path)?,
            syn::Type::ImplTrait(_) if stream_item(ty).is_some() => {
                let item = self.type_expr(stream_item(ty)?)?;
                TypeExprKind::Stream(Box::new(item))
            }
            syn::Type::Reference(reference) => {
                let owned = match &*reference.elem {
                    syn::Type::Path(path) if path.path.is_ident("str") => "String".to_string(),
                    syn::Type::Slice(slice) => {
                        format!("Vec<{}>", type_text(&slice.elem))
                    }
                    other => type_text(other),
                };
                return self.unsupported(
                    ty,
                    "a parameter or field cannot be a reference",
                    &format!("values are decoded from the wire and owned: write `{owned}`"),
                );
            }
            syn::Type::Tuple(tuple) if tuple.elems.is_empty() => {
                return self.unsupported(
                    ty,
                    "`()` can only be a method's return type",
                    "remove it, or use `Option<T>` for a value that may be absent",
                )
            }
            syn::Type::Tuple(_) => {
                return self.unsupported(
                    ty,
                    "tuples are not supported",
                    "declare an `#[rpcgen::data]` struct with named fields",
                )
            }
            syn::Type::Array(_) | syn::Type::Slice(_) => {
                return self.unsupported(ty, "arrays and slices are not supported", "use `Vec<T>`")
            }
            _ => {
                return self.unsupported(
                    ty,
                    &format!("the type `{}` is not supported", type_text(ty)),
                    "see docs/trait-first.md for the Rust types rpcgen maps",
                )
            }
        };
        let span = self.span(ty.span());
        Some(TypeExpr { kind, span })
    }

    fn path_type(&mut self, ty: &syn::Type, path: &syn::Path) -> Option<TypeExprKind> {
        let segment = last_segment(path)?;
        let name = segment.ident.to_string();
        let arguments = type_arguments(segment);
        if let Some((_, help)) = UNSUPPORTED.iter().find(|(rust, _)| *rust == name) {
            self.unsupported(ty, &format!("the type `{name}` is not supported"), help);
            return None;
        }
        if name == "Self" {
            self.unsupported(ty, "`Self` cannot be used in a service", "name the type");
            return None;
        }
        let scalar = |lowerer: &mut Lowerer<'_>, idl: &str| {
            let span = lowerer.span(ty.span());
            TypeExprKind::Path(TypePath {
                package: None,
                name: Ident {
                    text: idl.to_string(),
                    span,
                },
                span,
            })
        };
        let kind = match (name.as_str(), arguments.as_slice()) {
            (scalar_name, []) if SAME_NAME.contains(&scalar_name) => scalar(self, scalar_name),
            ("String", []) => scalar(self, "string"),
            ("Bytes", []) => scalar(self, "bytes"),
            ("Value", []) => scalar(self, "any"),
            ("Vec", [item]) if is_u8(item) => scalar(self, "bytes"),
            ("Vec", [item]) => TypeExprKind::List(Box::new(self.type_expr(item)?)),
            ("BTreeMap" | "HashMap", [key, value]) => {
                if name == "HashMap" {
                    self.maps.hash_map = true;
                } else {
                    self.maps.btree_map = true;
                }
                let key = self.type_expr(key)?;
                let value = self.type_expr(value)?;
                TypeExprKind::Map(Box::new(key), Box::new(value))
            }
            ("Option", [inner]) => {
                if matches!(inner, syn::Type::Path(path) if last_segment(&path.path).is_some_and(|segment| segment.ident == "Option"))
                {
                    self.unsupported(
                        ty,
                        "`Option<Option<T>>` is not supported",
                        "on the wire both kinds of `None` are nil; use one `Option`",
                    );
                    return None;
                }
                TypeExprKind::Optional(Box::new(self.type_expr(inner)?))
            }
            ("Box", [inner]) => return Some(self.type_expr(inner)?.kind),
            ("BoxStream" | "Stream", _) => {
                let item = stream_item(ty)?;
                TypeExprKind::Stream(Box::new(self.type_expr(item)?))
            }
            ("Result", _) => {
                self.unsupported(
                    ty,
                    "`Result` can only be the return type of a service method",
                    "a field or parameter holds a value: declare an `#[rpcgen::data]` enum for alternatives",
                );
                return None;
            }
            (_, []) if matches!(segment.arguments, syn::PathArguments::None) => {
                let name = self.ident(&segment.ident);
                let span = self.span(ty.span());
                TypeExprKind::Path(TypePath {
                    package: None,
                    name,
                    span,
                })
            }
            _ => {
                self.unsupported(
                    ty,
                    &format!("the type `{}` is not supported", type_text(ty)),
                    "user types cannot be generic, and containers are `Vec`, `BTreeMap`, `HashMap`, `Option` and `Box`",
                );
                return None;
            }
        };
        Some(kind)
    }

    fn unsupported(&mut self, ty: &syn::Type, message: &str, help: &str) -> Option<TypeExpr> {
        self.error_at(ty.span(), message, "unsupported type", Some(help));
        None
    }
}

fn is_u8(ty: &syn::Type) -> bool {
    matches!(ty, syn::Type::Path(path) if path.path.is_ident("u8"))
}

/// A type as Rust source, compact: `Vec<String>`.
fn type_text(ty: &syn::Type) -> String {
    let text = quote::ToTokens::to_token_stream(ty).to_string();
    text.replace(" < ", "<")
        .replace(" <", "<")
        .replace("< ", "<")
        .replace(" >", ">")
        .replace(" ,", ",")
        .replace("& ", "&")
        .replace(" :: ", "::")
}
