//! Structs, enums and errors.
//!
//! Every type derives serde through the runtime's re-export, so a struct is a map keyed by wire
//! names (the runtime always encodes with named fields), a data-less variant is its wire name,
//! and a variant with data is `{wire_name: payload}` (one value bare, several as an array, named
//! fields as a map). An `error` is a struct that also implements `std::error::Error` and the
//! runtime's `IdlError`, which puts it into zerorpc's `ERR` event as docs/errors.md specifies.

use proc_macro2::TokenStream;
use quote::quote;
use rpcgen_idl::ir::{Field, Type, TypeDef, TypeKind, TypeName, Variant, VariantData};
use rpcgen_idl::naming::NameKind;

use super::docs::{deprecated_attribute, doc_attributes};
use super::mapping::{PreludeName, TypeMapper};
use super::names;

/// The Rust definition of one user type.
pub(super) fn type_definition(types: &TypeMapper, def: &TypeDef) -> TokenStream {
    let name = TypeName {
        package: types.package().to_string(),
        name: def.name.clone(),
    };
    let ident = names::made_up(&names::type_name(&def.name));
    let docs = doc_attributes(&def.docs);
    let deprecated = deprecated_attribute(def.deprecated.as_ref());
    let derives = derives(types, &name);
    let header = quote! {
        #docs
        #deprecated
        #derives
        #[serde(crate = "::rpcgen_runtime::serde")]
    };
    match &def.kind {
        TypeKind::Struct { fields } => {
            let fields = fields
                .iter()
                .map(|field| field_definition(types, &name, field, true));
            quote! {
                #header
                pub struct #ident {
                    #(#fields)*
                }
            }
        }
        TypeKind::Enum { variants } => {
            let variants = variants
                .iter()
                .map(|variant| variant_definition(types, &name, variant));
            quote! {
                #header
                pub enum #ident {
                    #(#variants)*
                }
            }
        }
        TypeKind::Error { fields } => {
            let definitions = fields
                .iter()
                .map(|field| field_definition(types, &name, field, true));
            let impls = error_impls(types, &ident, &def.name, fields);
            quote! {
                #header
                pub struct #ident {
                    #(#definitions)*
                }

                #impls
            }
        }
    }
}

/// `Debug`, `Clone` and `PartialEq` always; `Eq` when nothing inside is a float or `any`, and
/// `Hash` and `Ord` too unless a `HashMap` is inside; `Copy` for data-less enums; serde's two
/// traits.
fn derives(types: &TypeMapper, name: &TypeName) -> TokenStream {
    let facts = types.facts();
    let copy = facts.is_unit_enum(name).then(|| quote!(Copy,));
    let ordering = if facts.is_total(name) {
        quote!(Eq, Hash, PartialOrd, Ord,)
    } else if facts.is_equatable(name) {
        quote!(Eq,)
    } else {
        TokenStream::new()
    };
    quote! {
        #[derive(
            Debug, Clone, #copy PartialEq, #ordering
            ::rpcgen_runtime::serde::Serialize, ::rpcgen_runtime::serde::Deserialize
        )]
    }
}

/// `#[serde(rename)]` when the wire name is not what serde would derive from the identifier.
fn rename(wire_name: &str, identifier: &str) -> TokenStream {
    if wire_name == names::unraw(identifier) {
        TokenStream::new()
    } else {
        quote!(#[serde(rename = #wire_name)])
    }
}

/// A field of a struct, an error or a struct-like variant (`public` for the first two).
fn field_definition(
    types: &TypeMapper,
    container: &TypeName,
    field: &Field,
    public: bool,
) -> TokenStream {
    let ident = names::ident(NameKind::Field, &field.name);
    let docs = doc_attributes(&field.docs);
    let deprecated = deprecated_attribute(field.deprecated.as_ref());
    let rename = rename(&field.wire_name, &ident.to_string());
    let ty = types.member(container, &field.ty);
    let visibility = public.then(|| quote!(pub));
    quote! {
        #docs
        #deprecated
        #rename
        #visibility #ident: #ty,
    }
}

fn variant_definition(types: &TypeMapper, container: &TypeName, variant: &Variant) -> TokenStream {
    let ident = names::ident(NameKind::Variant, &variant.name);
    let docs = doc_attributes(&variant.docs);
    let deprecated = deprecated_attribute(variant.deprecated.as_ref());
    let rename = rename(&variant.wire_name, &ident.to_string());
    let data = match &variant.data {
        VariantData::Unit => TokenStream::new(),
        VariantData::Tuple { items } => {
            let items = items.iter().map(|item| types.member(container, item));
            quote!((#(#items),*))
        }
        VariantData::Struct { fields } => {
            let fields = fields
                .iter()
                .map(|field| field_definition(types, container, field, false));
            quote!({ #(#fields)* })
        }
    };
    quote! {
        #docs
        #deprecated
        #rename
        #ident #data,
    }
}

/// `IdlError`, `Display` and `std::error::Error` for an error type.
fn error_impls(
    types: &TypeMapper,
    ident: &proc_macro2::Ident,
    idl_name: &str,
    fields: &[Field],
) -> TokenStream {
    let string = types.prelude(PreludeName::String);
    let has_message_field = fields
        .iter()
        .any(|field| field.name == "message" && field.ty == Type::String);
    let message = if has_message_field {
        quote!(::core::clone::Clone::clone(&self.message))
    } else {
        quote!(::rpcgen_runtime::generated_support::fields_message(self))
    };
    quote! {
        impl ::rpcgen_runtime::generated_support::IdlError for #ident {
            const NAME: &'static str = #idl_name;

            fn message(&self) -> #string {
                #message
            }
        }

        impl ::core::fmt::Display for #ident {
            fn fmt(&self, formatter: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                formatter.write_str(&::rpcgen_runtime::generated_support::describe(self))
            }
        }

        impl ::std::error::Error for #ident {}
    }
}
