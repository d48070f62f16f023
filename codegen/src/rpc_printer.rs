//! The `.rpc` printer: IR → `.rpc` text, one file per package. `rpcgen extract` uses it to write
//! the `.rpc` equivalent of annotated Rust traits.
//!
//! The text is built item by item and then laid out by [`rpcgen_idl::format_source`], so it is
//! exactly what `rpcgen fmt` would write. Compiling the printed files gives the IR back (tested on
//! every `.rpc` file of the repository): wire names become `@name` only where they differ from the
//! declared name, and each `@timeout` stays where it was written, on the service or the method.
//! Plain comments are not in the IR, so they are not printed.

use std::fmt::Write as _;

use rpcgen_idl::ir::{
    Field, Method, Package, Returns, Schema, TypeDef, TypeKind, Variant, VariantData,
};
use rpcgen_idl::rpc_string_literal;

use crate::output::GeneratedFile;

/// `<package>.rpc` for every package of the schema.
pub fn print(schema: &Schema) -> Vec<GeneratedFile> {
    schema
        .packages
        .iter()
        .map(|package| GeneratedFile::new(file_name(&package.name), print_package(package)))
        .collect()
}

/// The name of the file a package is printed into, which is also how other files import it.
pub fn file_name(package: &str) -> String {
    format!("{package}.rpc")
}

/// The canonical `.rpc` text of one package.
pub fn print_package(package: &Package) -> String {
    let mut text = String::new();
    docs(&mut text, &package.docs, 0);
    let _ = writeln!(text, "package {};", package.name);
    for import in &package.imports {
        let _ = writeln!(text, "import \"{}\";", file_name(import));
    }
    for def in &package.types {
        text.push('\n');
        type_def(&mut text, &package.name, def);
    }
    for service in &package.services {
        text.push('\n');
        docs(&mut text, &service.docs, 0);
        deprecated(&mut text, service.deprecated.as_ref(), 0);
        timeout(&mut text, service.timeout_ms, 0);
        let _ = writeln!(text, "service {} {{", service.name);
        for method in &service.methods {
            self::method(&mut text, &package.name, method);
        }
        text.push_str("}\n");
    }
    rpcgen_idl::format_source(file_name(&package.name), &text)
        .unwrap_or_else(|errors| panic!("the .rpc printer printed invalid text:\n{errors}\n{text}"))
}

fn indent(text: &mut String, depth: usize) {
    text.push_str(&"    ".repeat(depth));
}

fn docs(text: &mut String, lines: &[String], depth: usize) {
    for line in lines {
        indent(text, depth);
        if line.is_empty() {
            text.push_str("///\n");
        } else {
            let _ = writeln!(text, "/// {line}");
        }
    }
}

fn deprecated(text: &mut String, reason: Option<&String>, depth: usize) {
    let Some(reason) = reason else { return };
    indent(text, depth);
    if reason.is_empty() {
        text.push_str("@deprecated\n");
    } else {
        let _ = writeln!(text, "@deprecated({})", rpc_string_literal(reason));
    }
}

fn wire_name(text: &mut String, name: &str, wire_name: &str, depth: usize) {
    if name != wire_name {
        indent(text, depth);
        let _ = writeln!(text, "@name({})", rpc_string_literal(wire_name));
    }
}

fn timeout(text: &mut String, milliseconds: Option<u64>, depth: usize) {
    if let Some(milliseconds) = milliseconds {
        indent(text, depth);
        let _ = writeln!(text, "@timeout({})", duration(milliseconds));
    }
}

fn type_def(text: &mut String, package: &str, def: &TypeDef) {
    docs(text, &def.docs, 0);
    deprecated(text, def.deprecated.as_ref(), 0);
    match &def.kind {
        TypeKind::Struct { fields } | TypeKind::Error { fields } => {
            let keyword = if matches!(def.kind, TypeKind::Struct { .. }) {
                "struct"
            } else {
                "error"
            };
            let _ = writeln!(text, "{keyword} {} {{", def.name);
            for field in fields {
                self::field(text, package, field, 1);
            }
        }
        TypeKind::Enum { variants } => {
            let _ = writeln!(text, "enum {} {{", def.name);
            for variant in variants {
                self::variant(text, package, variant);
            }
        }
    }
    text.push_str("}\n");
}

fn field(text: &mut String, package: &str, field: &Field, depth: usize) {
    docs(text, &field.docs, depth);
    deprecated(text, field.deprecated.as_ref(), depth);
    wire_name(text, &field.name, &field.wire_name, depth);
    indent(text, depth);
    let _ = writeln!(text, "{}: {},", field.name, field.ty.idl_text(package));
}

fn variant(text: &mut String, package: &str, variant: &Variant) {
    docs(text, &variant.docs, 1);
    deprecated(text, variant.deprecated.as_ref(), 1);
    wire_name(text, &variant.name, &variant.wire_name, 1);
    indent(text, 1);
    text.push_str(&variant.name);
    match &variant.data {
        VariantData::Unit => {}
        VariantData::Tuple { items } => {
            let items: Vec<String> = items.iter().map(|item| item.idl_text(package)).collect();
            let _ = write!(text, "({})", items.join(", "));
        }
        VariantData::Struct { fields } => {
            text.push_str(" {\n");
            for field in fields {
                self::field(text, package, field, 2);
            }
            indent(text, 1);
            text.push('}');
        }
    }
    text.push_str(",\n");
}

fn method(text: &mut String, package: &str, method: &Method) {
    docs(text, &method.docs, 1);
    deprecated(text, method.deprecated.as_ref(), 1);
    wire_name(text, &method.name, &method.wire_name, 1);
    timeout(text, method.timeout_ms, 1);
    let params: Vec<String> = method
        .params
        .iter()
        .map(|param| {
            let mut written = String::new();
            docs(&mut written, &param.docs, 0);
            let _ = write!(written, "{}: {}", param.name, param.ty.idl_text(package));
            written
        })
        .collect();
    indent(text, 1);
    let _ = write!(text, "{}({})", method.name, params.join(",\n"));
    match &method.returns {
        Returns::Unit => {}
        Returns::Value(ty) => {
            let _ = write!(text, " -> {}", ty.idl_text(package));
        }
        Returns::Stream(item) => {
            let _ = write!(text, " -> stream<{}>", item.idl_text(package));
        }
    }
    if !method.throws.is_empty() {
        let errors: Vec<String> = method
            .throws
            .iter()
            .map(|error| error.idl_text(package))
            .collect();
        let _ = write!(text, " throws {}", errors.join(", "));
    }
    text.push_str(";\n");
}

/// A timeout in the largest unit that keeps it whole: `1m`, `30s`, `250ms`.
fn duration(milliseconds: u64) -> String {
    if milliseconds.is_multiple_of(60_000) {
        format!("{}m", milliseconds / 60_000)
    } else if milliseconds.is_multiple_of(1000) {
        format!("{}s", milliseconds / 1000)
    } else {
        format!("{milliseconds}ms")
    }
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use rpcgen_idl::Compiler;

    use super::*;

    fn repository() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
    }

    fn idl_tests() -> PathBuf {
        repository().join("idl-parser/tests")
    }

    /// Every valid `.rpc` file checked in: the IDL's examples, the example projects' and the test
    /// suites' schemas.
    fn checked_in_files() -> Vec<PathBuf> {
        fn walk(folder: &Path, found: &mut Vec<PathBuf>) {
            for entry in std::fs::read_dir(folder).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    walk(&path, found);
                } else if path.extension().is_some_and(|extension| extension == "rpc") {
                    found.push(path);
                }
            }
        }
        let mut found = Vec::new();
        for folder in [
            "idl-parser/tests/valid",
            "idl-parser/tests/fmt",
            "idl-parser/tests/include",
            "examples/shop/api",
            "examples/trait-first/api",
            "tests/fixtures",
            "tests/rust/api",
            "tests/python",
            "tests/typescript/schemas",
        ] {
            walk(&repository().join(folder), &mut found);
        }
        found.sort();
        found
    }

    /// Prints every package of a compiled file and compiles the printed files again.
    fn round_trip(root: &Path) -> (Schema, Schema) {
        let schema = Compiler::new()
            .include_dir(idl_tests().join("include/geo"))
            .compile(&[root])
            .unwrap_or_else(|errors| panic!("{errors}"));
        let loader = print(&schema)
            .into_iter()
            .fold(rpcgen_idl::MemoryLoader::new(), |loader, file| {
                loader.with_file(&file.path, file.contents)
            });
        let root_name = format!("{}.rpc", schema.root_packages().next().unwrap().name);
        let printed = Compiler::with_loader(loader)
            .compile(&[root_name])
            .unwrap_or_else(|errors| panic!("{errors}"));
        (schema, printed)
    }

    #[test]
    fn printed_files_compile_to_the_same_ir_for_every_checked_in_file() {
        let files = checked_in_files();
        for path in &files {
            let (original, printed) = round_trip(path);
            assert_eq!(original, printed, "{}", path.display());
        }
        assert!(files.len() >= 25, "only {} files found", files.len());
    }

    #[test]
    fn the_text_is_canonical() {
        let schema = Compiler::with_loader(rpcgen_idl::MemoryLoader::new().with_file(
            "a.rpc",
            "package a; @timeout(90s) service S { @name(\"x\") f(n: u8) -> stream<string?>; @timeout(250ms) g(); }",
        ))
        .compile(&["a.rpc"])
        .unwrap();
        assert_eq!(
            print_package(&schema.packages[0]),
            "package a;\n\n@timeout(90s)\nservice S {\n    @name(\"x\")\n    f(n: u8) -> stream<string?>;\n    @timeout(250ms)\n    g();\n}\n"
        );
    }
}
