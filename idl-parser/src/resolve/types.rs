//! Type rules: looking names up, where `stream` and error types may appear, which map keys every
//! peer can carry, and types that could never be built.
//!
//! A file sees the built-in types, its own declarations and those of the files it imports
//! directly. An imported name can be written bare (`Money`) when only one import declares it, and
//! always qualified by its package (`common.Money`).

use std::collections::HashSet;

use super::Resolver;
use crate::ast::{self, TypeExpr, TypeExprKind, TypePath};
use crate::diagnostic::Diagnostic;
use crate::ir::{Returns, Schema, Type, TypeDef, TypeKind, TypeName, VariantData, SCALARS};
use crate::wording::{did_you_mean, foreign_type, list_words};

/// What a type name refers to.
enum Resolved<'a> {
    Scalar(Type),
    /// A declaration, and the file (index) that declares it.
    Declared(usize, &'a ast::Item),
}

impl<'a> Resolver<'a> {
    /// The type of a field, parameter, list item, map key or value, or tuple item; `any` stands in
    /// for a type that has an error (already reported).
    pub(super) fn value_type(&mut self, at: usize, expr: &TypeExpr) -> Type {
        self.try_value_type(at, expr).unwrap_or(Type::Any)
    }

    fn try_value_type(&mut self, at: usize, expr: &TypeExpr) -> Option<Type> {
        match &expr.kind {
            TypeExprKind::Path(path) => self.named_value_type(at, path),
            TypeExprKind::List(item) => Some(Type::List(Box::new(self.try_value_type(at, item)?))),
            TypeExprKind::Map(key_expr, value_expr) => {
                let key = self.try_value_type(at, key_expr);
                let value = self.try_value_type(at, value_expr);
                let key = key?;
                self.check_map_key(at, key_expr, &key);
                Some(Type::Map {
                    key: Box::new(key),
                    value: Box::new(value?),
                })
            }
            TypeExprKind::Stream(_) => {
                self.error(
                    Diagnostic::error("`stream<…>` can only be the return type of a method")
                        .primary(self.file(at), expr.span, "not allowed here")
                        .help("a stream is a reply sent item by item; for a collection inside a value, use `list<T>`"),
                );
                None
            }
            TypeExprKind::Optional(inner) => {
                if is_bare_any(inner) {
                    self.error(
                        Diagnostic::error("`any?` is the same as `any`")
                            .primary(self.file(at), expr.span, "`any` already includes nil")
                            .help("write `any`"),
                    );
                    return None;
                }
                Some(Type::Optional(Box::new(self.try_value_type(at, inner)?)))
            }
        }
    }

    fn named_value_type(&mut self, at: usize, path: &TypePath) -> Option<Type> {
        match self.lookup(at, path)? {
            Resolved::Scalar(scalar) => Some(scalar),
            Resolved::Declared(declaring, item) => match &item.kind {
                ast::ItemKind::Struct(_) | ast::ItemKind::Enum(_) => Some(Type::Named(TypeName {
                    package: self.package_name(declaring).to_string(),
                    name: item.name.text.clone(),
                })),
                ast::ItemKind::Error(_) => {
                    self.error(
                        Diagnostic::error(format!("`{}` is an error type, not a value type", path.name.text))
                            .primary(self.file(at), path.span, "error types can only be thrown")
                            .secondary(self.file(declaring), item.name.span, "declared with `error` here")
                            .help(format!(
                                "raise it with `throws {0}`; to send the same data as a value, declare a `struct` as well",
                                path.name.text
                            )),
                    );
                    None
                }
                ast::ItemKind::Service(_) => {
                    self.error(
                        Diagnostic::error(format!("`{}` is a service, not a type", path.name.text))
                            .primary(
                                self.file(at),
                                path.span,
                                "a service cannot be sent as a value",
                            )
                            .secondary(
                                self.file(declaring),
                                item.name.span,
                                "declared as a service here",
                            ),
                    );
                    None
                }
            },
        }
    }

    /// What a method returns: nothing, a value, or a stream of values.
    pub(super) fn returns(&mut self, at: usize, expr: Option<&TypeExpr>) -> Returns {
        let Some(expr) = expr else {
            return Returns::Unit;
        };
        match &expr.kind {
            TypeExprKind::Stream(item) => Returns::Stream(self.value_type(at, item)),
            TypeExprKind::Optional(inner) if matches!(inner.kind, TypeExprKind::Stream(_)) => {
                self.error(
                    Diagnostic::error("a stream cannot be optional")
                        .primary(self.file(at), expr.span, "remove the `?`")
                        .help("a stream may end without sending any item; that is its empty case"),
                );
                Returns::Unit
            }
            _ => Returns::Value(self.value_type(at, expr)),
        }
    }

    /// The errors after `throws`: each must be an `error` type, listed once, and their wire names
    /// (the type names) must differ.
    pub(super) fn throws(&mut self, at: usize, paths: &[TypePath]) -> Vec<TypeName> {
        let file = self.file(at);
        let mut thrown: Vec<(TypeName, &TypePath)> = Vec::new();
        for path in paths {
            let declared = match self.lookup(at, path) {
                None => continue,
                Some(Resolved::Declared(declaring, item))
                    if matches!(item.kind, ast::ItemKind::Error(_)) =>
                {
                    TypeName {
                        package: self.package_name(declaring).to_string(),
                        name: item.name.text.clone(),
                    }
                }
                Some(other) => {
                    let mut diagnostic =
                        Diagnostic::error(format!("`{}` is not an error type", path.name.text))
                            .primary(file, path.span, "only error types can be thrown");
                    if let Resolved::Declared(declaring, item) = other {
                        let label = format!("declared with `{}` here", item.kind.keyword());
                        diagnostic =
                            diagnostic.secondary(self.file(declaring), item.name.span, label);
                    }
                    self.error(
                        diagnostic
                            .help("declare the errors a method raises with `error Name { … }`"),
                    );
                    continue;
                }
            };
            if let Some((_, first)) = thrown.iter().find(|(name, _)| *name == declared) {
                self.error(
                    Diagnostic::error(format!(
                        "`{}` is listed twice after `throws`",
                        path.name.text
                    ))
                    .primary(file, path.span, "listed again here")
                    .secondary(file, first.span, "first listed here"),
                );
                continue;
            }
            if let Some((other, first)) = thrown.iter().find(|(name, _)| name.name == declared.name)
            {
                self.error(
                    Diagnostic::error(format!(
                        "`{}.{}` and `{}.{}` cannot both be thrown by one method",
                        other.package, other.name, declared.package, declared.name
                    ))
                    .primary(file, path.span, "same type name as another thrown error")
                    .secondary(file, first.span, "this one")
                    .note("a zerorpc ERR event names the error by its type name alone, so a client could not tell them apart"),
                );
                continue;
            }
            thrown.push((declared, path));
        }
        thrown.into_iter().map(|(name, _)| name).collect()
    }

    /// Finds what a type name refers to from file `at`, or reports why it cannot.
    fn lookup(&mut self, at: usize, path: &TypePath) -> Option<Resolved<'a>> {
        let name = path.name.text.as_str();
        let Some(package) = &path.package else {
            if let Some((_, scalar)) = SCALARS.iter().find(|(scalar, _)| *scalar == name) {
                return Some(Resolved::Scalar(scalar.clone()));
            }
            if let Some(item) = self.declarations[at].get(name) {
                return Some(Resolved::Declared(at, item));
            }
            let declaring: Vec<usize> = self.files[at]
                .imports
                .iter()
                .copied()
                .filter(|&imported| self.declarations[imported].contains_key(name))
                .collect();
            return match declaring.as_slice() {
                [one] => Some(Resolved::Declared(*one, self.declarations[*one][name])),
                [] => {
                    self.unknown_type(at, path);
                    None
                }
                several => {
                    self.ambiguous_type(at, path, several);
                    None
                }
            };
        };
        let visible = std::iter::once(at).chain(self.files[at].imports.iter().copied());
        let Some(declaring) = visible
            .clone()
            .find(|&file| self.package_name(file) == package.text)
        else {
            let names: Vec<&str> = visible.map(|file| self.package_name(file)).collect();
            let mut diagnostic = Diagnostic::error(format!("unknown package `{}`", package.text))
                .primary(
                    self.file(at),
                    package.span,
                    "not this file's package nor an imported one",
                );
            diagnostic = match did_you_mean(&package.text, names) {
                Some(close) => diagnostic.help(format!("did you mean `{close}`?")),
                None => diagnostic.help(format!(
                    "import the file that declares `package {};`",
                    package.text
                )),
            };
            self.error(diagnostic);
            return None;
        };
        if let Some(item) = self.declarations[declaring].get(name) {
            return Some(Resolved::Declared(declaring, item));
        }
        let mut diagnostic = Diagnostic::error(format!(
            "package `{}` has no type `{name}`",
            package.text
        ))
        .primary(self.file(at), path.name.span, "not declared there");
        if let Some(close) = did_you_mean(name, self.declarations[declaring].keys().copied()) {
            diagnostic = diagnostic.help(format!("did you mean `{}.{close}`?", package.text));
        }
        self.error(diagnostic);
        None
    }

    fn unknown_type(&mut self, at: usize, path: &TypePath) {
        let name = path.name.text.as_str();
        let file = self.file(at);
        if let Some(form) = generic_form(name) {
            self.error(
                Diagnostic::error(format!("`{name}` needs type arguments")).primary(
                    file,
                    path.span,
                    format!("write `{form}`"),
                ),
            );
            return;
        }
        let package = self.package_name(at);
        let mut diagnostic = Diagnostic::error(format!("unknown type `{name}`")).primary(
            file,
            path.span,
            format!("not a built-in type, nor declared in package `{package}` or its imports"),
        );
        let visible = std::iter::once(at).chain(self.files[at].imports.iter().copied());
        let candidates: Vec<&str> = SCALARS
            .iter()
            .map(|(scalar, _)| *scalar)
            .chain(visible.flat_map(|file| self.declarations[file].keys().copied()))
            .collect();
        if let Some(idl) = foreign_type(name) {
            diagnostic = diagnostic.help(format!("the IDL writes `{name}` as {idl}"));
        } else if let Some(close) = did_you_mean(name, candidates) {
            diagnostic = diagnostic.help(format!("did you mean `{close}`?"));
        } else if let Some(elsewhere) =
            (0..self.files.len()).find(|&file| self.declarations[file].contains_key(name))
        {
            diagnostic = diagnostic.help(format!(
                "`{name}` is declared in package `{}`; import its file to use it here",
                self.package_name(elsewhere)
            ));
        }
        self.error(diagnostic);
    }

    fn ambiguous_type(&mut self, at: usize, path: &TypePath, declaring: &[usize]) {
        let name = &path.name.text;
        let qualified: Vec<String> = declaring
            .iter()
            .map(|&file| format!("`{}.{name}`", self.package_name(file)))
            .collect();
        let mut diagnostic = Diagnostic::error(format!("`{name}` is ambiguous")).primary(
            self.file(at),
            path.span,
            "declared by more than one imported package",
        );
        for &file in declaring {
            let item = self.declarations[file][name.as_str()];
            diagnostic = diagnostic.secondary(self.file(file), item.name.span, "declared here");
        }
        let qualified: Vec<&str> = qualified.iter().map(String::as_str).collect();
        self.error(diagnostic.help(format!("say which one: {}", list_words(&qualified, "or"))));
    }

    /// Map keys must be strings on the wire for every peer: `string`, or an enum whose variants
    /// are all unit (sent as their names).
    fn check_map_key(&mut self, at: usize, key_expr: &TypeExpr, key: &Type) {
        const HELP: &str = "use `string` keys, or an enum whose variants carry no data";
        let (note, help) = match key {
            Type::String => return,
            Type::I8 | Type::I16 | Type::I32 | Type::I64 | Type::U8 | Type::U16 | Type::U32 | Type::U64 => (
                "zerorpc-python drops every message that holds a map with integer keys, so the call would end in a timeout instead of an error",
                "use `string` keys and write the numbers as text",
            ),
            Type::Bytes => (
                "the TypeScript client's MessagePack decoder throws on binary map keys",
                "use `string` keys",
            ),
            Type::Named(name) => match self.declared_item(name).map(|item| &item.kind) {
                Some(ast::ItemKind::Enum(variants)) if variants.iter().all(|variant| variant.data == ast::VariantData::Unit) => return,
                Some(ast::ItemKind::Enum(_)) => (
                    "a variant with data travels as a map, and only strings are map keys every zerorpc peer can read",
                    HELP,
                ),
                _ => (
                    "a struct travels as a map, and only strings are map keys every zerorpc peer can read",
                    HELP,
                ),
            },
            _ => ("only strings are map keys every zerorpc peer can read", HELP),
        };
        self.error(
            Diagnostic::error(format!("`{key_expr}` cannot be a map key"))
                .primary(
                    self.file(at),
                    key_expr.span,
                    "not `string` nor an enum without data",
                )
                .note(note)
                .help(help),
        );
    }

    /// The declaration a resolved type name refers to.
    fn declared_item(&self, name: &TypeName) -> Option<&'a ast::Item> {
        let file = *self.package_files.get(name.package.as_str())?;
        self.declarations[file].get(name.name.as_str()).copied()
    }

    /// Reports types that can never be built because every value would contain another value of
    /// the same type (`struct Node { next: Node }`): a list, a map or `?` breaks such a cycle.
    pub(super) fn check_recursive_types(&mut self, schema: &Schema) {
        let definitions: Vec<(TypeName, &TypeDef)> = schema.named_types().collect();
        let mut buildable: HashSet<&TypeName> = HashSet::new();
        loop {
            let before = buildable.len();
            for (name, def) in &definitions {
                if !buildable.contains(name) && can_build(def, &buildable) {
                    buildable.insert(name);
                }
            }
            if buildable.len() == before {
                break;
            }
        }
        for (name, _) in definitions
            .iter()
            .filter(|(name, _)| !buildable.contains(name))
        {
            let file = self.package_files[name.package.as_str()];
            let item = self
                .declared_item(name)
                .expect("every schema type is declared");
            self.error(
                Diagnostic::error(format!("recursive type `{}` has no finite value", name.name))
                    .primary(self.file(file), item.name.span, "every value would contain another one, without end")
                    .help(format!(
                        "make the field that leads back to `{0}` optional (`{0}?`) or a list (`list<{0}>`)",
                        name.name
                    )),
            );
        }
    }
}

/// Whether a value of `def` can be built from types already known to be buildable.
fn can_build(def: &TypeDef, buildable: &HashSet<&TypeName>) -> bool {
    let ready = |ty: &Type| match ty {
        Type::Named(name) => buildable.contains(name),
        _ => true,
    };
    match &def.kind {
        TypeKind::Struct { fields } | TypeKind::Error { fields } => {
            fields.iter().all(|field| ready(&field.ty))
        }
        // An enum without variants is reported on its own.
        TypeKind::Enum { variants } if variants.is_empty() => true,
        TypeKind::Enum { variants } => variants.iter().any(|variant| match &variant.data {
            VariantData::Unit => true,
            VariantData::Tuple { items } => items.iter().all(ready),
            VariantData::Struct { fields } => fields.iter().all(|field| ready(&field.ty)),
        }),
    }
}

/// `any` written without a package.
fn is_bare_any(expr: &TypeExpr) -> bool {
    matches!(&expr.kind, TypeExprKind::Path(path) if path.package.is_none() && path.name.text == "any")
}

/// How a generic type is written, for a generic name used without arguments.
fn generic_form(name: &str) -> Option<&'static str> {
    match name {
        "list" => Some("list<T>"),
        "map" => Some("map<string, V>"),
        "stream" => Some("stream<T>"),
        _ => None,
    }
}
