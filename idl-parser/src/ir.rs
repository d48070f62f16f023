//! The IR: one compiled schema, with every name resolved. Read this module first.
//!
//! Every backend (Rust, TypeScript, Python, the `.rpc` printer) consumes only these types, and both
//! front ends (`.rpc` files and annotated Rust traits) produce them. It is plain data: serde turns
//! it into the JSON that `rpcgen ir` prints.
//!
//! Conventions:
//! - Names are IDL names as written; a backend turns them into identifiers with
//!   [`crate::naming::target_name`]. What travels on the wire is always a `wire_name`.
//! - Docs are lists of lines, without the `///`.
//! - A named type is referred to by [`TypeName`] (package and name); look it up with
//!   [`Schema::type_def`].
//! - Lists keep declaration order, which is also wire order for parameters.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

/// Everything one compile produced: the packages of the root files and every package they import.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schema {
    /// Packages in dependency order: a package comes after every package it imports.
    pub packages: Vec<Package>,
}

/// One `.rpc` file: a package and what it declares.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Package {
    /// The package name (a lowercase identifier); names the Rust module, TypeScript file and
    /// Python module generated for it.
    pub name: String,
    /// `true` for the packages of the files the compile was asked for; `false` for packages that
    /// are only here because something imports them.
    pub root: bool,
    /// Doc comment lines written before `package`.
    pub docs: Vec<String>,
    /// Names of the packages this one imports, in import order.
    pub imports: Vec<String>,
    /// Structs, enums and errors, in declaration order.
    pub types: Vec<TypeDef>,
    /// Services, in declaration order.
    pub services: Vec<Service>,
}

/// A user type: a struct, an enum or an error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TypeDef {
    /// The type name.
    pub name: String,
    /// Doc comment lines.
    pub docs: Vec<String>,
    /// The `@deprecated` text (empty when no reason was given); `None` when not deprecated.
    pub deprecated: Option<String>,
    /// What kind of type it is, with its contents.
    pub kind: TypeKind,
}

/// The three kinds of user type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TypeKind {
    /// A record; on the wire a map keyed by the fields' wire names.
    Struct {
        /// The fields, in declaration order.
        fields: Vec<Field>,
    },
    /// A choice of variants; see [`VariantData`] for the wire form of each.
    Enum {
        /// The variants, in declaration order.
        variants: Vec<Variant>,
    },
    /// An error a method can raise; it travels in zerorpc's ERR event, named by the type's name.
    /// Error types appear only in `throws` lists.
    Error {
        /// The fields, in declaration order.
        fields: Vec<Field>,
    },
}

/// A named, typed member of a struct, an error or a struct-like variant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Field {
    /// The field name.
    pub name: String,
    /// The map key on the wire: the `@name` value, else the field name.
    pub wire_name: String,
    /// Doc comment lines.
    pub docs: Vec<String>,
    /// The `@deprecated` text (empty when no reason was given); `None` when not deprecated.
    pub deprecated: Option<String>,
    /// The field type.
    #[serde(rename = "type")]
    pub ty: Type,
}

/// One variant of an enum.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Variant {
    /// The variant name.
    pub name: String,
    /// The name on the wire: the `@name` value, else the variant name.
    pub wire_name: String,
    /// Doc comment lines.
    pub docs: Vec<String>,
    /// The `@deprecated` text (empty when no reason was given); `None` when not deprecated.
    pub deprecated: Option<String>,
    /// What the variant carries.
    pub data: VariantData,
}

/// What a variant carries, and so how it travels.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VariantData {
    /// Nothing; on the wire the wire name as a string.
    Unit,
    /// Positional values; on the wire `{wire_name: value}` with one value, `{wire_name: [values]}`
    /// with several.
    Tuple {
        /// The value types, in order.
        items: Vec<Type>,
    },
    /// Named fields; on the wire `{wire_name: {field: value, …}}`.
    Struct {
        /// The fields, in declaration order.
        fields: Vec<Field>,
    },
}

/// A service: a set of methods served on one zerorpc endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Service {
    /// The service name.
    pub name: String,
    /// Doc comment lines.
    pub docs: Vec<String>,
    /// The `@deprecated` text (empty when no reason was given); `None` when not deprecated.
    pub deprecated: Option<String>,
    /// The service's own `@timeout`: the default of its methods that have none.
    pub timeout_ms: Option<u64>,
    /// The methods, in declaration order.
    pub methods: Vec<Method>,
}

/// One remote method.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Method {
    /// The method name.
    pub name: String,
    /// The zerorpc event name a call sends: the `@name` value, else the method name.
    pub wire_name: String,
    /// Doc comment lines.
    pub docs: Vec<String>,
    /// The `@deprecated` text (empty when no reason was given); `None` when not deprecated.
    pub deprecated: Option<String>,
    /// The method's own `@timeout`. What a call waits by default is
    /// [`Service::method_timeout_ms`], which falls back on the service's.
    pub timeout_ms: Option<u64>,
    /// The parameters; a call sends their values as a positional array in this order.
    pub params: Vec<Param>,
    /// What a call returns.
    pub returns: Returns,
    /// The errors the method declares it can raise, each a [`TypeKind::Error`] type.
    pub throws: Vec<TypeName>,
}

/// A method parameter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Param {
    /// The parameter name (not sent: parameters are positional).
    pub name: String,
    /// Doc comment lines.
    pub docs: Vec<String>,
    /// The parameter type.
    #[serde(rename = "type")]
    pub ty: Type,
}

/// What a method returns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Returns {
    /// No `->`: the reply is zerorpc's OK with nil.
    Unit,
    /// `-> T`: the reply is one value.
    Value(Type),
    /// `-> stream<T>`: the reply is a zerorpc stream of `T` items.
    Stream(Type),
}

/// A resolved type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Type {
    /// true or false.
    Bool,
    /// Signed 8-bit integer.
    I8,
    /// Signed 16-bit integer.
    I16,
    /// Signed 32-bit integer.
    I32,
    /// Signed 64-bit integer.
    I64,
    /// Unsigned 8-bit integer.
    U8,
    /// Unsigned 16-bit integer.
    U16,
    /// Unsigned 32-bit integer.
    U32,
    /// Unsigned 64-bit integer.
    U64,
    /// 32-bit float.
    F32,
    /// 64-bit float.
    F64,
    /// UTF-8 text; MessagePack str.
    String,
    /// Raw bytes; MessagePack bin.
    Bytes,
    /// Any MessagePack value, passed through untouched.
    Any,
    /// `list<T>`: a MessagePack array.
    List(Box<Type>),
    /// `map<K, V>`: a MessagePack map; `key` is `string` or an enum whose variants are all unit.
    Map {
        /// The key type.
        key: Box<Type>,
        /// The value type.
        value: Box<Type>,
    },
    /// `T?`: a `T` or nil.
    Optional(Box<Type>),
    /// A user type (a struct or an enum).
    Named(TypeName),
}

/// The full name of a user type: which package declares it, and its name there.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct TypeName {
    /// The declaring package.
    pub package: String,
    /// The type name in that package.
    pub name: String,
}

impl Schema {
    /// The package with this name.
    pub fn package(&self, name: &str) -> Option<&Package> {
        self.packages.iter().find(|package| package.name == name)
    }

    /// The definition a [`TypeName`] refers to.
    pub fn type_def(&self, name: &TypeName) -> Option<&TypeDef> {
        self.package(&name.package)?
            .types
            .iter()
            .find(|def| def.name == name.name)
    }

    /// The packages the compile was asked for (those with `root` set).
    pub fn root_packages(&self) -> impl Iterator<Item = &Package> {
        self.packages.iter().filter(|package| package.root)
    }

    /// Every user type of every package, with its full name, in package then declaration order.
    pub fn named_types(&self) -> impl Iterator<Item = (TypeName, &TypeDef)> {
        self.packages.iter().flat_map(Package::named_types)
    }
}

impl Service {
    /// The client's default timeout for a call of `method` (one of this service's methods): the
    /// method's own `@timeout`, else the service's; `None` leaves the client's own default.
    pub fn method_timeout_ms(&self, method: &Method) -> Option<u64> {
        method.timeout_ms.or(self.timeout_ms)
    }
}

impl Method {
    /// How many arguments a call must pass: every parameter up to the last one that is not
    /// optional. A call may leave out the optional parameters after it: servers read them as nil,
    /// and the Python and TypeScript clients let callers omit them.
    pub fn required_params(&self) -> usize {
        self.params
            .iter()
            .rposition(|param| !matches!(param.ty, Type::Optional(_)))
            .map_or(0, |last| last + 1)
    }

    /// Calls `visit` with every user type the method mentions: in its parameters, its result and
    /// its `throws` list.
    pub fn for_each_named(&self, visit: &mut impl FnMut(&TypeName)) {
        for param in &self.params {
            param.ty.for_each_named(visit);
        }
        if let Returns::Value(ty) | Returns::Stream(ty) = &self.returns {
            ty.for_each_named(visit);
        }
        self.throws.iter().for_each(visit);
    }
}

impl TypeDef {
    /// The types of its fields, or of its variants' contents, in declaration order.
    pub fn member_types(&self) -> Vec<&Type> {
        fn field_types(fields: &[Field]) -> Vec<&Type> {
            fields.iter().map(|field| &field.ty).collect()
        }
        match &self.kind {
            TypeKind::Struct { fields } | TypeKind::Error { fields } => field_types(fields),
            TypeKind::Enum { variants } => variants
                .iter()
                .flat_map(|variant| match &variant.data {
                    VariantData::Unit => Vec::new(),
                    VariantData::Tuple { items } => items.iter().collect(),
                    VariantData::Struct { fields } => field_types(fields),
                })
                .collect(),
        }
    }
}

impl Type {
    /// Calls `visit` with every user type this type mentions (`list<Ticket?>` mentions
    /// `Ticket`).
    pub fn for_each_named(&self, visit: &mut impl FnMut(&TypeName)) {
        match self {
            Type::List(inner) | Type::Optional(inner) => inner.for_each_named(visit),
            Type::Map { key, value } => {
                key.for_each_named(visit);
                value.for_each_named(visit);
            }
            Type::Named(name) => visit(name),
            Type::Bool
            | Type::I8
            | Type::I16
            | Type::I32
            | Type::I64
            | Type::U8
            | Type::U16
            | Type::U32
            | Type::U64
            | Type::F32
            | Type::F64
            | Type::String
            | Type::Bytes
            | Type::Any => {}
        }
    }

    /// The type as written in a `.rpc` file of `package`: `list<Ticket>`, `common.Page?`; types
    /// declared in another package are qualified with its name.
    pub fn idl_text(&self, package: &str) -> String {
        match self {
            Type::List(item) => format!("list<{}>", item.idl_text(package)),
            Type::Map { key, value } => {
                format!(
                    "map<{}, {}>",
                    key.idl_text(package),
                    value.idl_text(package)
                )
            }
            Type::Optional(inner) => format!("{}?", inner.idl_text(package)),
            Type::Named(name) => name.idl_text(package),
            scalar => {
                let (text, _) = SCALARS
                    .iter()
                    .find(|(_, ty)| ty == scalar)
                    .expect("every other type is a scalar");
                (*text).to_string()
            }
        }
    }
}

impl TypeName {
    /// The name as written in a `.rpc` file of `package`: qualified (`common.Page`) when the type
    /// is declared in another package.
    pub fn idl_text(&self, package: &str) -> String {
        if self.package == package {
            self.name.clone()
        } else {
            format!("{}.{}", self.package, self.name)
        }
    }
}

impl Package {
    /// The packages whose types this package's types and methods mention (its own included
    /// when it refers to its own types).
    pub fn referenced_packages(&self) -> BTreeSet<String> {
        let mut packages = BTreeSet::new();
        let mut note = |name: &TypeName| {
            packages.insert(name.package.clone());
        };
        for def in &self.types {
            for ty in def.member_types() {
                ty.for_each_named(&mut note);
            }
        }
        for method in self.services.iter().flat_map(|service| &service.methods) {
            method.for_each_named(&mut note);
        }
        packages
    }

    /// Every user type of this package, with its full name, in declaration order.
    pub fn named_types(&self) -> impl Iterator<Item = (TypeName, &TypeDef)> {
        self.types.iter().map(|def| {
            let name = TypeName {
                package: self.name.clone(),
                name: def.name.clone(),
            };
            (name, def)
        })
    }
}

/// The built-in scalar types by their IDL names.
pub(crate) const SCALARS: [(&str, Type); 14] = [
    ("bool", Type::Bool),
    ("i8", Type::I8),
    ("i16", Type::I16),
    ("i32", Type::I32),
    ("i64", Type::I64),
    ("u8", Type::U8),
    ("u16", Type::U16),
    ("u32", Type::U32),
    ("u64", Type::U64),
    ("f32", Type::F32),
    ("f64", Type::F64),
    ("string", Type::String),
    ("bytes", Type::Bytes),
    ("any", Type::Any),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_serialize_to_readable_json() {
        let ticket = Type::Named(TypeName {
            package: "shop".into(),
            name: "Ticket".into(),
        });
        let map = Type::Map {
            key: Box::new(Type::String),
            value: Box::new(Type::Optional(Box::new(ticket))),
        };
        let json = serde_json::to_string(&Type::List(Box::new(map))).unwrap();
        assert_eq!(
            json,
            r#"{"list":{"map":{"key":"string","value":{"optional":{"named":{"package":"shop","name":"Ticket"}}}}}}"#
        );
        assert_eq!(serde_json::to_string(&Returns::Unit).unwrap(), r#""unit""#);
    }

    #[test]
    fn types_print_as_written_in_a_package() {
        let page = Type::Named(TypeName {
            package: "common".into(),
            name: "Page".into(),
        });
        let map = Type::Map {
            key: Box::new(Type::String),
            value: Box::new(Type::Any),
        };
        assert_eq!(map.idl_text("shop"), "map<string, any>");
        assert_eq!(
            Type::List(Box::new(Type::Optional(Box::new(Type::U64)))).idl_text("shop"),
            "list<u64?>"
        );
        assert_eq!(page.idl_text("shop"), "common.Page");
        assert_eq!(page.idl_text("common"), "Page");
    }

    #[test]
    fn packages_are_found_in_nested_types_and_methods() {
        let point = Type::Named(TypeName {
            package: "geo".into(),
            name: "Point".into(),
        });
        let field = Field {
            name: "where".into(),
            wire_name: "where".into(),
            docs: vec![],
            deprecated: None,
            ty: Type::Map {
                key: Box::new(Type::String),
                value: Box::new(Type::Optional(Box::new(point))),
            },
        };
        let method = Method {
            name: "fail".into(),
            wire_name: "fail".into(),
            docs: vec![],
            deprecated: None,
            timeout_ms: None,
            params: vec![],
            returns: Returns::Unit,
            throws: vec![TypeName {
                package: "errors".into(),
                name: "Oops".into(),
            }],
        };
        let package = Package {
            name: "shop".into(),
            root: true,
            docs: vec![],
            imports: vec![],
            types: vec![TypeDef {
                name: "Place".into(),
                docs: vec![],
                deprecated: None,
                kind: TypeKind::Struct {
                    fields: vec![field],
                },
            }],
            services: vec![Service {
                name: "S".into(),
                docs: vec![],
                deprecated: None,
                timeout_ms: None,
                methods: vec![method],
            }],
        };
        let referenced: Vec<String> = package.referenced_packages().into_iter().collect();
        assert_eq!(referenced, ["errors", "geo"]);
    }

    #[test]
    fn json_round_trips() {
        let schema = Schema {
            packages: vec![Package {
                name: "shop".into(),
                root: true,
                docs: vec!["The shop.".into()],
                imports: vec![],
                types: vec![TypeDef {
                    name: "Level".into(),
                    docs: vec![],
                    deprecated: Some(String::new()),
                    kind: TypeKind::Enum {
                        variants: vec![Variant {
                            name: "Low".into(),
                            wire_name: "low".into(),
                            docs: vec![],
                            deprecated: None,
                            data: VariantData::Unit,
                        }],
                    },
                }],
                services: vec![],
            }],
        };
        let json = serde_json::to_string(&schema).unwrap();
        assert_eq!(serde_json::from_str::<Schema>(&json).unwrap(), schema);
        let level = TypeName {
            package: "shop".into(),
            name: "Level".into(),
        };
        assert_eq!(
            schema.type_def(&level).map(|def| def.name.as_str()),
            Some("Level")
        );
        assert_eq!(schema.root_packages().count(), 1);
        let named: Vec<(TypeName, &str)> = schema
            .named_types()
            .map(|(name, def)| (name, def.name.as_str()))
            .collect();
        assert_eq!(named, vec![(level, "Level")]);
    }
}
