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

use std::fmt;

use askama::Template;
use rpcgen_idl::ir::Schema;

use crate::output::GeneratedFile;
use view::{Item, ModuleView};

/// The runtime module emitted beside the generated modules.
pub const RUNTIME_FILE: &str = "rpcgen_runtime.py";

/// The value-checking module emitted beside the generated modules.
pub const VALUES_FILE: &str = "rpcgen_values.py";

/// The Python runtime, copied verbatim into every output.
const RUNTIME_SOURCE: &str = include_str!("../../../runtime/python/rpcgen_runtime.py");

/// The value codecs and method helpers, copied verbatim into every output.
const VALUES_SOURCE: &str = include_str!("rpcgen_values.py");

/// Why Python cannot be generated for a schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenerateError {
    message: String,
}

impl GenerateError {
    fn new(message: String) -> GenerateError {
        GenerateError { message }
    }
}

impl fmt::Display for GenerateError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.message)
    }
}

impl std::error::Error for GenerateError {}

/// Generates the Python package for `schema`: `<package>.py` for every package (roots and
/// imports), `rpcgen_runtime.py`, `rpcgen_values.py`, `__init__.py` and `py.typed`.
pub fn generate(schema: &Schema) -> Result<Vec<GeneratedFile>, GenerateError> {
    let mut named_codecs = types::NamedCodecs::new();
    let mut private_names = Vec::with_capacity(schema.packages.len());
    for package in &schema.packages {
        check_package_name(&package.name)?;
        private_names.push(types::module_private_names(package, &mut named_codecs));
    }
    let mut files = Vec::with_capacity(schema.packages.len() + 4);
    for (package, private) in schema.packages.iter().zip(private_names) {
        let view = view::ModuleBuilder::new(schema, package, &named_codecs, private).build();
        check_public_names(&package.name, &view)?;
        let contents = ModuleTemplate { module: &view }.render().map_err(|error| {
            GenerateError::new(format!(
                "cannot render the Python module of package `{}`: {error}",
                package.name
            ))
        })?;
        files.push(GeneratedFile::new(format!("{}.py", package.name), contents));
    }
    let packages: Vec<&str> = schema
        .packages
        .iter()
        .map(|package| package.name.as_str())
        .collect();
    let init = InitTemplate {
        packages: &packages,
    }
    .render()
    .map_err(|error| {
        GenerateError::new(format!("cannot render the Python __init__.py: {error}"))
    })?;
    files.push(GeneratedFile::new("__init__.py", init));
    files.push(GeneratedFile::new("py.typed", ""));
    files.push(GeneratedFile::new(RUNTIME_FILE, RUNTIME_SOURCE));
    files.push(GeneratedFile::new(VALUES_FILE, VALUES_SOURCE));
    Ok(files)
}

/// Rejects the package names whose module would replace a file every output has.
fn check_package_name(package: &str) -> Result<(), GenerateError> {
    let file = format!("{package}.py");
    if file == RUNTIME_FILE || file == VALUES_FILE {
        return Err(GenerateError::new(format!(
            "the package name `{package}` is reserved in Python: the generated package already has \
             a module `{file}`; rename the package"
        )));
    }
    Ok(())
}

/// Rejects two public names of one module that would be the same (a struct `TicketsClient` and
/// the client of a service `Tickets`, say).
fn check_public_names(package: &str, view: &ModuleView) -> Result<(), GenerateError> {
    let mut public: Vec<&str> = Vec::new();
    for item in &view.items {
        match item {
            Item::Struct(class) => public.push(&class.name),
            Item::UnitEnum(enumeration) => public.push(&enumeration.name),
            Item::Error(error) => public.push(&error.name),
            Item::DataEnum(enumeration) => {
                public.push(&enumeration.alias);
                public.push(&enumeration.decoder);
                public.extend(
                    enumeration
                        .variants
                        .iter()
                        .map(|variant| variant.name.as_str()),
                );
            }
        }
    }
    for client in &view.clients {
        public.push(&client.name);
        public.push(&client.async_name);
    }
    let mut seen = std::collections::BTreeSet::new();
    for name in public {
        if !seen.insert(name) {
            return Err(GenerateError::new(format!(
                "package `{package}` would define `{name}` twice in Python (generated classes are \
                 named `<Enum><Variant>`, `<Service>Client` and `Async<Service>Client`); rename one \
                 of the declarations"
            )));
        }
    }
    Ok(())
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
