//! `rpcgen_idl::compat` on every valid golden file: a schema never breaks its own clients, in
//! either direction (recursive types, imports and qualified names included), and every
//! declaration a change would be reported at is found in the source map.

use std::path::{Path, PathBuf};

use rpcgen_idl::compat::{breaking_changes, Side};
use rpcgen_idl::ir::{Schema, TypeKind, VariantData};
use rpcgen_idl::locate::{Declaration, SourceMap};
use rpcgen_idl::Compiler;

fn valid_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir("tests/valid")
        .expect("the golden files")
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.extension().is_some_and(|extension| extension == "rpc"))
        .collect();
    files.sort();
    files
}

fn compile(path: &Path) -> (Schema, SourceMap) {
    let mut compiler = Compiler::new();
    compiler.include_dir("tests/include/geo");
    compiler
        .compile_mapped(&[path])
        .unwrap_or_else(|diagnostics| panic!("{}: {diagnostics}", path.display()))
}

#[test]
fn no_golden_schema_breaks_its_own_clients() {
    let files = valid_files();
    assert!(files.len() > 10, "{files:?}");
    for path in files {
        let (schema, _) = compile(&path);
        let side = |called| Side {
            schema: &schema,
            called,
        };
        let found = breaking_changes(side("old clients"), side("new servers"));
        assert!(found.is_empty(), "{}: {found:?}", path.display());
    }
}

/// Every declaration of the schema's root packages, as a change would name it.
fn declarations(schema: &Schema) -> Vec<Declaration> {
    let mut all = Vec::new();
    for package in schema.root_packages() {
        let name = || package.name.clone();
        for def in &package.types {
            all.push(Declaration::Type {
                package: name(),
                name: def.name.clone(),
            });
            let field = |variant: Option<&str>, field: &str| Declaration::Field {
                package: name(),
                type_name: def.name.clone(),
                variant: variant.map(str::to_string),
                field: field.to_string(),
            };
            match &def.kind {
                TypeKind::Struct { fields } | TypeKind::Error { fields } => {
                    all.extend(fields.iter().map(|f| field(None, &f.name)));
                }
                TypeKind::Enum { variants } => {
                    for variant in variants {
                        all.push(Declaration::Variant {
                            package: name(),
                            type_name: def.name.clone(),
                            variant: variant.name.clone(),
                        });
                        if let VariantData::Struct { fields } = &variant.data {
                            all.extend(fields.iter().map(|f| field(Some(&variant.name), &f.name)));
                        }
                    }
                }
            }
        }
        for service in &package.services {
            all.push(Declaration::Service {
                package: name(),
                name: service.name.clone(),
            });
            for method in &service.methods {
                let (service, method_name) = (service.name.clone(), method.name.clone());
                all.push(Declaration::Method {
                    package: name(),
                    service: service.clone(),
                    method: method_name.clone(),
                });
                all.push(Declaration::Result {
                    package: name(),
                    service: service.clone(),
                    method: method_name.clone(),
                });
                all.extend(method.params.iter().map(|param| Declaration::Param {
                    package: name(),
                    service: service.clone(),
                    method: method_name.clone(),
                    param: param.name.clone(),
                }));
            }
        }
    }
    all
}

#[test]
fn every_declaration_of_the_goldens_is_in_the_source_map() {
    for path in valid_files() {
        let (schema, map) = compile(&path);
        for declaration in declarations(&schema) {
            assert!(
                map.place(&declaration).is_some(),
                "{}: {declaration:?}",
                path.display()
            );
        }
    }
}
