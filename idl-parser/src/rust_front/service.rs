//! A `#[rpcgen::service]` trait → a `.rpc` service: each method's receiver, parameters, return
//! type and errors.
//!
//! | Rust | `.rpc` |
//! | --- | --- |
//! | `async fn get(&self, id: u64) -> Ticket` | `get(id: u64) -> Ticket;` |
//! | `async fn get(&self, id: u64) -> Result<Ticket, NotFound>` | `get(id: u64) -> Ticket throws NotFound;` |
//! | `-> Result<(), (NotFound, Denied)>` | `throws NotFound, Denied` |
//! | `-> Result<T, RemoteError>` | `-> T` (no declared error) |
//! | `-> BoxStream<'static, T>`, `-> impl Stream<Item = T>` (the fn may be plain) | `-> stream<T>` |
//! | `-> Result<BoxStream<'static, Result<T, E>>, E>` | `-> stream<T> throws E` |

use syn::spanned::Spanned;

use super::lower::Lowerer;
use super::options::parse_options;
use super::types::{last_segment, stream_item, type_arguments};
use crate::ast::{self, Ident, TypeExpr, TypePath};

/// What a method's return type lowers to.
#[derive(Default)]
struct Returns {
    value: Option<TypeExpr>,
    throws: Vec<TypePath>,
    is_stream: bool,
}

impl Lowerer<'_> {
    /// A service trait; `attr` is its `#[rpcgen::service(…)]` annotation, whose options are the
    /// service's (`timeout`) and the package's (`package`).
    pub(crate) fn service(
        &mut self,
        item: &syn::ItemTrait,
        attr: &syn::Attribute,
    ) -> Option<ast::Item> {
        self.refuse_generics(&item.generics, "a service trait");
        if let Some(unsafety) = &item.unsafety {
            self.error_at(
                unsafety.span(),
                "a service trait cannot be `unsafe`",
                "unsafe",
                None,
            );
        }
        if !item.supertraits.is_empty() {
            self.error_at(
                item.supertraits.span(),
                "a service trait cannot have supertraits",
                "supertraits",
                Some("the generated trait is already `Send + Sync + 'static`; remove the bounds"),
            );
        }
        let mut decorations = self.decorations(&item.attrs);
        decorations.attributes.extend(self.service_options(attr));
        let methods = item
            .items
            .iter()
            .filter_map(|member| match member {
                syn::TraitItem::Fn(method) => self.method(method),
                other => {
                    self.error_at(
                        other.span(),
                        "a service trait can only declare methods",
                        "not a method",
                        Some("move constants, types and macros out of the trait"),
                    );
                    None
                }
            })
            .collect();
        let name = self.ident(&item.ident);
        let span = self.span(item.span());
        Some(ast::Item {
            decorations,
            name,
            kind: ast::ItemKind::Service(methods),
            span,
        })
    }

    /// `#[rpcgen::service(package = "shop", timeout = "30s")]`: records the package and returns
    /// the service's attributes.
    fn service_options(&mut self, attr: &syn::Attribute) -> Vec<ast::Attribute> {
        let syn::Meta::List(list) = &attr.meta else {
            return Vec::new();
        };
        let options = match list.parse_args_with(parse_options) {
            Ok(options) => options,
            Err(error) => {
                self.option_syntax_error(error);
                return Vec::new();
            }
        };
        let (package, others): (Vec<_>, Vec<_>) = options
            .into_iter()
            .partition(|option| option.key == "package");
        for option in package {
            match option.value {
                Some((super::options::OptionValue::Text(text), span)) => {
                    let span = self.span(span);
                    self.package = Some(Ident { text, span });
                }
                _ => self.error_at(
                    option.span,
                    "`package` needs the package name as a string",
                    "expected `package = \"name\"`",
                    None,
                ),
            }
        }
        self.attributes(others)
    }

    fn method(&mut self, method: &syn::TraitItemFn) -> Option<ast::Method> {
        let signature = &method.sig;
        self.check_signature(signature);
        if let Some(body) = &method.default {
            self.error_at(
                body.span(),
                "a service method cannot have a default body",
                "body",
                Some("declare it with `;`: every server implements the generated trait"),
            );
        }
        let returns = self.returns(&signature.output);
        if signature.asyncness.is_none() && !returns.is_stream {
            self.error_at(
                signature.fn_token.span(),
                format!("the service method `{}` must be `async`", signature.ident),
                "not `async fn`",
                Some("write `async fn`; only a method that returns a stream may be a plain `fn`"),
            );
        }
        let params = signature
            .inputs
            .iter()
            .filter_map(|input| match input {
                syn::FnArg::Typed(typed) => self.param(typed),
                syn::FnArg::Receiver(_) => None,
            })
            .collect();
        let decorations = self.decorations(&method.attrs);
        let name = self.ident(&signature.ident);
        let params_close = self.span(signature.paren_token.span.close());
        Some(ast::Method {
            decorations,
            name,
            params,
            params_close,
            returns: returns.value,
            throws: returns.throws,
        })
    }

    /// Reports what a service method's signature cannot have: qualifiers, generics, a receiver
    /// other than `&self`.
    fn check_signature(&mut self, signature: &syn::Signature) {
        let qualifiers = [
            signature
                .constness
                .as_ref()
                .map(|token| (token.span(), "const")),
            signature
                .unsafety
                .as_ref()
                .map(|token| (token.span(), "unsafe")),
            signature.abi.as_ref().map(|abi| (abi.span(), "extern")),
        ];
        for (span, word) in qualifiers.into_iter().flatten() {
            self.error_at(
                span,
                format!("a service method cannot be `{word}`"),
                format!("`{word}`"),
                None,
            );
        }
        if let Some(variadic) = &signature.variadic {
            self.error_at(
                variadic.span(),
                "a service method cannot be variadic",
                "`...`",
                None,
            );
        }
        if !signature.generics.params.is_empty() || signature.generics.where_clause.is_some() {
            self.error_at(
                signature.generics.span(),
                format!("the service method `{}` cannot be generic", signature.ident),
                "generic parameters",
                Some("every call is decoded into concrete types: write them out"),
            );
        }
        self.check_receiver(signature);
    }

    fn check_receiver(&mut self, signature: &syn::Signature) {
        let help = Some("service methods take `&self`: a server handles calls concurrently, so keep mutable state behind a `Mutex` or an atomic");
        match signature.receiver() {
            None => self.error_at(
                signature.ident.span(),
                format!("the service method `{}` has no `&self`", signature.ident),
                "add `&self` as the first parameter",
                help,
            ),
            Some(receiver) if receiver.mutability.is_some() && receiver.reference.is_some() => self
                .error_at(
                    receiver.span(),
                    format!("the service method `{}` takes `&mut self`", signature.ident),
                    "must be `&self`",
                    help,
                ),
            Some(receiver) if receiver.reference.is_none() || receiver.colon_token.is_some() => {
                self.error_at(
                    receiver.span(),
                    format!("the service method `{}` must take `&self`", signature.ident),
                    "must be `&self`",
                    help,
                )
            }
            Some(_) => {}
        }
    }

    fn param(&mut self, typed: &syn::PatType) -> Option<ast::Param> {
        let decorations = self.decorations(&typed.attrs);
        let syn::Pat::Ident(pattern) = &*typed.pat else {
            self.error_at(
                typed.pat.span(),
                "a parameter needs a plain name",
                "a pattern",
                Some("write `name: Type`; destructure inside the implementation"),
            );
            return None;
        };
        let name = self.ident(&pattern.ident);
        let ty = self.type_expr(&typed.ty)?;
        Some(ast::Param {
            decorations,
            name,
            ty,
        })
    }

    fn returns(&mut self, output: &syn::ReturnType) -> Returns {
        let syn::ReturnType::Type(_, ty) = output else {
            return Returns::default();
        };
        let mut returns = Returns::default();
        let success = match result_parts(ty) {
            Some((success, error)) => {
                self.throws(error, &mut returns.throws);
                success
            }
            None => ty,
        };
        if is_unit(success) {
            return returns;
        }
        if let Some(item) = stream_item(success) {
            returns.is_stream = true;
            let item = match result_parts(item) {
                Some((item, error)) => {
                    self.throws(error, &mut returns.throws);
                    item
                }
                None => item,
            };
            let span = self.span(success.span());
            returns.value = self.type_expr(item).map(|item| TypeExpr {
                kind: ast::TypeExprKind::Stream(Box::new(item)),
                span,
            });
        } else {
            returns.value = self.type_expr(success);
        }
        returns
    }

    /// The errors named by the error type of a `Result`, added to `throws` unless already there.
    fn throws(&mut self, error: &syn::Type, throws: &mut Vec<TypePath>) {
        let named: Vec<&syn::Type> = match error {
            syn::Type::Tuple(tuple) => tuple.elems.iter().collect(),
            syn::Type::Paren(inner) => vec![&*inner.elem],
            other => vec![other],
        };
        for error in named {
            let syn::Type::Path(path) = error else {
                self.error_at(
                    error.span(),
                    "the error of a service method must be an `#[rpcgen::error]` type",
                    "not an error type",
                    Some("write `Result<T, NotFound>`, a tuple `Result<T, (NotFound, Denied)>` for several errors, or `Result<T, RemoteError>` for none"),
                );
                continue;
            };
            let Some(segment) = last_segment(&path.path) else {
                continue;
            };
            if segment.ident == "RemoteError" {
                continue;
            }
            let name = self.ident(&segment.ident);
            if throws.iter().any(|known| known.name.text == name.text) {
                continue;
            }
            let span = self.span(path.span());
            throws.push(TypePath {
                package: None,
                name,
                span,
            });
        }
    }
}

/// `(T, E)` of a `Result<T, E>`.
fn result_parts(ty: &syn::Type) -> Option<(&syn::Type, &syn::Type)> {
    let syn::Type::Path(path) = ty else {
        return None;
    };
    let segment = last_segment(&path.path)?;
    if segment.ident != "Result" {
        return None;
    }
    match type_arguments(segment).as_slice() {
        [success, error] => Some((success, error)),
        _ => None,
    }
}

fn is_unit(ty: &syn::Type) -> bool {
    matches!(ty, syn::Type::Tuple(tuple) if tuple.elems.is_empty())
}
