//! Python names: the identifiers of generated items, and the rules that keep them from clashing.
//!
//! Case conversion and keyword escaping come from [`rpcgen_idl::naming`]. On top of that, a name
//! that the generated class itself already uses gets a trailing `_` too, the same way a keyword
//! does: a method `close` becomes `close_` on a client (whose `close()` releases it), a parameter
//! `timeout` becomes `timeout_` (every method takes a `timeout` keyword), an error field
//! `message` becomes `message_` (errors inherit `message` from `RemoteError`). These escapes cannot
//! make two members alike: the resolver rejects two names of one scope with the same converted
//! name, and a converted name never ends with `_` unless it is an escaped keyword (`x_` is
//! converted to `x`), while none of the names escaped here is a keyword. Private names (aliases and
//! constants, starting with `_`) never clash with IDL names, which cannot start with `_`;
//! [`PrivateNames`] keeps them unique within a module.

use std::collections::BTreeSet;

use rpcgen_idl::naming::{self, NameKind, Target};

/// Members of every generated struct and variant class besides its fields.
pub const VALUE_MEMBERS: &[&str] = &["to_wire", "from_wire"];

/// Names an error's fields cannot take: the parameters of its `__init__` and what it inherits
/// from `RemoteError` and `Exception`.
pub const ERROR_MEMBERS: &[&str] = &[
    "self",
    "name",
    "message",
    "traceback",
    "args",
    "with_traceback",
    "add_note",
    "from_remote",
];

/// Members of every generated client besides its methods.
pub const CLIENT_MEMBERS: &[&str] = &["close", "endpoint"];

/// Names a method's parameters cannot take: `self`, and the keyword every method has.
pub const PARAM_NAMES: &[&str] = &["self", "timeout"];

/// Built-in names that generated class bodies use. A member with one of these names hides the
/// built-in inside its class (for mypy), so such a class writes it `_builtins.<name>`.
pub const BUILTINS_USED: &[&str] = &[
    "bool",
    "bytes",
    "dict",
    "float",
    "int",
    "list",
    "object",
    "property",
    "staticmethod",
    "str",
];

/// The Python name of an IDL name of the given kind, escaped with a trailing `_` when it is a
/// keyword or one of `taken` (the names the enclosing generated class or function already uses).
pub fn member_name(kind: NameKind, name: &str, taken: &[&str]) -> String {
    let converted = naming::target_name(Target::Python, kind, name);
    if taken.contains(&converted.as_str()) {
        format!("{converted}_")
    } else {
        converted
    }
}

/// The Python class name of a struct, enum, error or service.
pub fn type_name(name: &str) -> String {
    naming::target_name(Target::Python, NameKind::Type, name)
}

/// The class of one variant of an enum with data: `ShapeCircle` for `Shape.Circle`.
pub fn variant_class_name(enum_name: &str, variant: &str) -> String {
    format!(
        "{}{}",
        type_name(enum_name),
        naming::upper_camel_case(variant)
    )
}

/// The function that reads an enum with data from its wire form: `shape_from_wire`.
pub fn variant_decoder_name(enum_name: &str) -> String {
    format!("{}_from_wire", naming::snake_case(enum_name))
}

/// The blocking client class of a service: `TicketsClient`.
pub fn client_name(service: &str) -> String {
    format!("{}Client", type_name(service))
}

/// The asyncio client class of a service: `AsyncTicketsClient`.
pub fn async_client_name(service: &str) -> String {
    format!("Async{}Client", type_name(service))
}

/// `UPPER_SNAKE_CASE` of a name, for constants.
pub fn upper_snake(name: &str) -> String {
    naming::snake_case(name).to_uppercase()
}

/// The private module-level names of one generated module, each unique: a name already taken
/// gets a numeric suffix (`_LIST_STR_2`).
#[derive(Debug, Default)]
pub struct PrivateNames {
    taken: BTreeSet<String>,
}

impl PrivateNames {
    /// Claims `_<base>`, or the first free `_<base>_<n>`.
    pub fn claim(&mut self, base: &str) -> String {
        let first = format!("_{base}");
        let mut name = first.clone();
        let mut suffix = 2;
        while !self.taken.insert(name.clone()) {
            name = format!("{first}_{suffix}");
            suffix += 1;
        }
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_escape_keywords_and_taken_names() {
        assert_eq!(member_name(NameKind::Field, "createdAt", &[]), "created_at");
        assert_eq!(member_name(NameKind::Field, "class", &[]), "class_");
        assert_eq!(
            member_name(NameKind::Method, "close", CLIENT_MEMBERS),
            "close_"
        );
        assert_eq!(
            member_name(NameKind::Param, "timeout", PARAM_NAMES),
            "timeout_"
        );
        assert_eq!(
            member_name(NameKind::Field, "message", ERROR_MEMBERS),
            "message_"
        );
        assert_eq!(
            member_name(NameKind::Field, "message", VALUE_MEMBERS),
            "message"
        );
    }

    #[test]
    fn derived_class_and_function_names() {
        assert_eq!(variant_class_name("Shape", "circle"), "ShapeCircle");
        assert_eq!(variant_class_name("Flow", "None"), "FlowNone");
        assert_eq!(variant_decoder_name("HttpEvent"), "http_event_from_wire");
        assert_eq!(client_name("tickets"), "TicketsClient");
        assert_eq!(async_client_name("Tickets"), "AsyncTicketsClient");
        assert_eq!(upper_snake("AllScalars"), "ALL_SCALARS");
    }

    #[test]
    fn private_names_are_unique() {
        let mut names = PrivateNames::default();
        assert_eq!(names.claim("LIST_STR"), "_LIST_STR");
        assert_eq!(names.claim("LIST_STR"), "_LIST_STR_2");
        assert_eq!(names.claim("LIST_STR"), "_LIST_STR_3");
        assert_eq!(names.claim("rt"), "_rt");
    }
}
