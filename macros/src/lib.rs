//! `#[rpcgen::service]`, `#[rpcgen::data]` and `#[rpcgen::error]`: an rpcgen service written as
//! a Rust trait instead of an `.rpc` file.
//!
//! ```ignore
//! #[rpcgen::data]
//! pub struct Ticket { pub id: u64, pub title: String }
//!
//! #[rpcgen::error]
//! pub struct NotFound { pub id: u64 }
//!
//! #[rpcgen::service]
//! pub trait Tickets {
//!     async fn get(&self, id: u64) -> Result<Ticket, NotFound>;
//! }
//! ```
//!
//! Each macro lowers its item with the Rust front end of `rpcgen-idl` (reading the rest of the
//! source file, so that it knows the types the item uses) to the same IR an `.rpc` file gives, runs
//! rpcgen's Rust backend on it, and replaces the item with the backend's code for it: a type
//! becomes the generated type (derives, serde attributes), a trait becomes the generated server
//! trait, error enums, service function and typed client. docs/trait-first.md is the guide.

mod expand;

use proc_macro::TokenStream;

/// Turns a trait into an rpcgen service: the server trait to implement, the typed error enums,
/// `<name>_service` and `<Name>Client`, as if generated from the equivalent `.rpc` service.
///
/// Options: `package = "name"` (the package for `rpcgen extract`), `timeout = "30s"` (the
/// default call timeout of every method).
#[proc_macro_attribute]
pub fn service(options: TokenStream, item: TokenStream) -> TokenStream {
    expand::expand(
        expand::Kind::Service,
        options.into(),
        item.into(),
        source_file(),
    )
    .into()
}

/// Turns a struct or an enum into an rpcgen value type, as if generated from the equivalent
/// `.rpc` `struct` or `enum`.
#[proc_macro_attribute]
pub fn data(options: TokenStream, item: TokenStream) -> TokenStream {
    expand::expand(
        expand::Kind::Data,
        options.into(),
        item.into(),
        source_file(),
    )
    .into()
}

/// Turns a struct into an rpcgen error type, as if generated from the equivalent `.rpc` `error`.
#[proc_macro_attribute]
pub fn error(options: TokenStream, item: TokenStream) -> TokenStream {
    expand::expand(
        expand::Kind::Error,
        options.into(),
        item.into(),
        source_file(),
    )
    .into()
}

/// The file the macro call is in, when the compiler knows it on disk.
fn source_file() -> Option<std::path::PathBuf> {
    proc_macro::Span::call_site().local_file()
}
