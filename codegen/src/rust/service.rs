//! The server side of a service: the trait a server implements, the typed error enum of each
//! method that declares `throws`, and the function that turns an implementation into a runtime
//! service with every method registered.
//!
//! Trait methods return `impl Future<…> + Send`, so implementations write plain `async fn`. A
//! method without `throws` fails with the runtime's `RemoteError`; one with `throws` fails with
//! its error enum (`TicketsGetError`), which has one variant per declared error plus `Call`
//! for everything else, and converts both ways: from a `CallError` on the client (decoding the
//! declared errors) and into a `RemoteError` on the server (encoding them).

use proc_macro2::{Ident, Literal, TokenStream};
use quote::quote;
use rpcgen_idl::ir::{Method, Returns, Service, Type, TypeName};
use rpcgen_idl::naming::NameKind;

use crate::output::GeneratedFile;

use super::docs::{deprecated_attribute, doc_attributes, generated_doc, plain_text};
use super::mapping::{PreludeName, TypeMapper};
use super::names::{self, ServiceNames, CALL_VARIANT};

/// The `.rpc` files of a service's contract (`rpcgen_idl::contract`), which its server publishes.
pub(super) struct ContractFiles {
    /// The name of the file that declares the service.
    pub root: String,
    /// Every file, the root included.
    pub files: Vec<GeneratedFile>,
}

/// The trait, the error enums and the service function of one service, which publishes
/// `contract` when there is one.
pub(super) fn server_side(
    types: &TypeMapper,
    service: &Service,
    contract: Option<&ContractFiles>,
) -> TokenStream {
    let names = ServiceNames::new(&service.name);
    let trait_definition = service_trait(types, service, &names);
    let error_enums = service
        .methods
        .iter()
        .filter(|method| !method.throws.is_empty())
        .map(|method| error_enum(types, &names, method));
    let service_function = service_function(types, service, &names, contract);
    quote! {
        #trait_definition
        #(#error_enums)*
        #service_function
    }
}

/// The doc lines of a method: its own, then its documented parameters as a list.
pub(super) fn method_docs(method: &Method) -> Vec<String> {
    let mut lines = method.docs.clone();
    let documented: Vec<_> = method
        .params
        .iter()
        .filter(|param| !param.docs.is_empty())
        .collect();
    if documented.is_empty() {
        return lines;
    }
    if !lines.is_empty() {
        lines.push(String::new());
    }
    lines.push("# Parameters".to_string());
    for param in documented {
        let name = names::ident(NameKind::Param, &param.name);
        let mut param_lines = param.docs.iter();
        let first = param_lines.next().map_or("", String::as_str);
        lines.push(format!("- `{}`: {first}", names::unraw(&name.to_string())));
        lines.extend(param_lines.map(|line| format!("  {line}")));
    }
    lines
}

/// The Rust type of what a method produces: the value, or for a stream the boxed stream of
/// items whose errors are `error`.
pub(super) fn success_type(
    types: &TypeMapper,
    method: &Method,
    error: &TokenStream,
) -> TokenStream {
    let result = types.prelude(PreludeName::Result);
    match &method.returns {
        Returns::Unit => quote!(()),
        Returns::Value(ty) => types.owned(ty),
        Returns::Stream(item) => {
            let item = types.owned(item);
            quote!(::rpcgen_runtime::BoxStream<'static, #result<#item, #error>>)
        }
    }
}

/// The error enum's identifier, when the method declares errors.
pub(super) fn error_enum_ident(names: &ServiceNames, method: &Method) -> Option<Ident> {
    (!method.throws.is_empty()).then(|| names::made_up(&names.error_enum(&method.name)))
}

fn service_trait(types: &TypeMapper, service: &Service, names: &ServiceNames) -> TokenStream {
    let ident = names::made_up(&names.trait_name);
    let mut doc_lines = service.docs.clone();
    if !doc_lines.is_empty() {
        doc_lines.push(String::new());
    }
    let usage = format!(
        "Implement it with `async fn`s; serve an implementation with [`{}`] and call a server\n\
         with [`{}`].",
        names.service_fn, names.client
    );
    doc_lines.extend(usage.lines().map(str::to_string));
    let docs = doc_attributes(&doc_lines);
    let deprecated = deprecated_attribute(service.deprecated.as_ref());
    let send = types.prelude(PreludeName::Send);
    let sync = types.prelude(PreludeName::Sync);
    let result = types.prelude(PreludeName::Result);
    let methods = service.methods.iter().map(|method| {
        let ident = names::ident(NameKind::Method, &method.name);
        let docs = doc_attributes(&method_docs(method));
        let deprecated = deprecated_attribute(method.deprecated.as_ref());
        let params = method.params.iter().map(|param| {
            let name = names::ident(NameKind::Param, &param.name);
            let ty = types.owned(&param.ty);
            quote!(#name: #ty)
        });
        let error = match error_enum_ident(names, method) {
            Some(error) => quote!(#error),
            None => quote!(::rpcgen_runtime::RemoteError),
        };
        let success = success_type(types, method, &error);
        quote! {
            #docs
            #deprecated
            fn #ident(&self #(, #params)*)
                -> impl ::core::future::Future<Output = #result<#success, #error>> + #send;
        }
    });
    quote! {
        #docs
        #deprecated
        pub trait #ident: #send + #sync + 'static {
            #(#methods)*
        }
    }
}

/// The Rust path of a declared error, and the same as text for doc links.
fn error_path(types: &TypeMapper, error: &TypeName) -> (TokenStream, String) {
    let tokens = types.named(error);
    let rust_name = names::type_name(&error.name);
    let text = if error.package == types.package() {
        rust_name
    } else {
        format!("{}::{rust_name}", error.package)
    };
    (tokens, text)
}

fn error_enum(types: &TypeMapper, names: &ServiceNames, method: &Method) -> TokenStream {
    let ident = names::made_up(&names.error_enum(&method.name));
    let call = names::made_up(CALL_VARIANT);
    let wire_name = &method.wire_name;
    let method_link = format!(
        "{}::{}",
        names.trait_name,
        names::ident(NameKind::Method, &method.name)
    );
    let docs = generated_doc(&format!(
        "How a call of [`{method_link}`] fails: with an error the method declares, or in any\n\
         other way ([`{ident}::{CALL_VARIANT}`])."
    ));
    let errors: Vec<(Ident, TokenStream, String)> = method
        .throws
        .iter()
        .map(|error| {
            let (path, text) = error_path(types, error);
            (names::made_up(&names::type_name(&error.name)), path, text)
        })
        .collect();
    let variants = errors.iter().map(|(variant, path, text)| {
        let docs = generated_doc(&format!("The method raised the declared error [`{text}`]."));
        quote!(#docs #variant(#path),)
    });
    let from_declared = errors.iter().map(|(variant, path, _)| {
        quote! {
            impl ::core::convert::From<#path> for #ident {
                fn from(error: #path) -> Self {
                    Self::#variant(error)
                }
            }
        }
    });
    let mut decoders = errors.iter().map(|(variant, _, _)| {
        quote!(::rpcgen_runtime::generated_support::decode_error(&error).map(Self::#variant))
    });
    let first_decoder = decoders.next();
    let encoders = errors.iter().map(|(variant, _, _)| {
        quote!(#ident::#variant(error) => ::rpcgen_runtime::generated_support::encode_error(&error),)
    });
    let variant_idents: Vec<&Ident> = errors.iter().map(|(variant, _, _)| variant).collect();
    quote! {
        #docs
        #[derive(Debug, Clone, PartialEq)]
        pub enum #ident {
            #(#variants)*
            /// The call failed otherwise: a timeout, a lost server, or an error the method does
            /// not declare.
            #call(::rpcgen_runtime::CallError),
        }

        #(#from_declared)*

        /// Decodes the errors the method declares; anything else stays a `CallError`.
        impl ::core::convert::From<::rpcgen_runtime::CallError> for #ident {
            fn from(error: ::rpcgen_runtime::CallError) -> Self {
                #first_decoder
                    #(.or_else(|| #decoders))*
                    .unwrap_or(Self::#call(error))
            }
        }

        /// Lets a server handler fail with an error the method does not declare.
        impl ::core::convert::From<::rpcgen_runtime::RemoteError> for #ident {
            fn from(error: ::rpcgen_runtime::RemoteError) -> Self {
                Self::#call(::rpcgen_runtime::CallError::Remote {
                    method: ::core::convert::From::from(#wire_name),
                    error,
                })
            }
        }

        /// What the server sends: a declared error in the form docs/errors.md specifies.
        impl ::core::convert::From<#ident> for ::rpcgen_runtime::RemoteError {
            fn from(error: #ident) -> Self {
                match error {
                    #(#encoders)*
                    #ident::#call(error) => ::rpcgen_runtime::generated_support::forward_call_error(error),
                }
            }
        }

        impl ::core::fmt::Display for #ident {
            fn fmt(&self, formatter: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                match self {
                    #(Self::#variant_idents(error) => ::core::fmt::Display::fmt(error, formatter),)*
                    Self::#call(error) => ::core::fmt::Display::fmt(error, formatter),
                }
            }
        }

        impl ::std::error::Error for #ident {
            fn source(&self) -> ::core::option::Option<&(dyn ::std::error::Error + 'static)> {
                match self {
                    #(Self::#variant_idents(error) => ::core::option::Option::Some(error),)*
                    Self::#call(error) => ::core::option::Option::Some(error),
                }
            }
        }
    }
}

/// `MethodInfo` for introspection and argument checks: wire name, docs, parameter names and IDL
/// types (`T?` parameters marked optional: the runtime lets calls leave out those at the end),
/// result type, declared errors.
fn method_info(types: &TypeMapper, method: &Method) -> TokenStream {
    let wire_name = &method.wire_name;
    let doc = plain_text(&method.docs).map(|doc| quote!(.doc(#doc)));
    let params = method.params.iter().map(|param| {
        let name = &param.name;
        let ty = param.ty.idl_text(types.package());
        let optional = matches!(param.ty, Type::Optional(_)).then(|| quote!(.optional()));
        let doc = plain_text(&param.docs).map(|doc| quote!(.doc(#doc)));
        quote!(.param_info(::rpcgen_runtime::ParamInfo::new(#name).type_name(#ty) #optional #doc))
    });
    let returns = match &method.returns {
        Returns::Unit => None,
        Returns::Value(ty) | Returns::Stream(ty) => {
            let ty = ty.idl_text(types.package());
            Some(quote!(.returns(#ty)))
        }
    };
    let errors = declared_error_names(types, method)
        .into_iter()
        .map(|name| quote!(.error(#name)));
    quote!(::rpcgen_runtime::MethodInfo::new(#wire_name) #doc #(#params)* #returns #(#errors)*)
}

/// The wire names of the errors `method` declares, one `IdlError::NAME` each, for the server's
/// registration and the client's call options.
pub(super) fn declared_error_names(types: &TypeMapper, method: &Method) -> Vec<TokenStream> {
    method
        .throws
        .iter()
        .map(|error| {
            let (path, _) = error_path(types, error);
            quote!(<#path as ::rpcgen_runtime::generated_support::IdlError>::NAME)
        })
        .collect()
}

/// One `.unary(…)` or `.stream(…)` registration of the service function.
fn registration(types: &TypeMapper, trait_ident: &Ident, method: &Method) -> TokenStream {
    let info = method_info(types, method);
    let ident = names::ident(NameKind::Method, &method.name);
    let arguments = (0..method.params.len()).map(|index| {
        let index = Literal::usize_unsuffixed(index);
        quote!(args.get(#index)?)
    });
    let args = if method.params.is_empty() {
        quote!(_)
    } else {
        quote!(args)
    };
    let call = quote!(#trait_ident::#ident(&*implementation #(, #arguments)*).await);
    let typed = !method.throws.is_empty();
    let (register, body) = match (&method.returns, typed) {
        (Returns::Stream(_), true) => (
            quote!(stream),
            quote! {
                #call
                    .map(::rpcgen_runtime::generated_support::remote_items)
                    .map_err(::rpcgen_runtime::RemoteError::from)
            },
        ),
        (Returns::Stream(_), false) => (quote!(stream), call),
        (_, true) => (
            quote!(unary),
            quote!(#call.map_err(::rpcgen_runtime::RemoteError::from)),
        ),
        (_, false) => (quote!(unary), call),
    };
    quote! {
        .#register(#info, |implementation, #args| async move { #body })
    }
}

/// `.contract(…)`: the `.rpc` files, each text a `concat!` of its lines so that the generated
/// code stays readable.
fn contract_setter(contract: &ContractFiles) -> TokenStream {
    let root = &contract.root;
    let files = contract.files.iter().map(|file| {
        let name = file.path.display().to_string();
        let lines = file.contents.split_inclusive('\n');
        quote!((#name, ::core::concat!(#(#lines),*)))
    });
    quote!(.contract(#root, [#(#files),*]))
}

fn service_function(
    types: &TypeMapper,
    service: &Service,
    names: &ServiceNames,
    contract: Option<&ContractFiles>,
) -> TokenStream {
    let function = names::made_up(&names.service_fn);
    let trait_ident = names::made_up(&names.trait_name);
    let deprecated = deprecated_attribute(service.deprecated.as_ref());
    let docs = generated_doc(&format!(
        "Serves an implementation of [`{trait_ident}`]: the runtime service with every method\n\
         registered under its wire name, with its docs and its parameters' names and types\n\
         (which `_zerorpc_inspect` reports). Serve it with `rpcgen_runtime::Server::bind` or\n\
         `rpcgen_runtime::Server::builder`."
    ));
    let wire_name = &service.name;
    let doc = plain_text(&service.docs).map(|doc| quote!(.doc(#doc)));
    let registrations = service
        .methods
        .iter()
        .map(|method| registration(types, &trait_ident, method));
    let contract = contract.map(contract_setter);
    quote! {
        #docs
        #deprecated
        pub fn #function(implementation: impl #trait_ident) -> ::rpcgen_runtime::Service {
            ::rpcgen_runtime::generated_support::ServiceBuilder::new(
                ::rpcgen_runtime::Service::new(#wire_name) #doc #contract,
                implementation,
            )
            #(#registrations)*
            .build()
        }
    }
}
