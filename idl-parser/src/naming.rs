//! How an IDL name becomes an identifier in each target language.
//!
//! Every backend calls [`target_name`] instead of converting names itself, so that the resolver can
//! reject two IDL names that would become the same identifier (`fooBar` and `foo_bar` are both
//! `foo_bar` in Rust) before any code is generated. The wire always carries the IDL name (or its
//! `@name`); only generated identifiers change.
//!
//! | kind      | Rust             | TypeScript       | Python           |
//! |-----------|------------------|------------------|------------------|
//! | package   | as written       | as written       | as written       |
//! | type      | UpperCamelCase   | UpperCamelCase   | UpperCamelCase   |
//! | variant   | UpperCamelCase   | UpperCamelCase   | UpperCamelCase   |
//! | field     | snake_case       | as written       | snake_case       |
//! | method    | snake_case       | lowerCamelCase   | snake_case       |
//! | parameter | snake_case       | lowerCamelCase   | snake_case       |
//!
//! TypeScript fields keep the IDL name because generated TypeScript objects are the wire maps
//! themselves. A converted name that is a keyword of the target is escaped: Rust uses a raw
//! identifier (`r#type`), or appends `_` where Rust has no raw form (`self_`); TypeScript and Python
//! append `_` (`class_`). Type names are never escaped: the resolver rejects the few that would need
//! it ([`is_reserved_type_name`]).

/// A language rpcgen generates code for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Target {
    /// Rust servers and clients.
    Rust,
    /// TypeScript clients.
    TypeScript,
    /// Python clients.
    Python,
}

impl Target {
    /// Every target, in the order messages list them.
    pub const ALL: [Target; 3] = [Target::Rust, Target::TypeScript, Target::Python];

    /// The language's name as users know it.
    pub fn label(self) -> &'static str {
        match self {
            Target::Rust => "Rust",
            Target::TypeScript => "TypeScript",
            Target::Python => "Python",
        }
    }
}

/// What an IDL name names, which decides its case in each target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NameKind {
    /// A package: a Rust module, a TypeScript file, a Python module.
    Package,
    /// A struct, enum, error or service.
    Type,
    /// An enum variant.
    Variant,
    /// A field of a struct, error or struct-like variant.
    Field,
    /// A service method.
    Method,
    /// A method parameter.
    Param,
}

/// `snake_case`: `TicketId` → `ticket_id`, `HTTPServer` → `http_server`.
pub fn snake_case(name: &str) -> String {
    heck::ToSnakeCase::to_snake_case(name)
}

/// `UpperCamelCase`: `ticket_id` → `TicketId`, `HTTPServer` → `HttpServer`.
pub fn upper_camel_case(name: &str) -> String {
    heck::ToUpperCamelCase::to_upper_camel_case(name)
}

/// `lowerCamelCase`: `ticket_id` → `ticketId`, `HTTPServer` → `httpServer`.
pub fn lower_camel_case(name: &str) -> String {
    heck::ToLowerCamelCase::to_lower_camel_case(name)
}

/// The identifier a backend for `target` generates for an IDL name of the given kind: the
/// conventional case (see the module docs), escaped when it is a keyword of the target.
pub fn target_name(target: Target, kind: NameKind, name: &str) -> String {
    let converted = match (target, kind) {
        // Kept as written: packages are checked to be valid everywhere, TypeScript fields are
        // property names (any string is allowed there), and type names are never escaped.
        (_, NameKind::Package) | (Target::TypeScript, NameKind::Field) => return name.to_string(),
        (_, NameKind::Type) => return upper_camel_case(name),
        (_, NameKind::Variant) => upper_camel_case(name),
        (Target::TypeScript, NameKind::Method | NameKind::Param) => lower_camel_case(name),
        (_, NameKind::Field | NameKind::Method | NameKind::Param) => snake_case(name),
    };
    if !is_keyword(target, &converted) {
        return converted;
    }
    match target {
        Target::Rust if !RUST_NOT_RAW.contains(&converted.as_str()) => format!("r#{converted}"),
        _ => format!("{converted}_"),
    }
}

/// Whether `word` is a keyword (or a reserved word) of the target language.
pub fn is_keyword(target: Target, word: &str) -> bool {
    let keywords: &[&str] = match target {
        Target::Rust => RUST_KEYWORDS,
        Target::TypeScript => TYPESCRIPT_KEYWORDS,
        Target::Python => PYTHON_KEYWORDS,
    };
    keywords.contains(&word)
}

/// Whether a type name, once in UpperCamelCase, is reserved in some target and cannot be escaped
/// there: `Self` in Rust, `None`, `True` and `False` in Python. Returns the target that reserves it.
pub fn is_reserved_type_name(name: &str) -> Option<Target> {
    match upper_camel_case(name).as_str() {
        "Self" => Some(Target::Rust),
        "None" | "True" | "False" => Some(Target::Python),
        _ => None,
    }
}

/// Whether `name` can name a package: lowercase snake_case (so it is a module name everywhere, as
/// written) and not a keyword of any target (module names cannot be escaped in Python imports).
pub fn is_valid_package_name(name: &str) -> bool {
    snake_case(name) == name && Target::ALL.iter().all(|&target| !is_keyword(target, name))
}

/// Rust keywords that have no raw-identifier form (`r#self` is not allowed).
const RUST_NOT_RAW: &[&str] = &["crate", "self", "Self", "super", "_"];

/// Strict and reserved keywords of Rust 2021/2024.
const RUST_KEYWORDS: &[&str] = &[
    "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "crate",
    "do", "dyn", "else", "enum", "extern", "false", "final", "fn", "for", "gen", "if", "impl",
    "in", "let", "loop", "macro", "match", "mod", "move", "mut", "override", "priv", "pub", "ref",
    "return", "self", "Self", "static", "struct", "super", "trait", "true", "try", "type",
    "typeof", "unsafe", "unsized", "use", "virtual", "where", "while", "yield",
];

/// Reserved words of TypeScript, strict-mode JavaScript, and names strict mode cannot bind.
const TYPESCRIPT_KEYWORDS: &[&str] = &[
    "arguments",
    "await",
    "break",
    "case",
    "catch",
    "class",
    "const",
    "continue",
    "debugger",
    "default",
    "delete",
    "do",
    "else",
    "enum",
    "eval",
    "export",
    "extends",
    "false",
    "finally",
    "for",
    "function",
    "if",
    "implements",
    "import",
    "in",
    "instanceof",
    "interface",
    "let",
    "new",
    "null",
    "package",
    "private",
    "protected",
    "public",
    "return",
    "static",
    "super",
    "switch",
    "this",
    "throw",
    "true",
    "try",
    "typeof",
    "var",
    "void",
    "while",
    "with",
    "yield",
];

/// Hard keywords of Python 3 (soft keywords such as `match` are valid identifiers).
const PYTHON_KEYWORDS: &[&str] = &[
    "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue",
    "def", "del", "elif", "else", "except", "finally", "for", "from", "global", "if", "import",
    "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while",
    "with", "yield",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_conversions() {
        assert_eq!(snake_case("TicketId"), "ticket_id");
        assert_eq!(snake_case("fooBar"), "foo_bar");
        assert_eq!(snake_case("foo_bar"), "foo_bar");
        assert_eq!(snake_case("HTTPServer"), "http_server");
        assert_eq!(upper_camel_case("ticket_id"), "TicketId");
        assert_eq!(upper_camel_case("Ticket"), "Ticket");
        assert_eq!(lower_camel_case("ticket_list"), "ticketList");
        assert_eq!(lower_camel_case("v2_api"), "v2Api");
    }

    #[test]
    fn names_follow_each_targets_convention() {
        let field = |target| target_name(target, NameKind::Field, "createdAt");
        assert_eq!(field(Target::Rust), "created_at");
        assert_eq!(field(Target::TypeScript), "createdAt");
        assert_eq!(field(Target::Python), "created_at");
        let method = |target| target_name(target, NameKind::Method, "list_open");
        assert_eq!(method(Target::Rust), "list_open");
        assert_eq!(method(Target::TypeScript), "listOpen");
        assert_eq!(method(Target::Python), "list_open");
        assert_eq!(
            target_name(Target::Python, NameKind::Type, "ticket"),
            "Ticket"
        );
        assert_eq!(target_name(Target::Rust, NameKind::Package, "shop"), "shop");
    }

    #[test]
    fn keywords_are_escaped() {
        assert_eq!(target_name(Target::Rust, NameKind::Field, "type"), "r#type");
        assert_eq!(target_name(Target::Rust, NameKind::Param, "self"), "self_");
        assert_eq!(
            target_name(Target::Python, NameKind::Field, "class"),
            "class_"
        );
        assert_eq!(
            target_name(Target::TypeScript, NameKind::Param, "delete"),
            "delete_"
        );
        assert_eq!(
            target_name(Target::TypeScript, NameKind::Field, "delete"),
            "delete"
        );
        assert_eq!(
            target_name(Target::Python, NameKind::Field, "match"),
            "match"
        );
    }

    #[test]
    fn reserved_type_and_package_names() {
        assert_eq!(is_reserved_type_name("Self"), Some(Target::Rust));
        assert_eq!(is_reserved_type_name("none"), Some(Target::Python));
        assert_eq!(is_reserved_type_name("Ticket"), None);
        assert!(is_valid_package_name("shop_v2"));
        assert!(!is_valid_package_name("Shop"));
        assert!(!is_valid_package_name("class"));
        assert!(!is_valid_package_name("mod"));
    }
}
