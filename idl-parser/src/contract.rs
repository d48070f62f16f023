//! The contract of one service: the part of a schema its callers need.
//!
//! [`service_contract`] cuts a compiled [`Schema`] down to one service and the user types it
//! reaches (through parameters, results, `throws` and, transitively, fields and variants), in
//! the packages that declare them. Generated servers carry their contract, printed as `.rpc`
//! files, so that `_zerorpc_inspect` can hand it to `rpcgen pull`; other services of the package,
//! and types the service never mentions, stay private.

use std::collections::BTreeSet;

use crate::ir::{Package, Schema, Service, Type, TypeName};

/// The schema of one service of `package`: that service, the types it reaches and the packages
/// declaring them, each package importing only the ones it still refers to. The service's package
/// is the one root package. `None` when there is no such package or service.
pub fn service_contract(schema: &Schema, package: &str, service: &str) -> Option<Schema> {
    let service = schema
        .package(package)?
        .services
        .iter()
        .find(|candidate| candidate.name == service)?;
    let reached = reached_types(schema, service);
    let packages = schema
        .packages
        .iter()
        .filter_map(|original| {
            let is_home = original.name == package;
            let types: Vec<_> = original
                .named_types()
                .filter(|(name, _)| reached.contains(name))
                .map(|(_, def)| def.clone())
                .collect();
            let services = if is_home {
                vec![service.clone()]
            } else {
                Vec::new()
            };
            if types.is_empty() && services.is_empty() {
                return None;
            }
            let mut cut = Package {
                name: original.name.clone(),
                root: is_home,
                docs: original.docs.clone(),
                imports: Vec::new(),
                types,
                services,
            };
            let referred = cut.referenced_packages();
            cut.imports = original
                .imports
                .iter()
                .filter(|import| referred.contains(*import))
                .cloned()
                .collect();
            Some(cut)
        })
        .collect();
    Some(Schema { packages })
}

/// Every user type `service` reaches, directly or through other types.
fn reached_types(schema: &Schema, service: &Service) -> BTreeSet<TypeName> {
    let mut pending = Vec::new();
    for method in &service.methods {
        method.for_each_named(&mut |name| pending.push(name.clone()));
    }
    let mut reached = BTreeSet::new();
    while let Some(name) = pending.pop() {
        if !reached.insert(name.clone()) {
            continue;
        }
        if let Some(def) = schema.type_def(&name) {
            def.member_types()
                .into_iter()
                .for_each(|ty: &Type| ty.for_each_named(&mut |inner| pending.push(inner.clone())));
        }
    }
    reached
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Compiler, MemoryLoader};

    fn schema() -> Schema {
        let loader = MemoryLoader::new()
            .with_file(
                "common.rpc",
                "/// Shared types.
                 package common;
                 struct Money { cents: i64 }
                 struct Unused { x: u8 }",
            )
            .with_file("audit.rpc", "package audit; struct Entry { who: string }")
            .with_file(
                "shop.rpc",
                "package shop;
                 import \"common.rpc\";
                 import \"audit.rpc\";
                 struct Price { amount: common.Money }
                 enum Item { Book { price: Price }, Tree(Node) }
                 struct Node { children: list<Node> }
                 error NotFound { id: u64 }
                 struct Private { log: audit.Entry }
                 /// Sells things.
                 service Shop { buy(item: Item?) -> map<string, Price> throws NotFound; }
                 service Admin { audit() -> Private; }",
            );
        Compiler::with_loader(loader)
            .compile(&["shop.rpc"])
            .unwrap_or_else(|errors| panic!("{errors}"))
    }

    fn type_names(package: &Package) -> Vec<&str> {
        package.types.iter().map(|def| def.name.as_str()).collect()
    }

    #[test]
    fn keeps_the_service_and_what_it_reaches_through_other_types() {
        let contract = service_contract(&schema(), "shop", "Shop").unwrap();
        let packages: Vec<&str> = contract.packages.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(packages, ["common", "shop"]);
        let [common, shop] = &contract.packages[..] else {
            unreachable!()
        };
        assert_eq!(type_names(common), ["Money"]);
        assert_eq!(common.docs, ["Shared types."]);
        assert!(!common.root);
        assert_eq!(type_names(shop), ["Price", "Item", "Node", "NotFound"]);
        assert_eq!(shop.imports, ["common"]);
        assert!(shop.root);
        let services: Vec<&str> = shop.services.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(services, ["Shop"]);
    }

    #[test]
    fn another_service_of_the_package_has_its_own_contract() {
        let contract = service_contract(&schema(), "shop", "Admin").unwrap();
        let packages: Vec<(&str, Vec<&str>, &[String])> = contract
            .packages
            .iter()
            .map(|p| (p.name.as_str(), type_names(p), &p.imports[..]))
            .collect();
        assert_eq!(
            packages,
            [
                ("audit", vec!["Entry"], &[][..]),
                ("shop", vec!["Private"], &["audit".to_string()][..])
            ]
        );
    }

    #[test]
    fn an_unknown_service_or_package_has_none() {
        assert!(service_contract(&schema(), "shop", "Nope").is_none());
        assert!(service_contract(&schema(), "nope", "Shop").is_none());
    }
}
