//! Name rules: duplicates, names that collide once converted for a target language, wire names,
//! and the names packages and types may not take.

use std::collections::{BTreeSet, HashMap};

use super::Resolver;
use crate::ast::Ident;
use crate::diagnostic::Diagnostic;
use crate::ir::SCALARS;
use crate::naming::{self, NameKind, Target};
use crate::source::Span;
use crate::wording::list_words;

/// Built-in type names that are not scalars.
const GENERIC_TYPES: [&str; 3] = ["list", "map", "stream"];

/// Method wire names zerorpc uses for itself (heartbeats, flow control, introspection).
const RESERVED_WIRE_PREFIXES: [&str; 2] = ["_zpc_", "_zerorpc_"];

impl Resolver<'_> {
    /// Package names are module names in every target, as written.
    pub(super) fn check_package_name(&mut self, at: usize, name: &Ident) {
        if naming::is_valid_package_name(&name.text) {
            return;
        }
        let keyword_in: Vec<&str> = Target::ALL
            .into_iter()
            .filter(|&target| naming::is_keyword(target, &name.text))
            .map(Target::label)
            .collect();
        let diagnostic = if keyword_in.is_empty() {
            let suggestion = naming::snake_case(&name.text);
            Diagnostic::error(format!("invalid package name `{}`", name.text))
                .primary(self.file(at), name.span, "not a lowercase snake_case name")
                .help(format!(
                    "package names are module names in every target, written in snake_case: try `{suggestion}`"
                ))
        } else {
            Diagnostic::error(format!("`{}` cannot be a package name", name.text))
                .primary(self.file(at), name.span, format!("a keyword in {}", list_words(&keyword_in, "and")))
                .help("package names are module names, and Python cannot import a module named after a keyword; choose another name")
        };
        self.error(diagnostic);
    }

    /// A type or service name must not be a built-in type or a name a target reserves.
    pub(super) fn check_type_name(&mut self, at: usize, name: &Ident) {
        let text = name.text.as_str();
        let builtin =
            SCALARS.iter().any(|(scalar, _)| *scalar == text) || GENERIC_TYPES.contains(&text);
        if builtin {
            self.error(
                Diagnostic::error(format!("`{text}` is a built-in type"))
                    .primary(self.file(at), name.span, "cannot be declared again")
                    .help("choose another name"),
            );
        } else if let Some(target) = naming::is_reserved_type_name(text) {
            let converted = naming::upper_camel_case(text);
            self.error(
                Diagnostic::error(format!("`{text}` cannot be a type name"))
                    .primary(self.file(at), name.span, format!("`{converted}` is reserved in {}", target.label()))
                    .help(format!(
                        "type names become `{converted}` in generated code, and {} has no way to escape it; choose another name",
                        target.label()
                    )),
            );
        }
    }

    /// Reports names declared twice, and distinct names that become the same identifier in a
    /// target language (`fooBar` and `foo_bar` are both `foo_bar` in Rust).
    pub(super) fn check_names<'n>(
        &mut self,
        at: usize,
        kind: NameKind,
        what: &str,
        names: impl Iterator<Item = &'n Ident>,
    ) {
        let file = self.file(at);
        let mut first_by_text: HashMap<&str, &Ident> = HashMap::new();
        let mut distinct = Vec::new();
        for name in names {
            match first_by_text.get(name.text.as_str()) {
                Some(first) => self.error(
                    Diagnostic::error(format!("the {what} `{}` is declared twice", name.text))
                        .primary(file, name.span, "declared again here")
                        .secondary(file, first.span, "first declared here"),
                ),
                None => {
                    first_by_text.insert(&name.text, name);
                    distinct.push(name);
                }
            }
        }
        let mut colliding: BTreeSet<(usize, usize)> = BTreeSet::new();
        for target in Target::ALL {
            let mut first_by_identifier: HashMap<String, usize> = HashMap::new();
            for (index, name) in distinct.iter().enumerate() {
                let identifier = naming::target_name(target, kind, &name.text);
                match first_by_identifier.get(&identifier) {
                    Some(&first) => {
                        colliding.insert((first, index));
                    }
                    None => {
                        first_by_identifier.insert(identifier, index);
                    }
                }
            }
        }
        for (first, second) in colliding {
            let (earlier, name) = (distinct[first], distinct[second]);
            self.error(
                Diagnostic::error(format!(
                    "{what}s `{}` and `{}` both become {}",
                    earlier.text,
                    name.text,
                    collision(kind, earlier, name)
                ))
                .primary(file, name.span, "this name")
                .secondary(file, earlier.span, "collides with this one")
                .help("rename one of them: generated code needs a distinct identifier for each"),
            );
        }
    }

    /// Reports members whose wire names are equal although their declared names differ (equal
    /// declared names are already reported as duplicates).
    pub(super) fn check_wire_names(
        &mut self,
        at: usize,
        what: &str,
        members: &[(String, Ident, Span)],
    ) {
        let file = self.file(at);
        let mut first_by_wire_name: HashMap<&str, &(String, Ident, Span)> = HashMap::new();
        for member in members {
            let (wire_name, name, span) = member;
            let Some((_, other, other_span)) = first_by_wire_name.get(wire_name.as_str()).copied()
            else {
                first_by_wire_name.insert(wire_name, member);
                continue;
            };
            if other.text == name.text {
                continue;
            }
            let consequence = if what == "method" {
                "a call names its method by this name, so one of them could never be called"
            } else {
                "both would be sent under the same name"
            };
            self.error(
                Diagnostic::error(format!(
                    "{what}s `{}` and `{}` have the same wire name `{wire_name}`",
                    other.text, name.text
                ))
                .primary(
                    file,
                    *span,
                    format!("`{}` is sent as `{wire_name}`", name.text),
                )
                .secondary(
                    file,
                    *other_span,
                    format!("`{}` is sent as `{wire_name}` too", other.text),
                )
                .note(consequence)
                .help("give one of them another name, or another `@name`"),
            );
        }
    }

    /// Method wire names may not be ones zerorpc uses for itself.
    pub(super) fn check_method_wire_name(&mut self, at: usize, wire_name: &str, span: Span) {
        if let Some(prefix) = RESERVED_WIRE_PREFIXES
            .iter()
            .find(|prefix| wire_name.starts_with(*prefix))
        {
            self.error(
                Diagnostic::error(format!("the wire name `{wire_name}` is reserved by zerorpc"))
                    .primary(self.file(at), span, format!("starts with `{prefix}`"))
                    .note("zerorpc uses `_zpc_…` events for heartbeats and flow control, and `_zerorpc_…` methods for introspection")
                    .help("choose another wire name"),
            );
        }
    }
}

/// The identifiers two names share, with the targets: "`foo_bar` in Rust and Python".
fn collision(kind: NameKind, first: &Ident, second: &Ident) -> String {
    let mut by_identifier: Vec<(String, Vec<&str>)> = Vec::new();
    for target in Target::ALL {
        let identifier = naming::target_name(target, kind, &first.text);
        if identifier != naming::target_name(target, kind, &second.text) {
            continue;
        }
        match by_identifier
            .iter_mut()
            .find(|(known, _)| *known == identifier)
        {
            Some((_, targets)) => targets.push(target.label()),
            None => by_identifier.push((identifier, vec![target.label()])),
        }
    }
    let parts: Vec<String> = by_identifier
        .iter()
        .map(|(identifier, targets)| format!("`{identifier}` in {}", list_words(targets, "and")))
        .collect();
    let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
    list_words(&parts, "and")
}
