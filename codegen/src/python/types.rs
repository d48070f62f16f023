//! IDL types in a generated Python module: their annotations, their codecs, and what they import.
//!
//! An annotation is what a reader sees (`list[str]`, `_common.Money | None`); a codec is the
//! `rpcgen_values` object that checks and converts the type (`_rv.U64`, `_LIST_STR`). Codecs of
//! lists, maps and optionals are module constants built once, at the end of the module (after every
//! class they refer to), and shared by every use; each struct and enum has a codec constant in its
//! own module, which other modules refer to (`_common._MONEY`).

use std::collections::{BTreeMap, BTreeSet};

use rpcgen_idl::ir::{Schema, Type, TypeKind, TypeName};

use super::names::{self, PrivateNames, BUILTINS_USED};

/// How generated modules import the runtime.
pub const RUNTIME: &str = "_rt";
/// How generated modules import `rpcgen_values`.
pub const VALUES: &str = "_rv";
/// How generated modules import `builtins`, for classes whose members hide a built-in.
const BUILTINS: &str = "_builtins";
/// `typing.Any`.
pub const ANY: &str = "_Any";
/// `typing.Union`.
pub const UNION: &str = "_Union";
/// `dataclasses.dataclass`.
pub const DATACLASS: &str = "_dataclass";
/// `enum.Enum`.
pub const ENUM: &str = "_Enum";

/// Every fixed alias, claimed first in each module so that no constant takes one.
const FIXED_ALIASES: &[&str] = &[RUNTIME, VALUES, BUILTINS, ANY, UNION, DATACLASS, ENUM];

/// The codec constant of every struct and enum, by type, as named in the type's own module.
pub type NamedCodecs = BTreeMap<TypeName, String>;

/// The private names of a module once its fixed aliases and its types' codec constants are
/// claimed; records those constants' names in `named_codecs`.
pub fn module_private_names(
    package: &rpcgen_idl::ir::Package,
    named_codecs: &mut NamedCodecs,
) -> PrivateNames {
    let mut private = PrivateNames::default();
    for alias in FIXED_ALIASES {
        private.claim(&alias[1..]);
    }
    for (name, def) in package.named_types() {
        if !matches!(def.kind, TypeKind::Error { .. }) {
            named_codecs.insert(name, private.claim(&names::upper_snake(&def.name)));
        }
    }
    private
}

/// A module-level constant: `name = value`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Constant {
    /// The constant's name.
    pub name: String,
    /// The expression it is bound to (it may span several lines).
    pub value: String,
}

/// The built-ins hidden in one class body by its members' names (fields or methods).
#[derive(Debug, Default, Clone)]
pub struct Scope {
    hidden: BTreeSet<&'static str>,
}

impl Scope {
    /// The scope of a class whose members are `members`.
    pub fn class<'a>(members: impl IntoIterator<Item = &'a str>) -> Scope {
        let members: BTreeSet<&str> = members.into_iter().collect();
        Scope {
            hidden: BUILTINS_USED
                .iter()
                .copied()
                .filter(|builtin| members.contains(builtin))
                .collect(),
        }
    }
}

/// What a module imports, collected while its code is written.
#[derive(Debug, Default)]
pub struct Imports {
    /// `import builtins as _builtins`.
    pub builtins: bool,
    /// `from dataclasses import dataclass as _dataclass`.
    pub dataclass: bool,
    /// `from enum import Enum as _Enum`.
    pub enumeration: bool,
    /// `from typing import Any as _Any`.
    pub any: bool,
    /// `from typing import Union as _Union`.
    pub union: bool,
    /// `from . import rpcgen_runtime as _rt`.
    pub runtime: bool,
    /// `from . import rpcgen_values as _rv`.
    pub values: bool,
    /// Other generated modules, by package name, with their aliases.
    pub packages: BTreeMap<String, String>,
}

impl Imports {
    /// The import lines, sorted as isort (and ruff) sort them: the standard library, a blank line,
    /// then the modules of the generated package.
    pub fn lines(&self) -> Vec<String> {
        let mut standard = Vec::new();
        if self.builtins {
            standard.push(format!("import builtins as {BUILTINS}"));
        }
        if self.dataclass {
            standard.push(format!("from dataclasses import dataclass as {DATACLASS}"));
        }
        if self.enumeration {
            standard.push(format!("from enum import Enum as {ENUM}"));
        }
        if self.any {
            standard.push(format!("from typing import Any as {ANY}"));
        }
        if self.union {
            standard.push(format!("from typing import Union as {UNION}"));
        }
        let mut local: Vec<(&str, &str)> = self
            .packages
            .iter()
            .map(|(package, alias)| (package.as_str(), alias.as_str()))
            .collect();
        if self.runtime {
            local.push(("rpcgen_runtime", RUNTIME));
        }
        if self.values {
            local.push(("rpcgen_values", VALUES));
        }
        local.sort();
        let mut lines = standard;
        if !lines.is_empty() && !local.is_empty() {
            lines.push(String::new());
        }
        lines.extend(
            local
                .into_iter()
                .map(|(module, alias)| format!("from . import {module} as {alias}")),
        );
        lines
    }
}

/// Writes the annotations and codecs of one module, and records what they need.
pub struct TypeWriter<'a> {
    schema: &'a Schema,
    package: &'a str,
    named_codecs: &'a NamedCodecs,
    /// The module's private names.
    pub private: PrivateNames,
    /// What the module imports.
    pub imports: Imports,
    composites: Vec<Constant>,
    composite_names: BTreeMap<String, String>,
}

impl<'a> TypeWriter<'a> {
    /// A writer for the module of `package`, whose private names already hold its fixed aliases
    /// and its own codec constants (see [`module_private_names`]).
    pub fn new(
        schema: &'a Schema,
        package: &'a str,
        named_codecs: &'a NamedCodecs,
        private: PrivateNames,
    ) -> TypeWriter<'a> {
        TypeWriter {
            schema,
            package,
            named_codecs,
            private,
            imports: Imports::default(),
            composites: Vec::new(),
            composite_names: BTreeMap::new(),
        }
    }

    /// The constants of the list, map and optional codecs used so far, each after those it uses.
    pub fn take_composite_codecs(&mut self) -> Vec<Constant> {
        std::mem::take(&mut self.composites)
    }

    /// `name` as code in `scope` can use it: the built-in itself, or `_builtins.name` when a
    /// member of the scope hides it.
    pub fn builtin(&mut self, name: &'static str, scope: &Scope) -> String {
        if scope.hidden.contains(name) {
            self.imports.builtins = true;
            format!("{BUILTINS}.{name}")
        } else {
            name.to_string()
        }
    }

    /// `typing.Any`, through its alias.
    pub fn any(&mut self) -> &'static str {
        self.imports.any = true;
        ANY
    }

    /// The `rpcgen_values` module, through its alias.
    pub fn values(&mut self) -> &'static str {
        self.imports.values = true;
        VALUES
    }

    /// The runtime module, through its alias.
    pub fn runtime(&mut self) -> &'static str {
        self.imports.runtime = true;
        RUNTIME
    }

    /// The annotation of `ty` in `scope`.
    pub fn annotation(&mut self, ty: &Type, scope: &Scope) -> String {
        match ty {
            Type::Bool => self.builtin("bool", scope),
            Type::I8
            | Type::I16
            | Type::I32
            | Type::I64
            | Type::U8
            | Type::U16
            | Type::U32
            | Type::U64 => self.builtin("int", scope),
            Type::F32 | Type::F64 => self.builtin("float", scope),
            Type::String => self.builtin("str", scope),
            Type::Bytes => self.builtin("bytes", scope),
            Type::Any => self.any().to_string(),
            Type::List(item) => {
                let list = self.builtin("list", scope);
                format!("{list}[{}]", self.annotation(item, scope))
            }
            Type::Map { key, value } => {
                let dict = self.builtin("dict", scope);
                let key = self.annotation(key, scope);
                format!("{dict}[{key}, {}]", self.annotation(value, scope))
            }
            Type::Optional(inner) => format!("{} | None", self.annotation(inner, scope)),
            Type::Named(name) => self.type_reference(name),
        }
    }

    /// A user type's class (or union alias), qualified by its module when it is another one's.
    pub fn type_reference(&mut self, name: &TypeName) -> String {
        self.qualified(&name.package, names::type_name(&name.name))
    }

    /// `item` of the module of `package`: bare in its own module, else through the module's alias.
    pub fn qualified(&mut self, package: &str, item: String) -> String {
        if package == self.package {
            return item;
        }
        format!("{}.{item}", self.package_alias(package))
    }

    fn package_alias(&mut self, package: &str) -> String {
        if let Some(alias) = self.imports.packages.get(package) {
            return alias.clone();
        }
        let alias = self.private.claim(package);
        self.imports
            .packages
            .insert(package.to_string(), alias.clone());
        alias
    }

    /// The codec of `ty`: a constant of `rpcgen_values` for a built-in type, else a module
    /// constant (created on first use for lists, maps and optionals).
    pub fn codec(&mut self, ty: &Type) -> String {
        let scalar = match ty {
            Type::Bool => "BOOL",
            Type::I8 => "I8",
            Type::I16 => "I16",
            Type::I32 => "I32",
            Type::I64 => "I64",
            Type::U8 => "U8",
            Type::U16 => "U16",
            Type::U32 => "U32",
            Type::U64 => "U64",
            Type::F32 => "F32",
            Type::F64 => "F64",
            Type::String => "STR",
            Type::Bytes => "BYTES",
            Type::Any => "ANY",
            Type::Named(name) => return self.named_codec(name),
            Type::List(_) | Type::Map { .. } | Type::Optional(_) => {
                return self.composite_codec(ty)
            }
        };
        format!("{}.{scalar}", self.values())
    }

    fn named_codec(&mut self, name: &TypeName) -> String {
        let constant = self
            .named_codecs
            .get(name)
            .cloned()
            .unwrap_or_else(|| panic!("the IR refers to an unknown type {name:?}"));
        self.qualified(&name.package, constant)
    }

    fn composite_codec(&mut self, ty: &Type) -> String {
        let key = serde_json::to_string(ty).expect("IR types always serialize");
        if let Some(name) = self.composite_names.get(&key) {
            return name.clone();
        }
        let values = self.values();
        let value = match ty {
            Type::List(item) => format!("{values}.list_of({})", self.codec(item)),
            Type::Map { key, value } => {
                let key = self.codec(key);
                format!("{values}.map_of({key}, {})", self.codec(value))
            }
            Type::Optional(inner) => format!("{values}.optional({})", self.codec(inner)),
            _ => unreachable!("only lists, maps and optionals have composite codecs"),
        };
        let name = self.private.claim(&self.codec_base_name(ty));
        self.composite_names.insert(key, name.clone());
        self.composites.push(Constant {
            name: name.clone(),
            value,
        });
        name
    }

    /// A readable constant name for the codec of `ty`, without the leading `_`: `LIST_STR`,
    /// `MAP_STR_LIST_U64`, `OPTIONAL_COMMON_MONEY`.
    fn codec_base_name(&self, ty: &Type) -> String {
        match ty {
            Type::Bool => "BOOL".into(),
            Type::I8 => "I8".into(),
            Type::I16 => "I16".into(),
            Type::I32 => "I32".into(),
            Type::I64 => "I64".into(),
            Type::U8 => "U8".into(),
            Type::U16 => "U16".into(),
            Type::U32 => "U32".into(),
            Type::U64 => "U64".into(),
            Type::F32 => "F32".into(),
            Type::F64 => "F64".into(),
            Type::String => "STR".into(),
            Type::Bytes => "BYTES".into(),
            Type::Any => "ANY".into(),
            Type::List(item) => format!("LIST_{}", self.codec_base_name(item)),
            Type::Map { key, value } => format!(
                "MAP_{}_{}",
                self.codec_base_name(key),
                self.codec_base_name(value)
            ),
            Type::Optional(inner) => format!("OPTIONAL_{}", self.codec_base_name(inner)),
            Type::Named(name) if name.package == self.package => names::upper_snake(&name.name),
            Type::Named(name) => format!(
                "{}_{}",
                names::upper_snake(&name.package),
                names::upper_snake(&name.name)
            ),
        }
    }

    /// The definition a type name refers to.
    pub fn type_def(&self, name: &TypeName) -> &'a rpcgen_idl::ir::TypeDef {
        self.schema
            .type_def(name)
            .unwrap_or_else(|| panic!("the IR refers to an unknown type {name:?}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rpcgen_idl::ir::Package;

    fn schema() -> Schema {
        let package = |name: &str, types: &[&str]| Package {
            name: name.into(),
            root: true,
            docs: vec![],
            imports: vec![],
            types: types
                .iter()
                .map(|name| rpcgen_idl::ir::TypeDef {
                    name: name.to_string(),
                    docs: vec![],
                    deprecated: None,
                    kind: TypeKind::Struct { fields: vec![] },
                })
                .collect(),
            services: vec![],
        };
        Schema {
            packages: vec![package("common", &["Money"]), package("shop", &["Ticket"])],
        }
    }

    fn named(package: &str, name: &str) -> Type {
        Type::Named(TypeName {
            package: package.into(),
            name: name.into(),
        })
    }

    fn with_writer(test: impl FnOnce(&mut TypeWriter)) {
        let schema = schema();
        let mut codecs = NamedCodecs::new();
        module_private_names(&schema.packages[0], &mut codecs);
        let private = module_private_names(&schema.packages[1], &mut codecs);
        let mut writer = TypeWriter::new(&schema, "shop", &codecs, private);
        test(&mut writer);
    }

    #[test]
    fn annotations() {
        with_writer(|writer| {
            let scope = Scope::default();
            let ty = Type::Map {
                key: Box::new(Type::String),
                value: Box::new(Type::List(Box::new(Type::Optional(Box::new(Type::U64))))),
            };
            assert_eq!(
                writer.annotation(&ty, &scope),
                "dict[str, list[int | None]]"
            );
            let money = Type::Optional(Box::new(named("common", "Money")));
            assert_eq!(writer.annotation(&money, &scope), "_common.Money | None");
            assert_eq!(writer.annotation(&Type::Any, &scope), "_Any");
            assert!(writer.imports.any && !writer.imports.builtins);
        });
    }

    #[test]
    fn hidden_builtins_are_qualified() {
        with_writer(|writer| {
            let scope = Scope::class(["list", "id"]);
            let ty = Type::List(Box::new(Type::U64));
            assert_eq!(writer.annotation(&ty, &scope), "_builtins.list[int]");
            assert!(writer.imports.builtins);
        });
    }

    #[test]
    fn composite_codecs_are_shared_constants_after_their_parts() {
        with_writer(|writer| {
            let tickets = Type::List(Box::new(Type::Optional(Box::new(named("shop", "Ticket")))));
            assert_eq!(writer.codec(&tickets), "_LIST_OPTIONAL_TICKET");
            assert_eq!(writer.codec(&tickets), "_LIST_OPTIONAL_TICKET");
            let money = Type::List(Box::new(named("common", "Money")));
            assert_eq!(writer.codec(&money), "_LIST_COMMON_MONEY");
            assert_eq!(writer.codec(&Type::U64), "_rv.U64");
            let constants = writer.take_composite_codecs();
            let lines: Vec<String> = constants
                .iter()
                .map(|constant| format!("{} = {}", constant.name, constant.value))
                .collect();
            assert_eq!(
                lines,
                [
                    "_OPTIONAL_TICKET = _rv.optional(_TICKET)",
                    "_LIST_OPTIONAL_TICKET = _rv.list_of(_OPTIONAL_TICKET)",
                    "_LIST_COMMON_MONEY = _rv.list_of(_common._MONEY)",
                ]
            );
            assert_eq!(writer.imports.packages["common"], "_common");
        });
    }

    #[test]
    fn import_lines_are_sorted_like_isort() {
        let imports = Imports {
            any: true,
            dataclass: true,
            builtins: true,
            runtime: true,
            values: true,
            packages: BTreeMap::from([
                ("common".into(), "_common".into()),
                ("zoo".into(), "_zoo".into()),
            ]),
            ..Imports::default()
        };
        assert_eq!(
            imports.lines(),
            [
                "import builtins as _builtins",
                "from dataclasses import dataclass as _dataclass",
                "from typing import Any as _Any",
                "",
                "from . import common as _common",
                "from . import rpcgen_runtime as _rt",
                "from . import rpcgen_values as _rv",
                "from . import zoo as _zoo",
            ]
        );
    }
}
