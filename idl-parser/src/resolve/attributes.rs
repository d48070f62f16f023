//! Attributes: `@name("wire")`, `@deprecated("why")` and `@timeout(30s)`, where each may appear and
//! what values they take.

use std::collections::HashMap;

use super::Resolver;
use crate::ast::{self, AttrValue, Decorations, Ident};
use crate::diagnostic::Diagnostic;
use crate::source::Span;
use crate::wording::{did_you_mean, list_words};

/// Every attribute, with the places it is allowed.
const ATTRIBUTES: [(&str, &[Place]); 3] = [
    ("name", &[Place::Method, Place::Field, Place::Variant]),
    (
        "deprecated",
        &[
            Place::Struct,
            Place::Enum,
            Place::Error,
            Place::Service,
            Place::Method,
            Place::Field,
            Place::Variant,
        ],
    ),
    ("timeout", &[Place::Service, Place::Method]),
];

/// What a set of attributes is written on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Place {
    Struct,
    Enum,
    Error,
    Service,
    Method,
    Field,
    Variant,
    Param,
}

impl Place {
    /// The place of an item's attributes.
    pub(super) fn of_item(kind: &ast::ItemKind) -> Place {
        match kind {
            ast::ItemKind::Struct(_) => Place::Struct,
            ast::ItemKind::Error(_) => Place::Error,
            ast::ItemKind::Enum(_) => Place::Enum,
            ast::ItemKind::Service(_) => Place::Service,
        }
    }

    fn noun(self) -> &'static str {
        match self {
            Place::Struct => "a struct",
            Place::Enum => "an enum",
            Place::Error => "an error",
            Place::Service => "a service",
            Place::Method => "a method",
            Place::Field => "a field",
            Place::Variant => "a variant",
            Place::Param => "a parameter",
        }
    }

    fn plural(self) -> &'static str {
        match self {
            Place::Struct => "structs",
            Place::Enum => "enums",
            Place::Error => "errors",
            Place::Service => "services",
            Place::Method => "methods",
            Place::Field => "fields",
            Place::Variant => "variants",
            Place::Param => "parameters",
        }
    }
}

/// The checked values of the attributes on one declaration.
#[derive(Debug, Default)]
pub(super) struct Attributes {
    /// `@name`: the wire name and where it is written.
    pub wire_name: Option<(String, Span)>,
    /// `@deprecated`: its text, empty without one.
    pub deprecated: Option<String>,
    /// `@timeout`, in milliseconds.
    pub timeout_ms: Option<u64>,
}

impl Attributes {
    /// The wire name and where it comes from: the `@name` value, else the declared name.
    pub fn wire_name_or(&self, name: &Ident) -> (String, Span) {
        self.wire_name
            .clone()
            .unwrap_or_else(|| (name.text.clone(), name.span))
    }
}

impl Resolver<'_> {
    /// Checks the attributes written on a declaration and returns their values.
    pub(super) fn attributes(
        &mut self,
        at: usize,
        decorations: &Decorations,
        place: Place,
    ) -> Attributes {
        let mut values = Attributes::default();
        let mut seen: HashMap<&str, Span> = HashMap::new();
        for attribute in &decorations.attributes {
            let name = attribute.name.text.as_str();
            let Some((_, places)) = ATTRIBUTES.iter().find(|(known, _)| *known == name) else {
                self.unknown_attribute(at, attribute);
                continue;
            };
            if !places.contains(&place) {
                self.misplaced_attribute(at, attribute, place, places);
                continue;
            }
            if let Some(first) = seen.insert(name, attribute.span) {
                self.error(
                    Diagnostic::error(format!("`@{name}` is given twice"))
                        .primary(self.file(at), attribute.span, "given again here")
                        .secondary(self.file(at), first, "first given here"),
                );
                continue;
            }
            match name {
                "name" => values.wire_name = self.wire_name_value(at, attribute),
                "deprecated" => values.deprecated = self.deprecated_value(at, attribute),
                _ => values.timeout_ms = self.timeout_value(at, attribute),
            }
        }
        values
    }

    fn unknown_attribute(&mut self, at: usize, attribute: &ast::Attribute) {
        let name = &attribute.name.text;
        let known = ATTRIBUTES.iter().map(|(known, _)| *known);
        let help = match did_you_mean(name, known) {
            Some(close) => format!("did you mean `@{close}`?"),
            None => "the attributes are `@name`, `@deprecated` and `@timeout`".to_string(),
        };
        self.error(
            Diagnostic::error(format!("unknown attribute `@{name}`"))
                .primary(
                    self.file(at),
                    attribute.name.span,
                    "not an rpcgen attribute",
                )
                .help(help),
        );
    }

    fn misplaced_attribute(
        &mut self,
        at: usize,
        attribute: &ast::Attribute,
        place: Place,
        places: &[Place],
    ) {
        let name = &attribute.name.text;
        let allowed: Vec<&str> = places.iter().map(|place| place.plural()).collect();
        self.error(
            Diagnostic::error(format!("`@{name}` cannot be used on {}", place.noun()))
                .primary(
                    self.file(at),
                    attribute.span,
                    format!("not allowed on {}", place.noun()),
                )
                .help(format!(
                    "`@{name}` is allowed on {}",
                    list_words(&allowed, "and")
                )),
        );
    }

    fn wire_name_value(&mut self, at: usize, attribute: &ast::Attribute) -> Option<(String, Span)> {
        match &attribute.value {
            Some(AttrValue::String(text)) if !text.value.is_empty() => {
                Some((text.value.clone(), text.span))
            }
            Some(AttrValue::String(text)) => {
                self.error(Diagnostic::error("a wire name cannot be empty").primary(
                    self.file(at),
                    text.span,
                    "empty name",
                ));
                None
            }
            _ => {
                self.error(
                    Diagnostic::error("`@name` needs the wire name as a string")
                        .primary(self.file(at), attribute.span, "expected `@name(\"…\")`")
                        .help("write it like `@name(\"list_tickets\")`"),
                );
                None
            }
        }
    }

    fn deprecated_value(&mut self, at: usize, attribute: &ast::Attribute) -> Option<String> {
        match &attribute.value {
            None => Some(String::new()),
            Some(AttrValue::String(text)) => Some(text.value.clone()),
            Some(other) => {
                self.error(
                    Diagnostic::error("`@deprecated` takes its reason as a string")
                        .primary(self.file(at), other.span(), "expected a string")
                        .help("write it like `@deprecated(\"use get instead\")`, or just `@deprecated`"),
                );
                Some(String::new())
            }
        }
    }

    fn timeout_value(&mut self, at: usize, attribute: &ast::Attribute) -> Option<u64> {
        let file = self.file(at);
        let Some(AttrValue::Duration(duration)) = &attribute.value else {
            self.error(
                Diagnostic::error("`@timeout` needs a duration")
                    .primary(file, attribute.span, "expected `@timeout(30s)`")
                    .help("write a whole number with a unit: `500ms`, `30s` or `2m`"),
            );
            return None;
        };
        match parse_duration_ms(&duration.text) {
            Ok(milliseconds) => Some(milliseconds),
            Err(problem) => {
                let (message, help) = match problem {
                    DurationError::MissingUnit => (
                        format!("`{}` has no unit", duration.text),
                        format!("write `{0}ms`, `{0}s` or `{0}m`", duration.text),
                    ),
                    DurationError::UnknownUnit(unit) => (
                        format!("unknown time unit `{unit}`"),
                        "the units are `ms` (milliseconds), `s` (seconds) and `m` (minutes)"
                            .to_string(),
                    ),
                    DurationError::Zero => (
                        "a timeout must be longer than zero".to_string(),
                        "to keep the client's default timeout, remove `@timeout`".to_string(),
                    ),
                    DurationError::TooLong => (
                        format!(
                            "a timeout can be at most {}s (about 24.8 days)",
                            MAX_TIMEOUT_MS / 1_000
                        ),
                        "the TypeScript client waits with a Node timer, which cannot wait longer; \
                         every call would fail"
                            .to_string(),
                    ),
                };
                self.error(
                    Diagnostic::error(message)
                        .primary(file, duration.span, "invalid duration")
                        .help(help),
                );
                None
            }
        }
    }
}

/// The longest `@timeout`, in milliseconds: 2,147,483 seconds, the longest a Node timer (which
/// the TypeScript client waits with) can wait.
const MAX_TIMEOUT_MS: u64 = 2_147_483_000;

/// Why a duration is invalid.
#[derive(Debug, PartialEq, Eq)]
enum DurationError {
    MissingUnit,
    UnknownUnit(String),
    Zero,
    TooLong,
}

/// Parses `500ms`, `30s` or `2m` into milliseconds, at most [`MAX_TIMEOUT_MS`].
fn parse_duration_ms(text: &str) -> Result<u64, DurationError> {
    let digits_end = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(digits_end);
    let unit_ms = match unit {
        "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        "" => return Err(DurationError::MissingUnit),
        other => return Err(DurationError::UnknownUnit(other.to_string())),
    };
    let count: u64 = digits.parse().map_err(|_| DurationError::TooLong)?;
    if count == 0 {
        return Err(DurationError::Zero);
    }
    count
        .checked_mul(unit_ms)
        .filter(|milliseconds| *milliseconds <= MAX_TIMEOUT_MS)
        .ok_or(DurationError::TooLong)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_in_milliseconds() {
        assert_eq!(parse_duration_ms("500ms"), Ok(500));
        assert_eq!(parse_duration_ms("30s"), Ok(30_000));
        assert_eq!(parse_duration_ms("2m"), Ok(120_000));
        assert_eq!(parse_duration_ms("30"), Err(DurationError::MissingUnit));
        assert_eq!(
            parse_duration_ms("3h"),
            Err(DurationError::UnknownUnit("h".into()))
        );
        assert_eq!(parse_duration_ms("0s"), Err(DurationError::Zero));
        assert_eq!(
            parse_duration_ms("99999999999999999999s"),
            Err(DurationError::TooLong)
        );
        assert_eq!(parse_duration_ms("2147483s"), Ok(MAX_TIMEOUT_MS));
        assert_eq!(
            parse_duration_ms("2147483001ms"),
            Err(DurationError::TooLong)
        );
        assert_eq!(parse_duration_ms("40000m"), Err(DurationError::TooLong));
        assert_eq!(
            parse_duration_ms("18446744073709551615m"),
            Err(DurationError::TooLong)
        );
    }
}
