//! How IDL types become Rust types: the one place that decides it.
//!
//! | IDL | owned (fields, results, server parameters) | borrowed (client parameters) |
//! | --- | --- | --- |
//! | `bool`, integers, `f32`, `f64` | the same Rust scalar | the same |
//! | `string` | `String` | `&str` |
//! | `bytes` | `rpcgen_runtime::Bytes` (MessagePack `bin`) | `&[u8]` |
//! | `any` | `rpcgen_runtime::Value` | `&Value` |
//! | `list<T>` | `Vec<T>` | `&[T]` |
//! | `map<K, V>` | `BTreeMap<K, V>` (or `HashMap`, see [`MapType`]) | `&BTreeMap<K, V>` |
//! | `T?` | `Option<T>` | `Option<borrowed T>` |
//! | struct, enum | the generated type (boxed where it contains itself) | `&T`; a data-less enum by value |
//!
//! Maps are `BTreeMap` unless [`Options::map_type`](super::Options) says `HashMap`: their keys
//! (strings or data-less enums) are ordered, so encoding is deterministic and types holding maps
//! can still derive `Hash` and `Ord`.
//!
//! Prelude names (`Option`, `String`, …) are written short unless the package declares a type of
//! the same name, in which case the full path is used.

use std::collections::HashSet;

use proc_macro2::TokenStream;
use quote::quote;
use rpcgen_idl::ir::{Type, TypeName};

use super::facts::SchemaFacts;
use super::{names, MapType};

/// Maps the types of one package.
pub(super) struct TypeMapper<'a> {
    package: &'a str,
    facts: &'a SchemaFacts<'a>,
    /// Rust type names declared in the package's module, which hide prelude names.
    declared: &'a HashSet<String>,
}

/// A prelude item used by generated code, with its full path for when a package hides it.
#[derive(Debug, Clone, Copy)]
pub(super) enum PreludeName {
    Option,
    Result,
    String,
    Vec,
    Box,
    Send,
    Sync,
}

impl PreludeName {
    fn short(self) -> &'static str {
        match self {
            PreludeName::Option => "Option",
            PreludeName::Result => "Result",
            PreludeName::String => "String",
            PreludeName::Vec => "Vec",
            PreludeName::Box => "Box",
            PreludeName::Send => "Send",
            PreludeName::Sync => "Sync",
        }
    }

    fn full(self) -> TokenStream {
        match self {
            PreludeName::Option => quote!(::core::option::Option),
            PreludeName::Result => quote!(::core::result::Result),
            PreludeName::String => quote!(::std::string::String),
            PreludeName::Vec => quote!(::std::vec::Vec),
            PreludeName::Box => quote!(::std::boxed::Box),
            PreludeName::Send => quote!(::core::marker::Send),
            PreludeName::Sync => quote!(::core::marker::Sync),
        }
    }
}

impl<'a> TypeMapper<'a> {
    /// A mapper for the package `package`, whose module declares the Rust types `declared`.
    pub(super) fn new(
        package: &'a str,
        facts: &'a SchemaFacts<'a>,
        declared: &'a HashSet<String>,
    ) -> Self {
        Self {
            package,
            facts,
            declared,
        }
    }

    /// The package being generated.
    pub(super) fn package(&self) -> &str {
        self.package
    }

    /// The schema-wide facts.
    pub(super) fn facts(&self) -> &SchemaFacts<'a> {
        self.facts
    }

    /// A prelude name, short unless the package hides it.
    pub(super) fn prelude(&self, name: PreludeName) -> TokenStream {
        if self.declared.contains(name.short()) {
            name.full()
        } else {
            let ident = names::made_up(name.short());
            quote!(#ident)
        }
    }

    /// The path of a user type from this package's module (`Ticket`, `common::Money`): the
    /// module imports the packages it names with `use super::common;`.
    pub(super) fn named(&self, name: &TypeName) -> TokenStream {
        let ident = names::made_up(&names::type_name(&name.name));
        if name.package == self.package {
            quote!(#ident)
        } else {
            let package = names::made_up(&name.package);
            quote!(#package::#ident)
        }
    }

    /// The owned Rust type: for results, server parameters and inside containers.
    pub(super) fn owned(&self, ty: &Type) -> TokenStream {
        match ty {
            Type::Bool => quote!(bool),
            Type::I8 => quote!(i8),
            Type::I16 => quote!(i16),
            Type::I32 => quote!(i32),
            Type::I64 => quote!(i64),
            Type::U8 => quote!(u8),
            Type::U16 => quote!(u16),
            Type::U32 => quote!(u32),
            Type::U64 => quote!(u64),
            Type::F32 => quote!(f32),
            Type::F64 => quote!(f64),
            Type::String => self.prelude(PreludeName::String),
            Type::Bytes => quote!(::rpcgen_runtime::Bytes),
            Type::Any => quote!(::rpcgen_runtime::Value),
            Type::List(item) => {
                let vec = self.prelude(PreludeName::Vec);
                let item = self.owned(item);
                quote!(#vec<#item>)
            }
            Type::Map { key, value } => {
                let key = self.owned(key);
                let value = self.owned(value);
                match self.facts.map_type() {
                    MapType::BTreeMap => quote!(::std::collections::BTreeMap<#key, #value>),
                    MapType::HashMap => quote!(::std::collections::HashMap<#key, #value>),
                }
            }
            Type::Optional(inner) => {
                let option = self.prelude(PreludeName::Option);
                let inner = self.owned(inner);
                quote!(#option<#inner>)
            }
            Type::Named(name) => self.named(name),
        }
    }

    /// The type of a member (field or variant item) of `container`: owned, with a `Box` around a
    /// user type that contains `container` again.
    pub(super) fn member(&self, container: &TypeName, ty: &Type) -> TokenStream {
        match ty {
            Type::Named(name) if self.facts.needs_box(container, name) => {
                let boxed = self.prelude(PreludeName::Box);
                let inner = self.named(name);
                quote!(#boxed<#inner>)
            }
            Type::Optional(inner) => {
                let option = self.prelude(PreludeName::Option);
                let inner = self.member(container, inner);
                quote!(#option<#inner>)
            }
            _ => self.owned(ty),
        }
    }

    /// The type a client method takes for a parameter: borrowed where that saves a clone.
    pub(super) fn borrowed(&self, ty: &Type) -> TokenStream {
        match ty {
            Type::String => quote!(&str),
            Type::Bytes => quote!(&[u8]),
            Type::List(item) => {
                let item = self.owned(item);
                quote!(&[#item])
            }
            Type::Optional(inner) => {
                let option = self.prelude(PreludeName::Option);
                let inner = self.borrowed(inner);
                quote!(#option<#inner>)
            }
            Type::Named(name) if self.facts.is_unit_enum(name) => self.named(name),
            Type::Any | Type::Map { .. } | Type::Named(_) => {
                let owned = self.owned(ty);
                quote!(&#owned)
            }
            _ => self.owned(ty),
        }
    }

    /// The expression that sends a borrowed parameter: itself, except that bytes are wrapped so
    /// they travel as `bin`.
    pub(super) fn send_borrowed(&self, ty: &Type, value: TokenStream) -> TokenStream {
        match ty {
            Type::Bytes => quote!(::rpcgen_runtime::generated_support::bin(#value)),
            Type::Optional(inner) if **inner == Type::Bytes => {
                quote!(#value.map(::rpcgen_runtime::generated_support::bin))
            }
            _ => value,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rust::tests::schema_of;

    fn named(package: &str, name: &str) -> Type {
        Type::Named(TypeName {
            package: package.to_string(),
            name: name.to_string(),
        })
    }

    fn text(tokens: TokenStream) -> String {
        tokens.to_string()
    }

    #[test]
    fn maps_every_kind_of_type() {
        let schema = schema_of("package demo; enum Level { Low } struct Cell { next: Cell? }");
        let facts = SchemaFacts::new(&schema, MapType::BTreeMap);
        let declared = HashSet::new();
        let types = TypeMapper::new("demo", &facts, &declared);
        let map = Type::Map {
            key: Box::new(named("demo", "Level")),
            value: Box::new(Type::List(Box::new(Type::Optional(Box::new(Type::Bytes))))),
        };
        assert_eq!(
            text(types.owned(&map)),
            ":: std :: collections :: BTreeMap < Level , Vec < Option < :: rpcgen_runtime :: Bytes > > >"
        );
        assert_eq!(
            text(types.owned(&named("common", "Money"))),
            "common :: Money"
        );
        let cell = TypeName {
            package: "demo".to_string(),
            name: "Cell".to_string(),
        };
        let next = Type::Optional(Box::new(named("demo", "Cell")));
        assert_eq!(text(types.member(&cell, &next)), "Option < Box < Cell > >");
        assert_eq!(text(types.owned(&next)), "Option < Cell >");
    }

    #[test]
    fn client_parameters_are_borrowed_where_it_saves_a_clone() {
        let schema = schema_of("package demo; enum Level { Low } struct Ticket { id: u64 }");
        let facts = SchemaFacts::new(&schema, MapType::BTreeMap);
        let declared = HashSet::new();
        let types = TypeMapper::new("demo", &facts, &declared);
        let cases = [
            (Type::U64, "u64"),
            (Type::String, "& str"),
            (Type::Optional(Box::new(Type::String)), "Option < & str >"),
            (Type::Bytes, "& [u8]"),
            (Type::List(Box::new(Type::String)), "& [String]"),
            (named("demo", "Ticket"), "& Ticket"),
            (named("demo", "Level"), "Level"),
            (Type::Any, "& :: rpcgen_runtime :: Value"),
        ];
        for (ty, expected) in cases {
            assert_eq!(text(types.borrowed(&ty)), expected, "{ty:?}");
        }
        let bytes = types.send_borrowed(&Type::Optional(Box::new(Type::Bytes)), quote!(blob));
        assert_eq!(
            text(bytes),
            "blob . map (:: rpcgen_runtime :: generated_support :: bin)"
        );
    }

    #[test]
    fn declared_types_hide_prelude_names() {
        let schema = schema_of("package demo; struct Option { value: string? }");
        let facts = SchemaFacts::new(&schema, MapType::BTreeMap);
        let declared = HashSet::from(["Option".to_string()]);
        let types = TypeMapper::new("demo", &facts, &declared);
        assert_eq!(
            text(types.owned(&Type::Optional(Box::new(Type::String)))),
            ":: core :: option :: Option < String >"
        );
    }
}
