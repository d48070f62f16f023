//! How IDL types appear in generated TypeScript: as type expressions, as converter expressions (the
//! runtime functions that check and convert a value of the type), and as IDL text for messages.

use rpcgen_idl::ir::{Type, TypeName};
use rpcgen_idl::naming::{self, NameKind, Target};

/// The name under which generated files import the runtime module.
pub(super) const RUNTIME_NAMESPACE: &str = "rpcgen";

/// Renders the types used in one package's file. Types of other packages are reached through the
/// namespace import of their file (`common.Money`, `common.toMoney`).
pub(super) struct TypeRenderer<'a> {
    package: &'a str,
}

impl<'a> TypeRenderer<'a> {
    /// A renderer for the file of `package`.
    pub(super) fn new(package: &'a str) -> TypeRenderer<'a> {
        TypeRenderer { package }
    }

    /// The TypeScript type of values of `ty`: `bigint`, `Ticket[]`, `{ [key: string]: number }`.
    pub(super) fn ts_type(&self, ty: &Type) -> String {
        match ty {
            Type::Bool => "boolean".into(),
            Type::I8 | Type::I16 | Type::I32 | Type::U8 | Type::U16 | Type::U32 => "number".into(),
            Type::F32 | Type::F64 => "number".into(),
            Type::I64 | Type::U64 => "bigint".into(),
            Type::String => "string".into(),
            Type::Bytes => "Uint8Array".into(),
            Type::Any => "unknown".into(),
            Type::List(item) => match item.as_ref() {
                Type::Optional(_) => format!("({})[]", self.ts_type(item)),
                _ => format!("{}[]", self.ts_type(item)),
            },
            Type::Map { key, value } => match key.as_ref() {
                Type::String => format!("{{ [key: string]: {} }}", self.ts_type(value)),
                _ => format!(
                    "{{ [key in {}]?: {} }}",
                    self.ts_type(key),
                    self.ts_type(value)
                ),
            },
            Type::Optional(inner) => format!("{} | null", self.ts_type(inner)),
            Type::Named(name) => self.qualified(name, type_identifier(&name.name)),
        }
    }

    /// An expression for the runtime converter of `ty`: `rpcgen.toU64`, `rpcgen.listOf(toTicket)`.
    pub(super) fn converter(&self, ty: &Type) -> String {
        let runtime = |function: &str| format!("{RUNTIME_NAMESPACE}.{function}");
        match ty {
            Type::Bool => runtime("toBool"),
            Type::I8 => runtime("toI8"),
            Type::I16 => runtime("toI16"),
            Type::I32 => runtime("toI32"),
            Type::I64 => runtime("toI64"),
            Type::U8 => runtime("toU8"),
            Type::U16 => runtime("toU16"),
            Type::U32 => runtime("toU32"),
            Type::U64 => runtime("toU64"),
            Type::F32 => runtime("toF32"),
            Type::F64 => runtime("toF64"),
            Type::String => runtime("toText"),
            Type::Bytes => runtime("toBytes"),
            Type::Any => runtime("toAny"),
            Type::List(item) => format!("{}({})", runtime("listOf"), self.converter(item)),
            Type::Map { key, value } => match key.as_ref() {
                Type::String => format!("{}({})", runtime("mapOf"), self.converter(value)),
                _ => format!(
                    "{}({}, {})",
                    runtime("enumMapOf"),
                    self.converter(key),
                    self.converter(value)
                ),
            },
            Type::Optional(inner) => {
                format!("{}({})", runtime("optionalOf"), self.converter(inner))
            }
            Type::Named(name) => self.qualified(name, converter_identifier(&name.name)),
        }
    }

    /// `ty` as written in the IDL from this package (`list<common.Money>`), for error messages.
    pub(super) fn idl_text(&self, ty: &Type) -> String {
        let scalar = match ty {
            Type::Bool => "bool",
            Type::I8 => "i8",
            Type::I16 => "i16",
            Type::I32 => "i32",
            Type::I64 => "i64",
            Type::U8 => "u8",
            Type::U16 => "u16",
            Type::U32 => "u32",
            Type::U64 => "u64",
            Type::F32 => "f32",
            Type::F64 => "f64",
            Type::String => "string",
            Type::Bytes => "bytes",
            Type::Any => "any",
            Type::List(item) => return format!("list<{}>", self.idl_text(item)),
            Type::Map { key, value } => {
                return format!("map<{}, {}>", self.idl_text(key), self.idl_text(value))
            }
            Type::Optional(inner) => return format!("{}?", self.idl_text(inner)),
            Type::Named(name) => return self.qualified(name, name.name.clone()),
        };
        scalar.into()
    }

    /// `identifier`, qualified by its package's namespace when that is not this package.
    pub(super) fn qualified(&self, name: &TypeName, identifier: String) -> String {
        if name.package == self.package {
            identifier
        } else {
            format!("{}.{identifier}", name.package)
        }
    }
}

/// The TypeScript name of a user type (UpperCamelCase).
pub(super) fn type_identifier(name: &str) -> String {
    naming::target_name(Target::TypeScript, NameKind::Type, name)
}

/// The name of the converter function generated for a struct or enum: `toTicket`.
pub(super) fn converter_identifier(name: &str) -> String {
    format!("to{}", type_identifier(name))
}

/// A JavaScript string literal for `text`.
pub(super) fn string_literal(text: &str) -> String {
    serde_json::to_string(text).expect("a string always serializes")
}

/// Whether `text` can be written as a bare property name or identifier (ASCII only).
pub(super) fn is_identifier_name(text: &str) -> bool {
    let mut chars = text.chars();
    chars
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic() || first == '_' || first == '$')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
}

/// A property key for a wire name: bare when it can be (`title`, `true`), else a string literal.
pub(super) fn property_key(wire_name: &str) -> String {
    if is_identifier_name(wire_name) {
        wire_name.to_string()
    } else {
        string_literal(wire_name)
    }
}

/// What a path gains when it descends into the member `wire_name`: `.title`, `["now.utc"]`.
pub(super) fn path_step(wire_name: &str) -> String {
    if is_identifier_name(wire_name) {
        format!(".{wire_name}")
    } else {
        format!("[{}]", string_literal(wire_name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(package: &str, name: &str) -> Type {
        Type::Named(TypeName {
            package: package.into(),
            name: name.into(),
        })
    }

    #[test]
    fn type_expressions() {
        let renderer = TypeRenderer::new("shop");
        let optional_text = Type::Optional(Box::new(Type::String));
        assert_eq!(renderer.ts_type(&Type::U64), "bigint");
        assert_eq!(renderer.ts_type(&Type::U32), "number");
        assert_eq!(renderer.ts_type(&Type::Bytes), "Uint8Array");
        assert_eq!(
            renderer.ts_type(&Type::List(Box::new(optional_text.clone()))),
            "(string | null)[]"
        );
        let by_priority = Type::Map {
            key: Box::new(named("shop", "Priority")),
            value: Box::new(Type::List(Box::new(named("common", "Money")))),
        };
        assert_eq!(
            renderer.ts_type(&by_priority),
            "{ [key in Priority]?: common.Money[] }"
        );
        assert_eq!(
            renderer.converter(&by_priority),
            "rpcgen.enumMapOf(toPriority, rpcgen.listOf(common.toMoney))"
        );
        assert_eq!(
            renderer.idl_text(&by_priority),
            "map<Priority, list<common.Money>>"
        );
        assert_eq!(
            renderer.converter(&optional_text),
            "rpcgen.optionalOf(rpcgen.toText)"
        );
    }

    #[test]
    fn wire_names_become_keys_and_path_steps() {
        assert_eq!(property_key("is_closed"), "is_closed");
        assert_eq!(property_key("true"), "true");
        assert_eq!(property_key("now.utc"), "\"now.utc\"");
        assert_eq!(path_step("id"), ".id");
        assert_eq!(path_step("now.utc"), "[\"now.utc\"]");
        assert!(!is_identifier_name("2d"));
        assert!(!is_identifier_name(""));
    }
}
