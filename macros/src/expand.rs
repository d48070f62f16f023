//! What each macro expands to: the item lowered to the IR (with the rest of its file), the Rust
//! backend's code for the whole package, and from it the items that belong to this one.
//!
//! The backend prints a package as `pub mod <package> { … }`: each user type followed by its
//! impls, then each service starting with its trait. The macro parses that module back and keeps
//! the items from its own type or trait up to the next type or trait of the package, so the code
//! is exactly what the equivalent `.rpc` file generates.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, ToTokens};
use rpcgen::problems::GenerateError;
use rpcgen::rust::{MapType, Options};
use rpcgen_idl::locate::Declaration;
use rpcgen_idl::naming::{target_name, NameKind, Target};
use rpcgen_idl::rust_front::{compile_macro_item, MacroError, MacroPackage};
use syn::ext::IdentExt as _;

/// Which macro is expanding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `#[rpcgen::service]`.
    Service,
    /// `#[rpcgen::data]`.
    Data,
    /// `#[rpcgen::error]`.
    Error,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Service => "service",
            Kind::Data => "data",
            Kind::Error => "error",
        }
    }
}

/// Expands one macro call on `item`; `source` is the file the call is in, when the compiler
/// says which.
pub(crate) fn expand(
    kind: Kind,
    options: TokenStream,
    item: TokenStream,
    source: Option<PathBuf>,
) -> TokenStream {
    let mut item: syn::Item = match syn::parse2(item) {
        Ok(item) => item,
        Err(error) => return error.to_compile_error(),
    };
    if kind != Kind::Service && !options.is_empty() {
        let error = syn::Error::new_spanned(
            &options,
            format!("`#[rpcgen::{}]` takes no options", kind.name()),
        );
        return with_fallback(error, &item);
    }
    let name = format_ident!("{}", kind.name());
    let annotation: syn::Attribute = syn::parse_quote!(#[rpcgen::#name(#options)]);
    if let Some(attrs) = attrs_mut(&mut item) {
        attrs.insert(0, annotation);
    }
    let file = source.and_then(|path| {
        let text = std::fs::read_to_string(&path).ok()?;
        Some((path, syn::parse_file(&text).ok()?))
    });
    let context = file.as_ref().map(|(path, syntax)| (path.as_path(), syntax));
    match compile_macro_item(&item, context) {
        Ok(package) => match generated_items(&package, &item) {
            Ok(tokens) => tokens,
            Err(error) => with_fallback(error, &item),
        },
        Err(MacroError::Here(error)) => with_fallback(error, &item),
        Err(MacroError::Elsewhere) => fallback(&item),
    }
}

/// The compile error, followed by the item as written (without rpcgen's attributes), so that the
/// rest of the crate still sees its names and reports nothing more about them.
fn with_fallback(error: syn::Error, item: &syn::Item) -> TokenStream {
    let mut tokens = error.to_compile_error();
    tokens.extend(fallback(item));
    tokens
}

/// The item without the attributes only rpcgen understands.
fn fallback(item: &syn::Item) -> TokenStream {
    let mut item = item.clone();
    strip_rpcgen_attributes(&mut item);
    item.into_token_stream()
}

fn is_rpcgen(attr: &syn::Attribute) -> bool {
    let path = attr.path();
    path.is_ident("rpcgen")
        || path
            .segments
            .first()
            .is_some_and(|first| first.ident == "rpcgen" || first.ident == "rpcgen_macros")
}

fn strip(attrs: &mut Vec<syn::Attribute>) {
    attrs.retain(|attr| !is_rpcgen(attr));
}

fn strip_fields(fields: &mut syn::Fields) {
    for field in fields.iter_mut() {
        strip(&mut field.attrs);
    }
}

fn strip_rpcgen_attributes(item: &mut syn::Item) {
    if let Some(attrs) = attrs_mut(item) {
        strip(attrs);
    }
    match item {
        syn::Item::Struct(item) => strip_fields(&mut item.fields),
        syn::Item::Enum(item) => {
            for variant in &mut item.variants {
                strip(&mut variant.attrs);
                strip_fields(&mut variant.fields);
            }
        }
        syn::Item::Trait(item) => {
            for member in &mut item.items {
                if let syn::TraitItem::Fn(method) = member {
                    strip(&mut method.attrs);
                    for input in &mut method.sig.inputs {
                        if let syn::FnArg::Typed(typed) = input {
                            strip(&mut typed.attrs);
                        }
                    }
                }
            }
        }
        _ => {}
    }
}

fn attrs_mut(item: &mut syn::Item) -> Option<&mut Vec<syn::Attribute>> {
    match item {
        syn::Item::Struct(item) => Some(&mut item.attrs),
        syn::Item::Enum(item) => Some(&mut item.attrs),
        syn::Item::Trait(item) => Some(&mut item.attrs),
        syn::Item::Fn(item) => Some(&mut item.attrs),
        syn::Item::Union(item) => Some(&mut item.attrs),
        syn::Item::Type(item) => Some(&mut item.attrs),
        syn::Item::Impl(item) => Some(&mut item.attrs),
        _ => None,
    }
}

/// The Rust name and the visibility of the item a macro was called on.
fn declared(item: &syn::Item) -> Option<(String, syn::Visibility)> {
    let (ident, vis) = match item {
        syn::Item::Struct(item) => (&item.ident, &item.vis),
        syn::Item::Enum(item) => (&item.ident, &item.vis),
        syn::Item::Trait(item) => (&item.ident, &item.vis),
        _ => return None,
    };
    let text = ident.to_string();
    let idl = text.strip_prefix("r#").unwrap_or(&text);
    Some((target_name(Target::Rust, NameKind::Type, idl), vis.clone()))
}

/// The Rust name a top-level generated item declares.
fn defined_name(item: &syn::Item) -> Option<String> {
    match item {
        syn::Item::Struct(item) => Some(item.ident.to_string()),
        syn::Item::Enum(item) => Some(item.ident.to_string()),
        syn::Item::Trait(item) => Some(item.ident.to_string()),
        _ => None,
    }
}

/// The backend's code for the item: its part of the package's generated module, with the item's
/// own visibility. Maps are `HashMap`s where the file wrote every map as one, else `BTreeMap`s.
fn generated_items(lowered: &MacroPackage, item: &syn::Item) -> syn::Result<TokenStream> {
    let schema = &lowered.schema;
    let (own_name, visibility) = declared(item)
        .ok_or_else(|| syn::Error::new(Span::call_site(), "rpcgen cannot expand this item"))?;
    let package = schema
        .root_packages()
        .next()
        .expect("the Rust front end always gives one package");
    let map_type = if lowered.maps.only_hash_maps() {
        MapType::HashMap
    } else {
        MapType::BTreeMap
    };
    let files = rpcgen::rust::generate_with(
        schema,
        Options {
            map_type,
            ..Options::default()
        },
    )
    .map_err(|error| backend_error(item, &error))?;
    let file_name = format!("{}.rs", package.name);
    let generated = files
        .iter()
        .find(|file| file.path == Path::new(&file_name))
        .expect("the Rust backend writes one file per package");
    let syntax =
        syn::parse_file(&generated.contents).expect("the Rust backend generates valid Rust");
    let Some(syn::Item::Mod(module)) = syntax.items.into_iter().next() else {
        unreachable!("the Rust backend wraps a package in one module")
    };
    let inner_allows: Vec<syn::Attribute> = module
        .attrs
        .iter()
        .filter(|attr| matches!(attr.style, syn::AttrStyle::Inner(_)))
        .map(|attr| {
            let meta = &attr.meta;
            syn::parse_quote!(#[#meta])
        })
        .collect();
    let owners: HashMap<String, ()> = package
        .types
        .iter()
        .map(|def| &def.name)
        .chain(package.services.iter().map(|service| &service.name))
        .map(|name| (target_name(Target::Rust, NameKind::Type, name), ()))
        .collect();
    let mut current: Option<String> = None;
    let mut tokens = TokenStream::new();
    for mut generated in module.content.map(|(_, items)| items).unwrap_or_default() {
        if let Some(name) = defined_name(&generated).filter(|name| owners.contains_key(name)) {
            current = Some(name);
        }
        if current.as_deref() != Some(own_name.as_str()) {
            continue;
        }
        set_visibility(&mut generated, &visibility);
        if let Some(attrs) = attrs_mut(&mut generated) {
            attrs.extend(inner_allows.iter().cloned());
        }
        tokens.extend(quote!(#generated));
    }
    Ok(tokens)
}

/// The Rust backend's problems as one compile error per problem, each at the method it is about
/// (or at the item's name).
fn backend_error(item: &syn::Item, error: &GenerateError) -> syn::Error {
    let mut errors = error.problems.iter().map(|problem| {
        let message = format!("{}; {}", problem.message, problem.help);
        match (&problem.at, item) {
            (Declaration::Method { method, .. }, syn::Item::Trait(item)) => {
                let named = item.items.iter().find_map(|member| match member {
                    syn::TraitItem::Fn(function) if function.sig.ident.unraw() == method => {
                        Some(&function.sig.ident)
                    }
                    _ => None,
                });
                syn::Error::new_spanned(named.unwrap_or(&item.ident), message)
            }
            _ => syn::Error::new_spanned(item_ident(item), message),
        }
    });
    let mut combined = errors
        .next()
        .expect("a GenerateError has at least one problem");
    combined.extend(errors);
    combined
}

fn item_ident(item: &syn::Item) -> TokenStream {
    match item {
        syn::Item::Struct(item) => item.ident.to_token_stream(),
        syn::Item::Enum(item) => item.ident.to_token_stream(),
        syn::Item::Trait(item) => item.ident.to_token_stream(),
        other => other.to_token_stream(),
    }
}

/// Gives a generated type, trait or function the visibility the user wrote on the item.
fn set_visibility(item: &mut syn::Item, visibility: &syn::Visibility) {
    let target = match item {
        syn::Item::Struct(item) => &mut item.vis,
        syn::Item::Enum(item) => &mut item.vis,
        syn::Item::Trait(item) => &mut item.vis,
        syn::Item::Fn(item) => &mut item.vis,
        _ => return,
    };
    *target = visibility.clone();
}
