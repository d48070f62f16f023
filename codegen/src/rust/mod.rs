//! The Rust backend: IR → one Rust file per package, each holding `pub mod <package> { … }`.
//!
//! A package's module has, in this order: its types (`types.rs`); for each service the trait a
//! server implements, the typed error enums of its methods and the function that serves an
//! implementation (`service.rs`); then the typed client (`client.rs`). `rpcgen-macros` relies on
//! this order to pick out the items of one type or service. How IDL types map to Rust
//! types is decided in one place, `mapping.rs`. Generated code names nothing but `rpcgen_runtime`
//! and the standard library; other packages are sibling modules, imported with
//! `use super::common;` (the line says which `include_rpc!` it needs) and named `common::Money`.
//!
//! Code is built as typed token trees with `quote` and printed with `prettyplease`, so it is
//! formatted like rustfmt's output without running rustfmt, and it cannot have syntax errors from
//! string pasting. docs/rust.md shows what the output looks like and how to use it.

mod client;
mod docs;
mod facts;
mod mapping;
mod names;
mod print;
mod service;
mod types;

use std::collections::HashSet;

use proc_macro2::TokenStream;
use quote::quote;
use rpcgen_idl::contract::service_contract;
use rpcgen_idl::ir::{Package, Schema, TypeKind};
use rpcgen_idl::locate::Declaration;
use rpcgen_idl::naming::NameKind;

use crate::output::GeneratedFile;
pub use crate::problems::GenerateError;
use crate::problems::{clashes, DeclaredName, Problem};
use crate::rpc_printer;
use facts::SchemaFacts;
use mapping::TypeMapper;
use names::ServiceNames;

/// The most parameters a method can have: the runtime client sends arguments as a tuple of up
/// to 12 values.
pub const MAX_PARAMS: usize = 12;

/// Which Rust type generated code uses for the IDL's `map<K, V>`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum MapType {
    /// `std::collections::BTreeMap` (the default): entries are encoded in key order, so the
    /// same value always makes the same bytes, and types holding maps derive `Hash` and `Ord`.
    #[default]
    BTreeMap,
    /// `std::collections::HashMap`: faster to fill and to look up (a 100-entry map round trip
    /// measured 6 to 8 % faster, docs/benchmarks.md), but entries are encoded in no particular
    /// order, and types holding a map derive neither `Hash` nor `PartialOrd`/`Ord`.
    HashMap,
}

/// Choices of the Rust backend; the default is what [`generate`] does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// The Rust type of `map<K, V>`.
    pub map_type: MapType,
    /// Whether a generated server publishes its service's contract (the `.rpc` text of the service
    /// and the types it reaches) in `_zerorpc_inspect`, for `rpcgen pull` (default: true).
    pub publish_contract: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            map_type: MapType::default(),
            publish_contract: true,
        }
    }
}

/// Generates `<package>.rs` for every package of the schema, imported ones included (the
/// generated code of a package refers to the modules of the packages it imports).
pub fn generate(schema: &Schema) -> Result<Vec<GeneratedFile>, GenerateError> {
    generate_with(schema, Options::default())
}

/// [`generate`] with other [`Options`].
pub fn generate_with(
    schema: &Schema,
    options: Options,
) -> Result<Vec<GeneratedFile>, GenerateError> {
    GenerateError::check(check(schema))?;
    let facts = SchemaFacts::new(schema, options.map_type);
    let files = schema
        .packages
        .iter()
        .map(|package| {
            let declared = declared_names(package)
                .into_iter()
                .map(|declared| declared.name)
                .collect();
            package_file(schema, &facts, package, &declared, options.publish_contract)
        })
        .collect();
    Ok(files)
}

/// What the Rust backend cannot generate as written: names it needs for a service that another
/// item has, client methods an IDL method would hide, and methods a Rust client cannot call.
pub fn check(schema: &Schema) -> Vec<Problem> {
    let mut problems = Vec::new();
    for package in &schema.packages {
        let message = |declared: &DeclaredName, holder: &DeclaredName| {
            format!(
                "the Rust backend needs the name `{}` for {}, but {} has it",
                declared.name, declared.what, holder.what
            )
        };
        problems.extend(clashes(
            declared_names(package),
            message,
            "rename one of them",
        ));
        for service in &package.services {
            problems.extend(method_problems(package, service));
        }
    }
    problems
}

/// The Rust type names a package's module declares: user types and services (their traits),
/// then each service's client and error enums.
fn declared_names(package: &Package) -> Vec<DeclaredName> {
    let mut declared = Vec::new();
    for def in &package.types {
        declared.push(DeclaredName {
            name: names::type_name(&def.name),
            at: Declaration::Type {
                package: package.name.clone(),
                name: def.name.clone(),
            },
            what: format!("the type `{}`", def.name),
        });
    }
    for service in &package.services {
        let service_names = ServiceNames::new(&service.name);
        let at = Declaration::Service {
            package: package.name.clone(),
            name: service.name.clone(),
        };
        declared.push(DeclaredName {
            name: service_names.trait_name.clone(),
            at: at.clone(),
            what: format!("the trait of service `{}`", service.name),
        });
        declared.push(DeclaredName {
            name: service_names.client.clone(),
            at,
            what: format!("the client of service `{}`", service.name),
        });
        for method in service
            .methods
            .iter()
            .filter(|method| !method.throws.is_empty())
        {
            declared.push(DeclaredName {
                name: service_names.error_enum(&method.name),
                at: Declaration::Method {
                    package: package.name.clone(),
                    service: service.name.clone(),
                    method: method.name.clone(),
                },
                what: format!(
                    "the error enum of method `{}.{}`",
                    service.name, method.name
                ),
            });
        }
    }
    declared
}

/// Methods the Rust backend cannot express as written.
fn method_problems(package: &Package, service: &rpcgen_idl::ir::Service) -> Vec<Problem> {
    let mut problems = Vec::new();
    for method in &service.methods {
        let at = || Declaration::Method {
            package: package.name.clone(),
            service: service.name.clone(),
            method: method.name.clone(),
        };
        let rust_name = names::ident(NameKind::Method, &method.name).to_string();
        if names::CLIENT_METHODS.contains(&rust_name.as_str()) {
            problems.push(Problem::new(
                at(),
                format!(
                    "the method `{}.{}` would be `{rust_name}` in Rust, which is already a \
                     method of every generated client",
                    service.name, method.name
                ),
                format!(
                    "rename the method and keep its wire name with `@name(\"{}\")`",
                    method.wire_name
                ),
            ));
        }
        if method.params.len() > MAX_PARAMS {
            problems.push(Problem::new(
                at(),
                format!(
                    "the method `{}.{}` has {} parameters, more than the {MAX_PARAMS} a Rust \
                     client can send",
                    service.name,
                    method.name,
                    method.params.len()
                ),
                "group some of them in a struct",
            ));
        }
        if let Some(error) = method
            .throws
            .iter()
            .find(|error| names::type_name(&error.name) == names::CALL_VARIANT)
        {
            problems.push(Problem::new(
                Declaration::of_type(error),
                format!(
                    "the method `{}.{}` throws `{}`, but in Rust `{}` is the variant of its error \
                     enum for every other failure",
                    service.name,
                    method.name,
                    error.name,
                    names::CALL_VARIANT
                ),
                "rename the error type",
            ));
        }
    }
    problems
}

/// Lints the generated module allows, because the IDL decides what they judge: doc prose written
/// for every language (HTML-like `list<T>`, bare URLs, brackets, list layout, tabs, a `rust` fence
/// holding what does not parse as Rust), shapes fixed
/// by the wire (many parameters, large variants, long types, method names such as `from_x`), and
/// uses of deprecated items by the generated code itself. `tests/rust/api/awkward.rpc` triggers
/// each of them.
fn module_allows(uses_deprecated: bool) -> TokenStream {
    let deprecated = uses_deprecated.then(|| quote!(deprecated,));
    quote! {
        #![allow(
            #deprecated
            rustdoc::bare_urls,
            rustdoc::broken_intra_doc_links,
            rustdoc::invalid_html_tags,
            rustdoc::invalid_rust_codeblocks,
            clippy::doc_lazy_continuation,
            clippy::doc_overindented_list_items,
            clippy::tabs_in_doc_comments,
            clippy::too_many_arguments,
            clippy::large_enum_variant,
            clippy::type_complexity,
            clippy::wrong_self_convention
        )]
    }
}

/// Whether anything the package declares, or the packages it imports, is deprecated.
fn uses_deprecated(packages: &[&Package]) -> bool {
    packages.iter().any(|package| {
        package.types.iter().any(|def| {
            def.deprecated.is_some() || match &def.kind {
                TypeKind::Struct { fields } | TypeKind::Error { fields } => {
                    fields.iter().any(|field| field.deprecated.is_some())
                }
                TypeKind::Enum { variants } => variants.iter().any(|variant| {
                    variant.deprecated.is_some()
                        || matches!(&variant.data, rpcgen_idl::ir::VariantData::Struct { fields }
                                if fields.iter().any(|field| field.deprecated.is_some()))
                }),
            }
        }) || package.services.iter().any(|service| {
            service.deprecated.is_some()
                || service
                    .methods
                    .iter()
                    .any(|method| method.deprecated.is_some())
        })
    })
}

fn package_file(
    schema: &Schema,
    facts: &SchemaFacts,
    package: &Package,
    declared: &HashSet<String>,
    publish_contract: bool,
) -> GeneratedFile {
    let types = TypeMapper::new(&package.name, facts, declared);
    let related: Vec<&Package> = std::iter::once(package)
        .chain(
            package
                .imports
                .iter()
                .filter_map(|name| schema.package(name)),
        )
        .collect();
    let allows = module_allows(uses_deprecated(&related));
    let definitions = package
        .types
        .iter()
        .map(|def| types::type_definition(&types, def));
    let services = package.services.iter().map(|service| {
        let contract = publish_contract.then(|| {
            let contract = service_contract(schema, &package.name, &service.name)
                .expect("the service is in the schema");
            service::ContractFiles {
                root: rpc_printer::file_name(&package.name),
                files: rpc_printer::print(&contract),
            }
        });
        let server = service::server_side(&types, service, contract.as_ref());
        let client = client::client(&types, service);
        quote!(#server #client)
    });
    let body = quote! {
        #allows
        #(#definitions)*
        #(#services)*
    };
    let referenced = package.referenced_packages();
    let imports: Vec<&str> = referenced
        .iter()
        .map(String::as_str)
        .filter(|name| *name != package.name)
        .collect();
    let contents = format!(
        "// @generated by rpcgen from package `{}`. Do not edit.\n\n{}",
        package.name,
        print::module(
            &package.name,
            &docs::rustdoc_lines(&package.docs),
            &imports,
            body
        )
    );
    GeneratedFile::new(format!("{}.rs", package.name), contents)
}

#[cfg(test)]
pub(crate) mod tests {
    use rpcgen_idl::{Compiler, MemoryLoader};

    use super::*;

    /// The schema of one `.rpc` text (which must be valid).
    pub(crate) fn schema_of(text: &str) -> Schema {
        Compiler::with_loader(MemoryLoader::new().with_file("test.rpc", text))
            .compile(&["test.rpc"])
            .unwrap_or_else(|errors| panic!("{errors}"))
    }

    fn generated(text: &str) -> String {
        let files = generate(&schema_of(text)).unwrap();
        assert_eq!(files.len(), 1);
        files.into_iter().next().unwrap().contents
    }

    #[test]
    fn every_package_gets_one_file_with_a_header() {
        let loader = MemoryLoader::new()
            .with_file("common.rpc", "package common; struct Money { cents: i64 }")
            .with_file(
                "shop.rpc",
                "package shop; import \"common.rpc\"; struct Price { amount: common.Money }",
            );
        let schema = Compiler::with_loader(loader)
            .compile(&["shop.rpc"])
            .unwrap();
        let files = generate(&schema).unwrap();
        let paths: Vec<_> = files
            .iter()
            .map(|file| file.path.to_str().unwrap())
            .collect();
        assert_eq!(paths, ["common.rs", "shop.rs"]);
        assert!(files[1]
            .contents
            .starts_with("// @generated by rpcgen from package `shop`. Do not edit.\n"));
        assert!(files[1].contents.contains(
            "    use super::common; // needs rpcgen_runtime::include_rpc!(\"common\") too\n"
        ));
        assert!(files[1].contents.contains("pub amount: common::Money,"));
    }

    #[test]
    fn deprecation_is_allowed_inside_the_module_only_when_needed() {
        let plain = generated("package demo; struct A { x: u8 }");
        assert!(!plain.contains("deprecated"));
        let old = generated("package demo; service S { @deprecated(\"use b\") a(); b(); }");
        assert!(old.contains("#![allow(\n        deprecated,"), "{old}");
        assert!(old.contains("#[deprecated(note = \"use b\")]"));
    }

    #[test]
    fn names_the_backend_needs_are_checked() {
        let schema = schema_of(
            "package demo;
             struct ShopClient {}
             error Call {}
             service Shop { connect(); get() throws Call; }",
        );
        let problems = generate(&schema).unwrap_err().problems;
        let method = |method: &str| Declaration::Method {
            package: "demo".into(),
            service: "Shop".into(),
            method: method.into(),
        };
        let found: Vec<(&Declaration, &str)> = problems
            .iter()
            .map(|problem| (&problem.at, problem.message.as_str()))
            .collect();
        assert_eq!(
            found,
            [
                (
                    &Declaration::Service {
                        package: "demo".into(),
                        name: "Shop".into()
                    },
                    "the Rust backend needs the name `ShopClient` for the client of service \
                     `Shop`, but the type `ShopClient` has it"
                ),
                (
                    &method("connect"),
                    "the method `Shop.connect` would be `connect` in Rust, which is already a \
                     method of every generated client"
                ),
                (
                    &Declaration::Type {
                        package: "demo".into(),
                        name: "Call".into()
                    },
                    "the method `Shop.get` throws `Call`, but in Rust `Call` is the variant of its \
                     error enum for every other failure"
                ),
            ]
        );
        assert_eq!(check(&schema), problems);
    }

    #[test]
    fn a_server_publishes_its_contract_unless_told_not_to() {
        let schema = schema_of("package demo; struct A { x: u8 } service S { get() -> A; }");
        let published = &generate(&schema).unwrap()[0].contents;
        assert!(
            published.contains(".contract(\n") && published.contains("\"service S {\\n\""),
            "{published}"
        );
        let options = Options {
            publish_contract: false,
            ..Options::default()
        };
        let hidden = &generate_with(&schema, options).unwrap()[0].contents;
        assert!(!hidden.contains(".contract("), "{hidden}");
    }

    #[test]
    fn too_many_parameters_are_refused_with_advice() {
        let params: Vec<String> = (0..13).map(|index| format!("p{index}: u8")).collect();
        let schema = schema_of(&format!(
            "package demo; service S {{ wide({}); }}",
            params.join(", ")
        ));
        let problems = generate(&schema).unwrap_err().problems;
        assert!(
            problems[0]
                .message
                .contains("13 parameters, more than the 12"),
            "{problems:?}"
        );
    }
}
