//! The typed client of a service: `TicketsClient::connect(endpoint)` and one async method per
//! IDL method, taking borrowed parameters and returning the method's typed result.
//!
//! Timeouts: a call waits for its first reply at most the duration set with `with_timeout` on the
//! handle, else the method's `@timeout` (or its service's), else the runtime client's default
//! (30 s unless configured).

use proc_macro2::{Literal, TokenStream};
use quote::quote;
use rpcgen_idl::ir::{Method, Returns, Service};
use rpcgen_idl::naming::NameKind;

use super::docs::{deprecated_attribute, doc_attributes, generated_doc};
use super::mapping::{PreludeName, TypeMapper};
use super::names::{self, ServiceNames};
use super::service::{declared_error_names, error_enum_ident, method_docs, success_type};

/// The client struct of one service and its methods.
pub(super) fn client(types: &TypeMapper, service: &Service) -> TokenStream {
    let names = ServiceNames::new(&service.name);
    let ident = names::made_up(&names.client);
    let trait_ident = names::made_up(&names.trait_name);
    let deprecated = deprecated_attribute(service.deprecated.as_ref());
    let option = types.prelude(PreludeName::Option);
    let result = types.prelude(PreludeName::Result);
    let string = types.prelude(PreludeName::String);
    let docs = generated_doc(&format!(
        "A typed client of the `{}` service (the server side is [`{trait_ident}`]).\n\n\
         Cloning it is cheap: clones share one connection and may call concurrently.",
        service.name
    ));
    let methods = service
        .methods
        .iter()
        .map(|method| client_method(types, &names, service, method));
    // A client without methods has no calls to time out.
    let has_methods = !service.methods.is_empty();
    let timeout_field = has_methods.then(|| quote!(timeout: #option<::std::time::Duration>,));
    let no_timeout = has_methods.then(|| quote!(timeout: ::core::option::Option::None,));
    let with_timeout = has_methods.then(|| {
        quote! {
            /// A handle on the same connection whose calls wait at most `timeout` for their
            /// reply, instead of each method's `@timeout` or the client's default.
            pub fn with_timeout(&self, timeout: ::std::time::Duration) -> Self {
                Self {
                    client: ::core::clone::Clone::clone(&self.client),
                    timeout: ::core::option::Option::Some(timeout),
                }
            }
        }
    });
    quote! {
        #docs
        #deprecated
        #[derive(Debug, Clone)]
        pub struct #ident {
            client: ::rpcgen_runtime::Client,
            #timeout_field
        }

        impl #ident {
            /// Connects to a server at `endpoint` (such as `tcp://127.0.0.1:4242`). Never blocks:
            /// the connection is made in the background, and calls wait for it within their
            /// timeout. Fails only for an invalid endpoint or outside a Tokio runtime.
            pub fn connect(
                endpoint: impl ::core::convert::Into<#string>,
            ) -> #result<Self, ::rpcgen_runtime::SetupError> {
                ::rpcgen_runtime::Client::connect(endpoint).map(Self::from_client)
            }

            /// Wraps a runtime client, for settings other than the defaults (heartbeat, default
            /// timeout, middleware): build it with `rpcgen_runtime::Client::builder`.
            pub fn from_client(client: ::rpcgen_runtime::Client) -> Self {
                Self {
                    client,
                    #no_timeout
                }
            }

            /// The runtime client underneath, for untyped calls.
            pub fn runtime_client(&self) -> &::rpcgen_runtime::Client {
                &self.client
            }

            #with_timeout

            #(#methods)*
        }
    }
}

/// "30 s" or "250 ms".
fn human_duration(milliseconds: u64) -> String {
    if milliseconds.is_multiple_of(1000) {
        format!("{} s", milliseconds / 1000)
    } else {
        format!("{milliseconds} ms")
    }
}

fn client_method(
    types: &TypeMapper,
    names: &ServiceNames,
    service: &Service,
    method: &Method,
) -> TokenStream {
    let ident = names::ident(NameKind::Method, &method.name);
    let mut doc_lines = method_docs(method);
    let timeout = service.method_timeout_ms(method);
    if let Some(timeout) = timeout {
        if !doc_lines.is_empty() {
            doc_lines.push(String::new());
        }
        let note = format!(
            "Waits at most {} for the reply (`@timeout`), unless the handle comes from\n\
             [`Self::with_timeout`].",
            human_duration(timeout)
        );
        doc_lines.extend(note.lines().map(str::to_string));
    }
    let docs = doc_attributes(&doc_lines);
    let deprecated = deprecated_attribute(method.deprecated.as_ref());
    let result = types.prelude(PreludeName::Result);
    let params = method.params.iter().map(|param| {
        let name = names::ident(NameKind::Param, &param.name);
        let ty = types.borrowed(&param.ty);
        quote!(#name: #ty)
    });
    let arguments = method.params.iter().map(|param| {
        let name = names::ident(NameKind::Param, &param.name);
        types.send_borrowed(&param.ty, quote!(#name))
    });
    let typed_error = error_enum_ident(names, method);
    let error = match &typed_error {
        Some(error) => quote!(#error),
        None => quote!(::rpcgen_runtime::CallError),
    };
    let success = success_type(types, method, &error);
    let wire_name = &method.wire_name;
    let timeout = match timeout {
        Some(milliseconds) => {
            let milliseconds = Literal::u64_unsuffixed(milliseconds);
            quote!(::core::option::Option::Some(#milliseconds))
        }
        None => quote!(::core::option::Option::None),
    };
    let errors = declared_error_names(types, method);
    let options = quote!(::rpcgen_runtime::generated_support::call_options(
        self.timeout,
        #timeout,
        &[#(#errors),*],
    ));
    let (call, items) = match &method.returns {
        Returns::Stream(_) => (
            quote!(call_stream_with),
            Some(quote!(.map(::rpcgen_runtime::generated_support::typed_items))),
        ),
        Returns::Unit | Returns::Value(_) => (quote!(call_with), None),
    };
    let typed = typed_error.map(|error| quote!(.map_err(#error::from)));
    quote! {
        #docs
        #deprecated
        pub async fn #ident(&self #(, #params)*) -> #result<#success, #error> {
            self.client
                .#call(#wire_name, (#(#arguments,)*), #options)
                .await
                #items
                #typed
        }
    }
}

#[cfg(test)]
mod tests {
    use super::human_duration;

    #[test]
    fn timeouts_read_in_the_unit_they_were_written_in() {
        assert_eq!(human_duration(30_000), "30 s");
        assert_eq!(human_duration(120_000), "120 s");
        assert_eq!(human_duration(250), "250 ms");
    }
}
