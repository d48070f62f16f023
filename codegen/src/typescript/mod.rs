//! The TypeScript backend: turns a schema into one ES module per IDL package, plus the runtime.
//!
//! For each package, `<package>.ts` holds, in declaration order:
//! - an interface per struct and a union type per enum, in the wire form itself (properties are
//!   wire names; a unit variant is its wire name, a variant with data a one-key object), so that
//!   values go to the encoder as they are;
//! - a converter per struct and enum (`toTicket(value, path)`), which checks a value and converts
//!   64-bit integers to `bigint`; clients run it on arguments and replies alike;
//! - a class per IDL error, extending the runtime's `RemoteError`;
//! - a `<Service>Client` class per service, with one method per IDL method.
//!
//! Other packages are imported as namespaces (`import * as common from "./common.js"`) and the
//! runtime as `rpcgen`; `rpcgen-runtime.ts` is emitted verbatim beside the packages, so the output
//! needs only the `zeromq` and `@msgpack/msgpack` packages. The view models (`view`) compute every
//! name and expression; the askama template `templates/typescript/package.ts` lays them out.

mod types;
mod view;

use askama::Template;
use rpcgen_idl::ir::{Field, Package, Schema, TypeKind, VariantData};
use rpcgen_idl::locate::Declaration as LocatedAt;

use crate::output::GeneratedFile;
pub use crate::problems::GenerateError;
use crate::problems::{clashes, DeclaredName, Problem};
use types::{type_identifier, RUNTIME_NAMESPACE};
use view::{client_class_name, Declaration, PackageView, Payload};

/// The name of the runtime file emitted beside the generated packages.
pub const RUNTIME_FILE: &str = "rpcgen-runtime.ts";

/// The TypeScript runtime, copied verbatim into every output.
const RUNTIME_SOURCE: &str = include_str!("../../../runtime/ts/src/rpcgen-runtime.ts");

/// Global names that generated code uses, so that no generated type may take them.
const GLOBALS_USED: &[&str] = &["AsyncIterable", "Promise", "Uint8Array"];

/// Generates `<package>.ts` for every package of the schema, imported ones included, and the
/// file `rpcgen-runtime.ts`.
pub fn generate(schema: &Schema) -> Result<Vec<GeneratedFile>, GenerateError> {
    GenerateError::check(check(schema))?;
    let mut files = Vec::with_capacity(schema.packages.len() + 1);
    for package in &schema.packages {
        let view = PackageView::new(schema, package);
        let contents = PackageTemplate { view: &view }
            .render()
            .expect("the template only fails when a value's Display does, and none of ours does");
        files.push(GeneratedFile::new(
            format!("{}.ts", package.name),
            without_extra_blank_lines(&contents),
        ));
    }
    files.push(GeneratedFile::new(RUNTIME_FILE, RUNTIME_SOURCE));
    Ok(files)
}

/// Names that are valid IDL but would clash in a generated module: the runtime's namespace as a
/// package name, globals that generated code uses, two declarations with one TypeScript name, and
/// `__proto__` as a key.
pub fn check(schema: &Schema) -> Vec<Problem> {
    let mut problems = Vec::new();
    for package in &schema.packages {
        if package.name == RUNTIME_NAMESPACE {
            problems.push(Problem::new(
                LocatedAt::Package {
                    name: package.name.clone(),
                },
                format!(
                    "the package name `{RUNTIME_NAMESPACE}` is reserved in TypeScript: generated \
                     files import the runtime under that name"
                ),
                "rename the package",
            ));
        }
        problems.extend(name_problems(package));
        let proto_keys = package.types.iter().filter(|def| uses_proto_key(&def.kind));
        problems.extend(proto_keys.map(|def| {
            Problem::new(
                LocatedAt::Type {
                    package: package.name.clone(),
                    name: def.name.clone(),
                },
                format!(
                    "the type `{}` has a field or variant sent as `{PROTO_KEY}`, which a \
                     JavaScript object cannot hold as a plain key",
                    def.name
                ),
                "give it another `@name`",
            )
        }));
    }
    problems
}

/// Types and clients whose TypeScript name hides a global generated code uses, or another's.
fn name_problems(package: &Package) -> Vec<Problem> {
    let types = package.types.iter().map(|def| DeclaredName {
        name: type_identifier(&def.name),
        at: LocatedAt::Type {
            package: package.name.clone(),
            name: def.name.clone(),
        },
        what: format!("the type `{}`", def.name),
    });
    let clients = package.services.iter().map(|service| DeclaredName {
        name: client_class_name(&service.name),
        at: LocatedAt::Service {
            package: package.name.clone(),
            name: service.name.clone(),
        },
        what: format!("the client of service `{}`", service.name),
    });
    let (globals, others): (Vec<_>, Vec<_>) = types
        .chain(clients)
        .partition(|declared| GLOBALS_USED.contains(&declared.name.as_str()));
    let mut problems: Vec<Problem> = globals
        .into_iter()
        .map(|declared| {
            let DeclaredName { name, at, what } = declared;
            Problem::new(
                at,
                format!(
                    "{what} would be named `{name}` in TypeScript, which hides the global \
                     `{name}` that generated code uses"
                ),
                "rename it",
            )
        })
        .collect();
    let message = |declared: &DeclaredName, holder: &DeclaredName| {
        format!(
            "{} would be named `{}` in TypeScript, like {}",
            declared.what, declared.name, holder.what
        )
    };
    problems.extend(clashes(others, message, "rename one of them"));
    problems
}

/// The one map key JavaScript objects treat specially: it sets the prototype.
const PROTO_KEY: &str = "__proto__";

/// Whether a field or variant of a type travels under the key `__proto__`.
fn uses_proto_key(kind: &TypeKind) -> bool {
    let any_field = |fields: &[Field]| fields.iter().any(|field| field.wire_name == PROTO_KEY);
    match kind {
        TypeKind::Struct { fields } | TypeKind::Error { fields } => any_field(fields),
        TypeKind::Enum { variants } => variants.iter().any(|variant| {
            variant.wire_name == PROTO_KEY
                || matches!(&variant.data, VariantData::Struct { fields } if any_field(fields))
        }),
    }
}

/// `text` with every run of blank lines reduced to one and a single newline at the end, so that
/// the template can separate its optional parts generously.
fn without_extra_blank_lines(text: &str) -> String {
    let mut tidy = String::with_capacity(text.len());
    let mut previous_blank = true;
    for line in text.lines() {
        let blank = line.trim().is_empty();
        if !(blank && previous_blank) {
            tidy.push_str(line);
            tidy.push('\n');
        }
        previous_blank = blank;
    }
    while tidy.ends_with("\n\n") {
        tidy.pop();
    }
    tidy
}

/// `templates/typescript/package.ts`: one package's module.
#[derive(Template)]
#[template(path = "typescript/package.ts", escape = "none")]
struct PackageTemplate<'a> {
    view: &'a PackageView,
}

#[cfg(test)]
mod tests {
    use super::*;
    use rpcgen_idl::MemoryLoader;

    fn compile(source: &str) -> Schema {
        let loader = MemoryLoader::new().with_file("test.rpc", source);
        rpcgen_idl::Compiler::with_loader(loader)
            .compile(&["test.rpc"])
            .unwrap_or_else(|errors| panic!("{errors}"))
    }

    fn generate_package(source: &str) -> Result<String, GenerateError> {
        let files = generate(&compile(source))?;
        assert_eq!(
            files.last().map(|file| file.path.as_path()),
            Some(RUNTIME_FILE.as_ref())
        );
        Ok(files[0].contents.clone())
    }

    #[test]
    fn emits_each_package_and_the_runtime() {
        let files = generate(&compile("package shop;\nstruct A { x: u64 }")).unwrap();
        let paths: Vec<_> = files
            .iter()
            .map(|file| file.path.to_str().unwrap())
            .collect();
        assert_eq!(paths, ["shop.ts", "rpcgen-runtime.ts"]);
        assert_eq!(files[1].contents, RUNTIME_SOURCE);
        assert!(files[0]
            .contents
            .contains("export interface A {\n  x: bigint;\n}"));
    }

    #[test]
    fn blank_lines_are_tidied() {
        assert_eq!(without_extra_blank_lines("a\n\n\n  \nb\n\n"), "a\n\nb\n");
        assert_eq!(without_extra_blank_lines("\na"), "a\n");
    }

    #[test]
    fn client_names_must_not_collide_with_types() {
        let error = generate_package("package shop;\nstruct TicketsClient {}\nservice Tickets {}")
            .unwrap_err();
        assert!(error.to_string().contains("`TicketsClient`"), "{error}");
    }

    #[test]
    fn generated_code_keeps_its_globals_and_runtime_name() {
        let error = generate_package("package shop;\nstruct Promise {}").unwrap_err();
        assert!(error.to_string().contains("global `Promise`"), "{error}");
        let error = generate_package("package rpcgen;").unwrap_err();
        assert!(error.to_string().contains("reserved"), "{error}");
    }

    #[test]
    fn proto_keys_are_refused() {
        for source in [
            "package p;\nstruct A { @name(\"__proto__\") x: u8 }",
            "package p;\nenum E { @name(\"__proto__\") X }",
            "package p;\nenum E { X { @name(\"__proto__\") y: u8 } }",
        ] {
            let error = generate_package(source).unwrap_err();
            assert!(error.to_string().contains("`__proto__`"), "{error}");
        }
    }
}
