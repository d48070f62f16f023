//! The Python backend: turns a schema into a Python package of typed zerorpc clients.
//!
//! The output folder is a Python package (import it as `gen` when the folder is `gen/`):
//! - `<package>.py` per IDL package (roots and imports), holding in declaration order a frozen
//!   dataclass per struct (with `to_wire()` / `from_wire()`), an `enum.Enum` per enum without data,
//!   a dataclass per variant plus a `Union` alias and a `<name>_from_wire()` function per enum with
//!   data, an exception class (a `RemoteError`) per error, and a `<Service>Client` and an
//!   `Async<Service>Client` per service; then the codec and method constants that describe every
//!   type and method to `rpcgen_values`;
//! - `rpcgen_runtime.py`, the runtime (copied from `runtime/python/`), and `rpcgen_values.py`,
//!   which checks and converts values (copied from this folder), so the output needs only `pyzmq`
//!   and `msgpack`;
//! - `__init__.py` and `py.typed`.
//!
//! Modules import each other and the runtime relatively (`from . import common as _common`).
//! The view model (`view`) computes every name, annotation, codec and docstring; the askama
//! template `templates/python/module.py` lays them out. docs/python.md describes the output.

mod names;
mod text;
mod types;
mod view;

use askama::Template;
use rpcgen_idl::ir::{Package, Schema, TypeKind, VariantData};
use rpcgen_idl::locate::Declaration;

use crate::output::GeneratedFile;
pub use crate::problems::GenerateError;
use crate::problems::{clashes, DeclaredName, Problem};
use view::{Item, ModuleView};

/// The runtime module emitted beside the generated modules.
pub const RUNTIME_FILE: &str = "rpcgen_runtime.py";

/// The value-checking module emitted beside the generated modules.
pub const VALUES_FILE: &str = "rpcgen_values.py";

/// The Python runtime, copied verbatim into every output.
const RUNTIME_SOURCE: &str = include_str!("../../../runtime/python/rpcgen_runtime.py");

/// The value codecs and method helpers, copied verbatim into every output.
const VALUES_SOURCE: &str = include_str!("rpcgen_values.py");

/// Generates the Python package for `schema`: `<package>.py` for every package (roots and
/// imports), `rpcgen_runtime.py`, `rpcgen_values.py`, `__init__.py` and `py.typed`.
pub fn generate(schema: &Schema) -> Result<Vec<GeneratedFile>, GenerateError> {
    GenerateError::check(check(schema))?;
    let mut named_codecs = types::NamedCodecs::new();
    let private_names: Vec<_> = schema
        .packages
        .iter()
        .map(|package| types::module_private_names(package, &mut named_codecs))
        .collect();
    let mut files = Vec::with_capacity(schema.packages.len() + 4);
    for (package, private) in schema.packages.iter().zip(private_names) {
        let view = view::ModuleBuilder::new(schema, package, &named_codecs, private).build();
        files.push(GeneratedFile::new(
            format!("{}.py", package.name),
            render(&ModuleTemplate { module: &view }),
        ));
    }
    let packages: Vec<&str> = schema
        .packages
        .iter()
        .map(|package| package.name.as_str())
        .collect();
    let init = render(&InitTemplate {
        packages: &packages,
    });
    files.push(GeneratedFile::new("__init__.py", init));
    files.push(GeneratedFile::new("py.typed", ""));
    files.push(GeneratedFile::new(RUNTIME_FILE, RUNTIME_SOURCE));
    files.push(GeneratedFile::new(VALUES_FILE, VALUES_SOURCE));
    Ok(files)
}

fn render(template: &impl Template) -> String {
    template
        .render()
        .expect("a template only fails when a value's Display does, and none of ours does")
}

/// Names that are valid IDL but not in a generated Python package: a package whose module would
/// replace one every output has, and two public names of one module that would be the same (a
/// struct `TicketsClient` and the client of a service `Tickets`, say).
pub fn check(schema: &Schema) -> Vec<Problem> {
    let mut problems = Vec::new();
    for package in &schema.packages {
        let file = format!("{}.py", package.name);
        if file == RUNTIME_FILE || file == VALUES_FILE {
            problems.push(Problem::new(
                Declaration::Package {
                    name: package.name.clone(),
                },
                format!(
                    "the package name `{}` is reserved in Python: the generated package already \
                     has a module `{file}`",
                    package.name
                ),
                "rename the package",
            ));
        }
        let message = |declared: &DeclaredName, holder: &DeclaredName| {
            format!(
                "{} would be named `{}` in Python, like {}",
                declared.what, declared.name, holder.what
            )
        };
        let help = "rename one of them (classes are named `<Enum><Variant>`, `<Service>Client` \
                    and `Async<Service>Client`)";
        problems.extend(clashes(public_names(package), message, help));
    }
    problems
}

/// The public names of a package's module, with the declarations they come from: a class per
/// struct, error and enum (and per variant of an enum with data, with its `<name>_from_wire`
/// function), and two client classes per service.
fn public_names(package: &Package) -> Vec<DeclaredName> {
    let mut public = Vec::new();
    for def in &package.types {
        let at = Declaration::Type {
            package: package.name.clone(),
            name: def.name.clone(),
        };
        let what = format!("the type `{}`", def.name);
        public.push(DeclaredName {
            name: names::type_name(&def.name),
            at: at.clone(),
            what: what.clone(),
        });
        let TypeKind::Enum { variants } = &def.kind else {
            continue;
        };
        if variants
            .iter()
            .all(|variant| matches!(variant.data, VariantData::Unit))
        {
            continue;
        }
        public.push(DeclaredName {
            name: names::variant_decoder_name(&def.name),
            at,
            what: format!("the decoder of {what}"),
        });
        for variant in variants {
            public.push(DeclaredName {
                name: names::variant_class_name(&def.name, &variant.name),
                at: Declaration::Variant {
                    package: package.name.clone(),
                    type_name: def.name.clone(),
                    variant: variant.name.clone(),
                },
                what: format!("the class of variant `{}.{}`", def.name, variant.name),
            });
        }
    }
    for service in &package.services {
        let at = Declaration::Service {
            package: package.name.clone(),
            name: service.name.clone(),
        };
        let what = |kind| format!("the {kind} client of service `{}`", service.name);
        public.push(DeclaredName {
            name: names::client_name(&service.name),
            at: at.clone(),
            what: what("blocking"),
        });
        public.push(DeclaredName {
            name: names::async_client_name(&service.name),
            at,
            what: what("asyncio"),
        });
    }
    public
}

/// `templates/python/module.py`: one package's module.
#[derive(Template)]
#[template(path = "python/module.py", escape = "none")]
struct ModuleTemplate<'a> {
    module: &'a ModuleView,
}

/// `templates/python/__init__.py`: the package's `__init__.py`.
#[derive(Template)]
#[template(path = "python/__init__.py", escape = "none")]
struct InitTemplate<'a> {
    packages: &'a [&'a str],
}
