//! Where each declaration of a compiled schema is written, for messages about a schema that are
//! not compile errors (`rpcgen breaking`), so that they point at the source as diagnostics do.
//!
//! [`crate::Compiler::compile_mapped`] returns a [`SourceMap`] beside the schema; a
//! [`Declaration`] names an IR item by its IDL names, and [`SourceMap::place`] finds its name in
//! the source.

use std::collections::HashMap;

use crate::ast;
use crate::compile::LoadedFile;
use crate::ir::TypeName;
use crate::source::{FileId, SourceFiles, Span};

/// A declaration of a schema, named as in the IR (IDL names, not wire names).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Declaration {
    /// A package (its `package` line; the first file, when several declare it).
    Package {
        /// The package.
        name: String,
    },
    /// A struct, enum or error.
    Type {
        /// The declaring package.
        package: String,
        /// The type.
        name: String,
    },
    /// A field of a struct or an error, or (with `variant`) of a struct-like enum variant.
    Field {
        /// The declaring package.
        package: String,
        /// The struct, error or enum.
        type_name: String,
        /// The variant, for a field of a struct-like variant.
        variant: Option<String>,
        /// The field.
        field: String,
    },
    /// An enum variant.
    Variant {
        /// The declaring package.
        package: String,
        /// The enum.
        type_name: String,
        /// The variant.
        variant: String,
    },
    /// A service.
    Service {
        /// The declaring package.
        package: String,
        /// The service.
        name: String,
    },
    /// A method.
    Method {
        /// The declaring package.
        package: String,
        /// The service.
        service: String,
        /// The method.
        method: String,
    },
    /// A method's parameter.
    Param {
        /// The declaring package.
        package: String,
        /// The service.
        service: String,
        /// The method.
        method: String,
        /// The parameter.
        param: String,
    },
    /// What a method returns: the type after `->` (or the method's name when it has none).
    Result {
        /// The declaring package.
        package: String,
        /// The service.
        service: String,
        /// The method.
        method: String,
    },
}

impl Declaration {
    /// The declaration of a user type.
    pub fn of_type(name: &TypeName) -> Declaration {
        Declaration::Type {
            package: name.package.clone(),
            name: name.name.clone(),
        }
    }
}

/// The files a schema was compiled from, and where each of its declarations is in them.
#[derive(Debug, Clone)]
pub struct SourceMap {
    files: SourceFiles,
    places: HashMap<Declaration, (FileId, Span)>,
}

impl SourceMap {
    /// Maps the declarations of the loaded files, registered in `files`.
    pub(crate) fn new(files: SourceFiles, loaded: &[LoadedFile]) -> SourceMap {
        let mut places = HashMap::new();
        for loaded in loaded {
            let package = &loaded.ast.package.text;
            let mut add = |declaration, span| {
                places.entry(declaration).or_insert((loaded.file, span));
            };
            let declaration = Declaration::Package {
                name: package.clone(),
            };
            add(declaration, loaded.ast.package.span);
            for item in &loaded.ast.items {
                let name = item.name.text.clone();
                match &item.kind {
                    ast::ItemKind::Struct(fields) | ast::ItemKind::Error(fields) => {
                        for field in fields {
                            add(field_of(package, &name, None, field), field.name.span);
                        }
                    }
                    ast::ItemKind::Enum(variants) => {
                        for variant in variants {
                            let declaration = Declaration::Variant {
                                package: package.clone(),
                                type_name: name.clone(),
                                variant: variant.name.text.clone(),
                            };
                            add(declaration, variant.name.span);
                            if let ast::VariantData::Struct(fields, _) = &variant.data {
                                for field in fields {
                                    let declaration =
                                        field_of(package, &name, Some(&variant.name.text), field);
                                    add(declaration, field.name.span);
                                }
                            }
                        }
                    }
                    ast::ItemKind::Service(methods) => {
                        for method in methods {
                            for (declaration, span) in method_places(package, &name, method) {
                                add(declaration, span);
                            }
                        }
                        let service = Declaration::Service {
                            package: package.clone(),
                            name,
                        };
                        add(service, item.name.span);
                        continue;
                    }
                }
                let declaration = Declaration::Type {
                    package: package.clone(),
                    name,
                };
                add(declaration, item.name.span);
            }
        }
        SourceMap { files, places }
    }

    /// The files, for rendering diagnostics that point into them.
    pub fn files(&self) -> &SourceFiles {
        &self.files
    }

    /// Where `declaration` is written: its file and the span of its name (of its type, for a
    /// [`Declaration::Result`]).
    pub fn place(&self, declaration: &Declaration) -> Option<(FileId, Span)> {
        self.places.get(declaration).copied()
    }
}

fn field_of(
    package: &str,
    type_name: &str,
    variant: Option<&str>,
    field: &ast::Field,
) -> Declaration {
    Declaration::Field {
        package: package.to_string(),
        type_name: type_name.to_string(),
        variant: variant.map(str::to_string),
        field: field.name.text.clone(),
    }
}

/// The method, its parameters and its result, with their places.
fn method_places(package: &str, service: &str, method: &ast::Method) -> Vec<(Declaration, Span)> {
    let name = method.name.text.clone();
    let mut places = vec![
        (
            Declaration::Method {
                package: package.to_string(),
                service: service.to_string(),
                method: name.clone(),
            },
            method.name.span,
        ),
        (
            Declaration::Result {
                package: package.to_string(),
                service: service.to_string(),
                method: name.clone(),
            },
            method
                .returns
                .as_ref()
                .map_or(method.name.span, |returns| returns.span),
        ),
    ];
    for param in &method.params {
        let declaration = Declaration::Param {
            package: package.to_string(),
            service: service.to_string(),
            method: name.clone(),
            param: param.name.text.clone(),
        };
        places.push((declaration, param.name.span));
    }
    places
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Compiler, MemoryLoader};

    #[test]
    fn every_declaration_is_found_by_its_name() {
        let text = "package shop;\n\
                    struct Ticket { id: u64 }\n\
                    enum Event { Opened, Closed { why: string } }\n\
                    service Tickets { get(id: u64) -> Ticket; ping(); }\n";
        let loader = MemoryLoader::new().with_file("shop.rpc", text);
        let (_, map) = Compiler::with_loader(loader)
            .compile_mapped(&["shop.rpc"])
            .unwrap();
        let text_of = |declaration: Declaration| {
            let (file, span) = map.place(&declaration).expect("a mapped declaration");
            map.files().text(file)[span.start..span.end].to_string()
        };
        let package = || "shop".to_string();
        assert_eq!(
            text_of(Declaration::Type {
                package: package(),
                name: "Ticket".into()
            }),
            "Ticket"
        );
        let closed_why = Declaration::Field {
            package: package(),
            type_name: "Event".into(),
            variant: Some("Closed".into()),
            field: "why".into(),
        };
        assert_eq!(text_of(closed_why), "why");
        let result = |method: &str| Declaration::Result {
            package: package(),
            service: "Tickets".into(),
            method: method.into(),
        };
        assert_eq!(text_of(result("get")), "Ticket");
        assert_eq!(text_of(result("ping")), "ping");
        let param = Declaration::Param {
            package: package(),
            service: "Tickets".into(),
            method: "get".into(),
            param: "id".into(),
        };
        assert_eq!(text_of(param), "id");
        let missing = Declaration::Service {
            package: package(),
            name: "Desk".into(),
        };
        assert_eq!(map.place(&missing), None);
    }
}
