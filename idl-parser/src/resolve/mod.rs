//! The resolver: checks what parsed files mean and builds the IR from them.
//!
//! It walks every loaded file once, in dependency order, turning each item into its IR form while
//! checking names ([`names`]), attributes ([`attributes`]) and types ([`types`]). It never stops at
//! the first problem: every error is collected, and the IR is returned only when there are none.

mod attributes;
mod names;
mod types;

use std::collections::HashMap;

use crate::ast;
use crate::compile::LoadedFile;
use crate::diagnostic::Diagnostic;
use crate::ir;
use crate::naming::NameKind;
use crate::source::FileId;

use attributes::Place;

/// Checks the loaded files and builds their schema, or returns every error found.
pub(crate) fn resolve(files: &[LoadedFile]) -> Result<ir::Schema, Vec<Diagnostic>> {
    let mut resolver = Resolver::new(files);
    resolver.check_declarations();
    let packages = (0..files.len()).map(|at| resolver.package(at)).collect();
    let schema = ir::Schema { packages };
    resolver.check_recursive_types(&schema);
    if resolver.errors.is_empty() {
        Ok(schema)
    } else {
        Err(resolver.errors)
    }
}

/// The state of one resolution. Files are named by their index in the loaded list (`at`).
struct Resolver<'a> {
    files: &'a [LoadedFile],
    /// Per file: its types and services by name (the first of each name).
    declarations: Vec<HashMap<&'a str, &'a ast::Item>>,
    /// The file of each package.
    package_files: HashMap<&'a str, usize>,
    errors: Vec<Diagnostic>,
}

impl<'a> Resolver<'a> {
    fn new(files: &'a [LoadedFile]) -> Resolver<'a> {
        let declarations = files
            .iter()
            .map(|loaded| {
                let mut by_name = HashMap::new();
                for item in &loaded.ast.items {
                    by_name.entry(item.name.text.as_str()).or_insert(item);
                }
                by_name
            })
            .collect();
        let package_files = files
            .iter()
            .enumerate()
            .map(|(at, loaded)| (loaded.ast.package.text.as_str(), at))
            .collect();
        Resolver {
            files,
            declarations,
            package_files,
            errors: Vec::new(),
        }
    }

    fn file(&self, at: usize) -> FileId {
        self.files[at].file
    }

    fn package_name(&self, at: usize) -> &'a str {
        &self.files[at].ast.package.text
    }

    fn error(&mut self, diagnostic: Diagnostic) {
        self.errors.push(diagnostic);
    }

    /// Checks package names and the names of every file's types and services.
    fn check_declarations(&mut self) {
        for at in 0..self.files.len() {
            let ast = &self.files[at].ast;
            self.check_package_name(at, &ast.package);
            for item in &ast.items {
                self.check_type_name(at, &item.name);
            }
            self.check_names(
                at,
                NameKind::Type,
                "name",
                ast.items.iter().map(|item| &item.name),
            );
        }
    }

    fn package(&mut self, at: usize) -> ir::Package {
        let loaded = &self.files[at];
        let mut types = Vec::new();
        let mut services = Vec::new();
        for item in &loaded.ast.items {
            match &item.kind {
                ast::ItemKind::Service(methods) => services.push(self.service(at, item, methods)),
                _ => types.push(self.type_def(at, item)),
            }
        }
        ir::Package {
            name: loaded.ast.package.text.clone(),
            root: loaded.root,
            docs: docs(&loaded.ast.docs),
            imports: loaded
                .imports
                .iter()
                .map(|&imported| self.package_name(imported).to_string())
                .collect(),
            types,
            services,
        }
    }

    fn type_def(&mut self, at: usize, item: &ast::Item) -> ir::TypeDef {
        let attributes = self.attributes(at, &item.decorations, Place::of_item(&item.kind));
        let kind = match &item.kind {
            ast::ItemKind::Struct(fields) => ir::TypeKind::Struct {
                fields: self.fields(at, fields),
            },
            ast::ItemKind::Error(fields) => ir::TypeKind::Error {
                fields: self.fields(at, fields),
            },
            ast::ItemKind::Enum(variants) => {
                if variants.is_empty() {
                    self.error(
                        Diagnostic::error(format!("enum `{}` has no variants", item.name.text))
                            .primary(self.file(at), item.name.span, "declared without variants")
                            .help("add at least one variant: a value of an enum without variants cannot exist"),
                    );
                }
                ir::TypeKind::Enum {
                    variants: self.variants(at, variants),
                }
            }
            ast::ItemKind::Service(_) => unreachable!("services are not types"),
        };
        ir::TypeDef {
            name: item.name.text.clone(),
            docs: docs(&item.decorations.docs),
            deprecated: attributes.deprecated,
            kind,
        }
    }

    fn fields(&mut self, at: usize, fields: &[ast::Field]) -> Vec<ir::Field> {
        let mut resolved = Vec::new();
        let mut wire_names = Vec::new();
        for field in fields {
            let attributes = self.attributes(at, &field.decorations, Place::Field);
            let (wire_name, wire_span) = attributes.wire_name_or(&field.name);
            wire_names.push((wire_name.clone(), field.name.clone(), wire_span));
            resolved.push(ir::Field {
                name: field.name.text.clone(),
                wire_name,
                docs: docs(&field.decorations.docs),
                deprecated: attributes.deprecated,
                ty: self.value_type(at, &field.ty),
            });
        }
        self.check_names(
            at,
            NameKind::Field,
            "field",
            fields.iter().map(|field| &field.name),
        );
        self.check_wire_names(at, "field", &wire_names);
        resolved
    }

    fn variants(&mut self, at: usize, variants: &[ast::Variant]) -> Vec<ir::Variant> {
        let mut resolved = Vec::new();
        let mut wire_names = Vec::new();
        for variant in variants {
            let attributes = self.attributes(at, &variant.decorations, Place::Variant);
            let (wire_name, wire_span) = attributes.wire_name_or(&variant.name);
            wire_names.push((wire_name.clone(), variant.name.clone(), wire_span));
            let data = match &variant.data {
                ast::VariantData::Unit => ir::VariantData::Unit,
                ast::VariantData::Tuple(items) => ir::VariantData::Tuple {
                    items: items.iter().map(|item| self.value_type(at, item)).collect(),
                },
                ast::VariantData::Struct(fields, _) => ir::VariantData::Struct {
                    fields: self.fields(at, fields),
                },
            };
            resolved.push(ir::Variant {
                name: variant.name.text.clone(),
                wire_name,
                docs: docs(&variant.decorations.docs),
                deprecated: attributes.deprecated,
                data,
            });
        }
        self.check_names(
            at,
            NameKind::Variant,
            "variant",
            variants.iter().map(|variant| &variant.name),
        );
        self.check_wire_names(at, "variant", &wire_names);
        resolved
    }

    fn service(&mut self, at: usize, item: &ast::Item, methods: &[ast::Method]) -> ir::Service {
        let attributes = self.attributes(at, &item.decorations, Place::of_item(&item.kind));
        let mut resolved = Vec::new();
        let mut wire_names = Vec::new();
        for method in methods {
            let method_attributes = self.attributes(at, &method.decorations, Place::Method);
            let (wire_name, wire_span) = method_attributes.wire_name_or(&method.name);
            self.check_method_wire_name(at, &wire_name, wire_span);
            wire_names.push((wire_name.clone(), method.name.clone(), wire_span));
            resolved.push(ir::Method {
                name: method.name.text.clone(),
                wire_name,
                docs: docs(&method.decorations.docs),
                deprecated: method_attributes.deprecated,
                timeout_ms: method_attributes.timeout_ms,
                params: self.params(at, &method.params),
                returns: self.returns(at, method.returns.as_ref()),
                throws: self.throws(at, &method.throws),
            });
        }
        self.check_names(
            at,
            NameKind::Method,
            "method",
            methods.iter().map(|method| &method.name),
        );
        self.check_wire_names(at, "method", &wire_names);
        ir::Service {
            name: item.name.text.clone(),
            docs: docs(&item.decorations.docs),
            deprecated: attributes.deprecated,
            timeout_ms: attributes.timeout_ms,
            methods: resolved,
        }
    }

    fn params(&mut self, at: usize, params: &[ast::Param]) -> Vec<ir::Param> {
        let resolved = params
            .iter()
            .map(|param| {
                self.attributes(at, &param.decorations, Place::Param);
                ir::Param {
                    name: param.name.text.clone(),
                    docs: docs(&param.decorations.docs),
                    ty: self.value_type(at, &param.ty),
                }
            })
            .collect();
        self.check_names(
            at,
            NameKind::Param,
            "parameter",
            params.iter().map(|param| &param.name),
        );
        resolved
    }
}

/// Doc comment lines as text.
fn docs(lines: &[ast::DocLine]) -> Vec<String> {
    lines.iter().map(|line| line.text.clone()).collect()
}

#[cfg(test)]
mod tests {
    use crate::ir::{Returns, Schema, Type, TypeName};
    use crate::{Compiler, Diagnostics, MemoryLoader};

    fn compile(files: &[(&str, &str)]) -> Result<Schema, Diagnostics> {
        let loader = files
            .iter()
            .fold(MemoryLoader::new(), |loader, (path, text)| {
                loader.with_file(path, *text)
            });
        Compiler::with_loader(loader).compile(&[files[0].0])
    }

    fn messages(errors: &Diagnostics) -> Vec<&str> {
        errors
            .list()
            .iter()
            .map(|error| error.message.as_str())
            .collect()
    }

    fn named(package: &str, name: &str) -> Type {
        Type::Named(TypeName {
            package: package.into(),
            name: name.into(),
        })
    }

    #[test]
    fn method_timeouts_come_from_the_method_or_else_its_service() {
        let schema = compile(&[(
            "a.rpc",
            "package a; @timeout(2s) service S { @timeout(1m) slow(); quick(); } service T { free(); }",
        )])
        .unwrap();
        let package = schema.package("a").unwrap();
        let timeouts: Vec<Option<u64>> = package
            .services
            .iter()
            .flat_map(|service| {
                service
                    .methods
                    .iter()
                    .map(|method| service.method_timeout_ms(method))
            })
            .collect();
        assert_eq!(timeouts, [Some(60_000), Some(2_000), None]);
        let [timed, untimed] = package.services.as_slice() else {
            panic!("two services");
        };
        assert_eq!(timed.timeout_ms, Some(2_000));
        assert_eq!(
            timed.methods[1].timeout_ms, None,
            "not copied onto the method"
        );
        assert_eq!(untimed.timeout_ms, None);
    }

    #[test]
    fn names_resolve_to_their_declaring_package() {
        let schema = compile(&[
            (
                "a.rpc",
                "package a; import \"b.rpc\"; struct Local {} struct Uses { x: Local, y: Remote, z: b.Local, k: map<Level, u8> }",
            ),
            ("b.rpc", "package b; struct Local {} struct Remote {} enum Level { Low }"),
        ])
        .unwrap();
        let uses = schema.type_def(&TypeName {
            package: "a".into(),
            name: "Uses".into(),
        });
        let crate::ir::TypeKind::Struct { fields } = &uses.unwrap().kind else {
            panic!("Uses is a struct")
        };
        let types: Vec<&Type> = fields.iter().map(|field| &field.ty).collect();
        let level_map = Type::Map {
            key: Box::new(named("b", "Level")),
            value: Box::new(Type::U8),
        };
        assert_eq!(
            types,
            [
                &named("a", "Local"),
                &named("b", "Remote"),
                &named("b", "Local"),
                &level_map
            ]
        );
    }

    #[test]
    fn returns_and_throws_are_resolved() {
        let schema = compile(&[(
            "a.rpc",
            "package a; error Gone {} service S { one() -> u8? throws Gone; many() -> stream<string>; none(); }",
        )])
        .unwrap();
        let methods = &schema.package("a").unwrap().services[0].methods;
        assert_eq!(
            methods[0].returns,
            Returns::Value(Type::Optional(Box::new(Type::U8)))
        );
        assert_eq!(
            methods[0].throws,
            [TypeName {
                package: "a".into(),
                name: "Gone".into()
            }]
        );
        assert_eq!(methods[1].returns, Returns::Stream(Type::String));
        assert_eq!(methods[2].returns, Returns::Unit);
        assert_eq!(methods[2].wire_name, "none");
    }

    #[test]
    fn every_resolver_error_is_reported_at_once() {
        let errors = compile(&[(
            "a.rpc",
            "package a; struct A { x: Nope, y: map<u8, string>, x: u8 } service S { f(a: stream<u8>); }",
        )])
        .unwrap_err();
        assert_eq!(
            messages(&errors),
            [
                "unknown type `Nope`",
                "`u8` cannot be a map key",
                "the field `x` is declared twice",
                "`stream<…>` can only be the return type of a method",
            ]
        );
    }
}
