//! Rust identifiers: the ones IDL names become (through [`rpcgen_idl::naming`], which also escapes
//! keywords), and the ones the backend invents for each service.

use proc_macro2::{Ident, Span};
use rpcgen_idl::naming::{target_name, NameKind, Target};

/// The identifier for an IDL name of the given kind (`r#type` stays a raw identifier).
pub(super) fn ident(kind: NameKind, name: &str) -> Ident {
    raw_or_plain(&target_name(Target::Rust, kind, name))
}

/// The Rust name of a user type or a service, as text.
pub(super) fn type_name(name: &str) -> String {
    target_name(Target::Rust, NameKind::Type, name)
}

/// An identifier from text the backend made up (always a valid, non-keyword identifier).
pub(super) fn made_up(text: &str) -> Ident {
    Ident::new(text, Span::call_site())
}

/// The text a Rust identifier stands for: `r#type` names the field `type` (serde does the same).
pub(super) fn unraw(identifier: &str) -> &str {
    identifier.strip_prefix("r#").unwrap_or(identifier)
}

fn raw_or_plain(text: &str) -> Ident {
    match text.strip_prefix("r#") {
        Some(raw) => Ident::new_raw(raw, Span::call_site()),
        None => Ident::new(text, Span::call_site()),
    }
}

/// The names the backend generates for one service.
pub(super) struct ServiceNames {
    /// The trait a server implements: the service's name (`Tickets`).
    pub trait_name: String,
    /// The typed client (`TicketsClient`).
    pub client: String,
    /// The function that turns an implementation into a runtime service (`tickets_service`).
    pub service_fn: String,
}

impl ServiceNames {
    /// The names for the service called `name` in the IDL.
    pub(super) fn new(name: &str) -> Self {
        let trait_name = type_name(name);
        let snake = rpcgen_idl::naming::snake_case(name);
        Self {
            client: format!("{trait_name}Client"),
            service_fn: format!("{snake}_service"),
            trait_name,
        }
    }

    /// The typed error enum of a method that declares `throws` (`TicketsGetError`).
    pub(super) fn error_enum(&self, method: &str) -> String {
        format!("{}{}Error", self.trait_name, type_name(method))
    }
}

/// The methods every generated client has besides the IDL's; an IDL method may not take these
/// names.
pub(super) const CLIENT_METHODS: [&str; 4] =
    ["connect", "from_client", "runtime_client", "with_timeout"];

/// The variant of every typed error enum that holds the other ways a call can fail.
pub(super) const CALL_VARIANT: &str = "Call";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_become_raw_identifiers_or_get_a_suffix() {
        assert_eq!(ident(NameKind::Field, "type").to_string(), "r#type");
        assert_eq!(ident(NameKind::Param, "self").to_string(), "self_");
        assert_eq!(ident(NameKind::Method, "listOpen").to_string(), "list_open");
        assert_eq!(unraw("r#type"), "type");
        assert_eq!(unraw("self_"), "self_");
    }

    #[test]
    fn service_names_follow_rust_conventions() {
        let names = ServiceNames::new("TicketDesk");
        assert_eq!(names.trait_name, "TicketDesk");
        assert_eq!(names.client, "TicketDeskClient");
        assert_eq!(names.service_fn, "ticket_desk_service");
        assert_eq!(names.error_enum("get_ticket"), "TicketDeskGetTicketError");
    }
}
