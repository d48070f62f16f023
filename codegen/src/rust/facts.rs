//! What the Rust backend must know about the schema as a whole before it writes any type: which
//! types can derive `Eq`, and `Hash` and `Ord`, which enums carry no data, and which references
//! must be boxed because a type contains itself.

use std::collections::{HashMap, HashSet};

use rpcgen_idl::ir::{Schema, Type, TypeDef, TypeKind, TypeName, VariantData};

use super::MapType;

/// Facts about every user type of a schema, computed once for the chosen map type.
pub(super) struct SchemaFacts<'a> {
    definitions: HashMap<TypeName, &'a TypeDef>,
    map_type: MapType,
    /// Types whose values have a total equality: no float or `any` anywhere inside.
    equatable: HashSet<TypeName>,
    /// Equatable types that are also hashable and totally ordered: with `HashMap` for maps, no map
    /// anywhere inside either.
    total: HashSet<TypeName>,
}

impl<'a> SchemaFacts<'a> {
    /// Analyses every type of every package, for maps generated as `map_type`.
    pub(super) fn new(schema: &'a Schema, map_type: MapType) -> Self {
        let definitions: HashMap<TypeName, &TypeDef> = schema.named_types().collect();
        let equatable = closed_types(&definitions, |ty| {
            !matches!(ty, Type::F32 | Type::F64 | Type::Any)
        });
        let total = closed_types(&definitions, |ty| match ty {
            Type::F32 | Type::F64 | Type::Any => false,
            Type::Map { .. } => map_type == MapType::BTreeMap,
            _ => true,
        });
        Self {
            definitions,
            map_type,
            equatable,
            total,
        }
    }

    /// The Rust type of `map<K, V>`.
    pub(super) fn map_type(&self) -> MapType {
        self.map_type
    }

    /// Whether values of the type can derive `Eq`.
    pub(super) fn is_equatable(&self, name: &TypeName) -> bool {
        self.equatable.contains(name)
    }

    /// Whether values of the type can derive `Eq`, `Hash`, `PartialOrd` and `Ord`.
    pub(super) fn is_total(&self, name: &TypeName) -> bool {
        self.total.contains(name)
    }

    /// Whether a type is an enum whose variants carry no data (a string on the wire, `Copy` in
    /// Rust, usable as a map key).
    pub(super) fn is_unit_enum(&self, name: &TypeName) -> bool {
        self.definitions.get(name).is_some_and(|def| {
            matches!(&def.kind, TypeKind::Enum { variants }
                if variants.iter().all(|variant| variant.data == VariantData::Unit))
        })
    }

    /// Whether a value of `container` holding `target` inline (not behind a list or a map) must
    /// box it: that is when `target` contains `container` inline again, so that without a box
    /// the Rust type would have an infinite size.
    pub(super) fn needs_box(&self, container: &TypeName, target: &TypeName) -> bool {
        let mut seen: HashSet<&TypeName> = HashSet::new();
        let mut pending = vec![target];
        while let Some(name) = pending.pop() {
            if name == container {
                return true;
            }
            if !seen.insert(name) {
                continue;
            }
            if let Some(def) = self.definitions.get(name) {
                pending.extend(inline_references(def));
            }
        }
        false
    }
}

/// Every type a definition contains.
fn member_types(def: &TypeDef) -> Vec<&Type> {
    match &def.kind {
        TypeKind::Struct { fields } | TypeKind::Error { fields } => {
            fields.iter().map(|field| &field.ty).collect()
        }
        TypeKind::Enum { variants } => variants
            .iter()
            .flat_map(|variant| match &variant.data {
                VariantData::Unit => Vec::new(),
                VariantData::Tuple { items } => items.iter().collect(),
                VariantData::Struct { fields } => fields.iter().map(|field| &field.ty).collect(),
            })
            .collect(),
    }
}

/// The user types a definition holds inline: directly or through `?`, not through a list or a map.
fn inline_references(def: &TypeDef) -> impl Iterator<Item = &TypeName> {
    member_types(def).into_iter().filter_map(inline_reference)
}

/// The user type a member holds inline, if any.
fn inline_reference(ty: &Type) -> Option<&TypeName> {
    match ty {
        Type::Named(name) => Some(name),
        Type::Optional(inner) => inline_reference(inner),
        _ => None,
    }
}

/// The types with no member type that `allowed` refuses, at any depth, found by removing
/// offenders until nothing changes (a recursive type stays in unless something in its cycle is
/// refused). `allowed` sees every type inside a member: containers, then what they hold.
fn closed_types(
    definitions: &HashMap<TypeName, &TypeDef>,
    allowed: impl Fn(&Type) -> bool,
) -> HashSet<TypeName> {
    let mut kept: HashSet<TypeName> = definitions.keys().cloned().collect();
    loop {
        let offenders: Vec<TypeName> = kept
            .iter()
            .filter(|name| {
                member_types(definitions[*name])
                    .into_iter()
                    .any(|ty| !is_allowed(ty, &kept, &allowed))
            })
            .cloned()
            .collect();
        if offenders.is_empty() {
            return kept;
        }
        for name in &offenders {
            kept.remove(name);
        }
    }
}

fn is_allowed(ty: &Type, kept: &HashSet<TypeName>, allowed: &impl Fn(&Type) -> bool) -> bool {
    allowed(ty)
        && match ty {
            Type::List(inner) | Type::Optional(inner) => is_allowed(inner, kept, allowed),
            Type::Map { key, value } => {
                is_allowed(key, kept, allowed) && is_allowed(value, kept, allowed)
            }
            Type::Named(name) => kept.contains(name),
            _ => true,
        }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rust::tests::schema_of;

    fn name(text: &str) -> TypeName {
        TypeName {
            package: "demo".to_string(),
            name: text.to_string(),
        }
    }

    #[test]
    fn floats_and_any_prevent_total_order_through_every_container() {
        let schema = schema_of(
            "package demo;
             struct Plain { id: u64, tags: list<string>, by: map<string, Level> }
             enum Level { Low, High }
             struct Measured { value: f64 }
             struct Wrapped { inner: list<Measured?> }
             struct Loose { extra: map<string, any> }
             enum Shape { Dot, Circle(f64) }",
        );
        let facts = SchemaFacts::new(&schema, MapType::BTreeMap);
        for total in ["Plain", "Level"] {
            assert!(facts.is_total(&name(total)), "{total}");
        }
        for partial in ["Measured", "Wrapped", "Loose", "Shape"] {
            assert!(!facts.is_total(&name(partial)), "{partial}");
        }
        assert!(facts.is_unit_enum(&name("Level")));
        assert!(!facts.is_unit_enum(&name("Shape")));
        assert!(!facts.is_unit_enum(&name("Plain")));
    }

    #[test]
    fn with_hash_maps_types_holding_a_map_keep_eq_but_lose_hash_and_ord() {
        let schema = schema_of(
            "package demo;
             struct Plain { id: u64, tags: list<string> }
             struct Indexed { by: map<string, u64> }
             struct Outer { inner: list<Indexed?> }
             struct Loose { extra: map<string, any> }",
        );
        let facts = SchemaFacts::new(&schema, MapType::HashMap);
        assert!(facts.is_total(&name("Plain")));
        for keyed in ["Indexed", "Outer"] {
            assert!(facts.is_equatable(&name(keyed)), "{keyed}");
            assert!(!facts.is_total(&name(keyed)), "{keyed}");
        }
        assert!(!facts.is_equatable(&name("Loose")));
        let ordered = SchemaFacts::new(&schema, MapType::BTreeMap);
        assert!(ordered.is_total(&name("Outer")));
    }

    #[test]
    fn only_inline_cycles_need_boxes() {
        let schema = schema_of(
            "package demo;
             struct Cell { next: Cell?, value: i64 }
             struct Node { children: list<Node> }
             enum Expr { Literal(i64), Negate(Expr), Call { args: list<Expr> } }
             struct Directory { entries: map<string, Entry> }
             enum Entry { File(u64), Folder(Directory) }
             struct Ping { pong: Pong? }
             struct Pong { ping: Ping? }
             struct Holder { cell: Cell }",
        );
        let facts = SchemaFacts::new(&schema, MapType::BTreeMap);
        assert!(facts.needs_box(&name("Cell"), &name("Cell")));
        assert!(facts.needs_box(&name("Expr"), &name("Expr")));
        assert!(facts.needs_box(&name("Ping"), &name("Pong")));
        assert!(facts.needs_box(&name("Pong"), &name("Ping")));
        assert!(!facts.needs_box(&name("Entry"), &name("Directory")));
        assert!(!facts.needs_box(&name("Holder"), &name("Cell")));
        assert!(facts.is_total(&name("Cell")));
    }
}
