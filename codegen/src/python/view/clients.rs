//! The views of a package's services: a blocking and an asyncio client class per service, and the
//! `rpcgen_values.Method` constant of each method.

use rpcgen_idl::ir::{Method, Returns, Service};
use rpcgen_idl::naming::NameKind;

use super::super::names::{self, member_name, CLIENT_MEMBERS, PARAM_NAMES};
use super::super::text::{bracketed, docstring, string_literal, Layout, INDENT};
use super::super::types::{Constant, Scope};
use super::{
    class_docstring, deprecation_message, init_def, with_deprecation, ModuleBuilder, CLASS_BODY,
    METHOD_BODY,
};

/// The blocking and the asyncio client of one service.
pub struct ClientView {
    /// The blocking client's class name.
    pub name: String,
    /// The asyncio client's class name.
    pub async_name: String,
    /// The blocking client's docstring.
    pub docstring: String,
    /// The asyncio client's docstring.
    pub async_docstring: String,
    /// The `def __init__` line(s), the same for both.
    pub init_def: String,
    /// The warning a deprecated service gives when a client is created, as a string literal.
    pub deprecation: Option<String>,
    /// `property`, qualified when a method hides it.
    pub property: String,
    /// `str`, qualified when a method hides it.
    pub str: String,
    /// `object`, qualified when a method hides it.
    pub object: String,
    /// The methods, in declaration order.
    pub methods: Vec<MethodView>,
}

/// One method of both clients.
pub struct MethodView {
    /// The blocking client's `def` line(s).
    pub sync_def: String,
    /// The asyncio client's `def` line(s).
    pub async_def: String,
    /// The docstring.
    pub docstring: String,
    /// The warning a deprecated method gives, as a string literal.
    pub deprecation: Option<String>,
    /// The body of the blocking method.
    pub sync_call: String,
    /// The body of the asyncio method.
    pub async_call: String,
}

impl ModuleBuilder<'_> {
    /// The view of the two clients of one service (and the constants of its methods).
    pub(super) fn client(&mut self, service: &Service) -> ClientView {
        let service_name = names::type_name(&service.name);
        let python_names: Vec<String> = service
            .methods
            .iter()
            .map(|method| member_name(NameKind::Method, &method.name, CLIENT_MEMBERS))
            .collect();
        let scope = Scope::class(
            python_names
                .iter()
                .map(String::as_str)
                .chain(CLIENT_MEMBERS.iter().copied()),
        );
        let methods = service
            .methods
            .iter()
            .zip(&python_names)
            .map(|(method, python)| {
                let timeout_ms = service.method_timeout_ms(method);
                self.method(&service_name, method, timeout_ms, python, &scope)
            })
            .collect();
        let str = self.types.builtin("str", &scope);
        let float = self.types.builtin("float", &scope);
        let int = self.types.builtin("int", &scope);
        let parameters = [
            "self".to_string(),
            "endpoint: _rt.Endpoints".to_string(),
            "*".to_string(),
            format!("heartbeat: {float} | None = 5.0"),
            format!("timeout: {float} = 30.0"),
            "request_header: _rt.RequestHeader | None = None".to_string(),
            "after_request: _rt.AfterRequest | None = None".to_string(),
            format!("max_message_size: {int} = _rt.DEFAULT_MAX_MESSAGE_SIZE"),
        ];
        let name = names::client_name(&service.name);
        let async_name = names::async_client_name(&service.name);
        let usage = |kind: &str, opening: String| {
            vec![
                format!("{kind}:"),
                String::new(),
                format!("    {opening}(\"tcp://127.0.0.1:4242\") as client:"),
                "        ...".to_string(),
                String::new(),
                "``endpoint`` may also be a list of the endpoints of several servers, which share the"
                    .to_string(),
                "calls. ``heartbeat`` (seconds, ``None`` for none) must match the server's; ``timeout`` is"
                    .to_string(),
                "the default limit in seconds for each wait of a call; ``request_header`` adds entries"
                    .to_string(),
                "such as a trace id to each request's header; ``after_request`` is called with the record"
                    .to_string(),
                "of each request as it ends (``rpcgen_runtime.log_requests()`` makes one that logs"
                    .to_string(),
                "them); ``max_message_size`` (bytes, 100 MiB by default) bounds each request and reply."
                    .to_string(),
                "See rpcgen_runtime for more.".to_string(),
            ]
        };
        let service_docs = |usage: Vec<String>| {
            let summary = if service.docs.is_empty() {
                vec![format!("The ``{}`` service.", service.name)]
            } else {
                service.docs.clone()
            };
            let mut paragraphs = with_deprecation(summary, service.deprecated.as_deref());
            paragraphs.push(usage);
            class_docstring(paragraphs)
        };
        self.types.runtime();
        ClientView {
            docstring: service_docs(usage(
                "A blocking client, safe to share between threads",
                format!("with {name}"),
            )),
            async_docstring: service_docs(usage(
                "An asyncio client (many concurrent calls share its connection)",
                format!("async with {async_name}"),
            )),
            name,
            async_name,
            init_def: init_def(&parameters),
            deprecation: service.deprecated.as_ref().map(|reason| {
                self.types.values();
                string_literal(&deprecation_message(
                    &format!("the service {}", service.name),
                    reason,
                ))
            }),
            property: self.types.builtin("property", &scope),
            str,
            object: self.types.builtin("object", &scope),
            methods,
        }
    }

    fn method(
        &mut self,
        service_name: &str,
        method: &Method,
        timeout_ms: Option<u64>,
        python: &str,
        scope: &Scope,
    ) -> MethodView {
        let label = format!("{service_name}.{python}");
        let param_names: Vec<String> = method
            .params
            .iter()
            .map(|param| member_name(NameKind::Param, &param.name, PARAM_NAMES))
            .collect();
        let mut parameters = vec!["self".to_string()];
        let required = method.required_params();
        for (index, (param, python)) in method.params.iter().zip(&param_names).enumerate() {
            // The optional parameters at the end default to None: a call may leave them out.
            let default = if index < required { "" } else { " = None" };
            parameters.push(format!(
                "{python}: {}{default}",
                self.types.annotation(&param.ty, scope)
            ));
        }
        parameters.push("*".to_string());
        let float = self.types.builtin("float", scope);
        parameters.push(format!("timeout: {float} | None = None"));

        let values = self.types.values();
        let (result_codec, sync_return, async_return) = match &method.returns {
            Returns::Unit => (
                format!("{values}.NIL"),
                "None".to_string(),
                "None".to_string(),
            ),
            Returns::Value(ty) => {
                let annotation = self.types.annotation(ty, scope);
                (self.types.codec(ty), annotation.clone(), annotation)
            }
            Returns::Stream(ty) => {
                let item = self.types.annotation(ty, scope);
                (
                    self.types.codec(ty),
                    format!("{values}.ItemStream[{item}]"),
                    format!("{values}.AsyncItemStream[{item}]"),
                )
            }
        };
        let constant = self.method_constant(
            service_name,
            method,
            timeout_ms,
            &label,
            &param_names,
            result_codec,
        );
        let streaming = matches!(method.returns, Returns::Stream(_));
        let arguments = match param_names.len() {
            0 => "()".to_string(),
            1 => format!("({},)", param_names[0]),
            _ => format!("({})", param_names.join(", ")),
        };
        let returns = if matches!(method.returns, Returns::Unit) {
            ""
        } else {
            "return "
        };
        let (sync_call, async_call) = if streaming {
            (
                format!("return {constant}.stream(self._client, {arguments}, timeout)"),
                format!("return {constant}.stream_async(self._client, {arguments}, timeout)"),
            )
        } else {
            (
                format!("{returns}{constant}.call(self._client, {arguments}, timeout)"),
                format!("{returns}await {constant}.call_async(self._client, {arguments}, timeout)"),
            )
        };
        let async_keyword = if streaming { "" } else { "async " };
        MethodView {
            sync_def: bracketed(
                CLASS_BODY,
                &format!("def {python}("),
                &parameters,
                &format!(") -> {sync_return}:"),
                Layout::Fit,
            ),
            async_def: bracketed(
                CLASS_BODY,
                &format!("{async_keyword}def {python}("),
                &parameters,
                &format!(") -> {async_return}:"),
                Layout::Fit,
            ),
            docstring: self.method_docstring(method, timeout_ms, &param_names),
            deprecation: method
                .deprecated
                .as_ref()
                .map(|reason| string_literal(&deprecation_message(&format!("{label}()"), reason))),
            sync_call,
            async_call,
        }
    }

    fn method_constant(
        &mut self,
        service_name: &str,
        method: &Method,
        timeout_ms: Option<u64>,
        label: &str,
        param_names: &[String],
        result_codec: String,
    ) -> String {
        let params: Vec<String> = method
            .params
            .iter()
            .zip(param_names)
            .map(|(param, python)| {
                format!(
                    "({}, {})",
                    string_literal(python),
                    self.types.codec(&param.ty)
                )
            })
            .collect();
        let mut arguments = vec![
            string_literal(label),
            string_literal(&method.wire_name),
            bracketed(INDENT, "[", &params, "]", Layout::Fit),
            result_codec,
        ];
        if !method.throws.is_empty() {
            let errors: Vec<String> = method
                .throws
                .iter()
                .map(|error| {
                    let class = self.types.type_reference(error);
                    format!("{}: {class}.from_remote", string_literal(&error.name))
                })
                .collect();
            arguments.push(bracketed(INDENT, "errors={", &errors, "}", Layout::Fit));
        }
        if let Some(milliseconds) = timeout_ms {
            arguments.push(format!(
                "default_timeout={:?}",
                milliseconds as f64 / 1000.0
            ));
        }
        let name = self.types.private.claim(&format!(
            "{}_{}",
            names::upper_snake(service_name),
            names::upper_snake(&method.name)
        ));
        let values = self.types.values();
        self.method_constants.push(Constant {
            name: name.clone(),
            value: bracketed(
                0,
                &format!("{values}.Method("),
                &arguments,
                ")",
                Layout::Split,
            ),
        });
        name
    }

    fn method_docstring(
        &self,
        method: &Method,
        timeout_ms: Option<u64>,
        param_names: &[String],
    ) -> String {
        let summary = if method.docs.is_empty() {
            vec![format!("Calls ``{}`` on the server.", method.wire_name)]
        } else {
            method.docs.clone()
        };
        let mut paragraphs = with_deprecation(summary, method.deprecated.as_deref());
        let documented: Vec<String> = method
            .params
            .iter()
            .zip(param_names)
            .filter(|(param, _)| !param.docs.is_empty())
            .map(|(param, python)| format!("    {python}: {}", param.docs.join(" ")))
            .collect();
        if !documented.is_empty() {
            paragraphs.push(
                std::iter::once("Args:".to_string())
                    .chain(documented)
                    .collect(),
            );
        }
        if let Some(milliseconds) = timeout_ms {
            paragraphs.push(vec![format!(
                "Waits at most {} s unless ``timeout`` says otherwise (``@timeout``).",
                seconds(milliseconds)
            )]);
        }
        if !method.throws.is_empty() {
            let mut raises = vec!["Raises:".to_string()];
            for error in &method.throws {
                let class = shown_name(&self.package.name, error);
                let def = self.types.type_def(error);
                let summary = def
                    .docs
                    .first()
                    .cloned()
                    .unwrap_or_else(|| format!("the server raised ``{}``.", error.name));
                raises.push(format!("    {class}: {summary}"));
            }
            paragraphs.push(raises);
        }
        docstring(&paragraphs, METHOD_BODY).expect("a method docstring has a line")
    }
}

/// How docs name a user type: `Ticket` in its own module, `common.Money` in another.
fn shown_name(package: &str, name: &rpcgen_idl::ir::TypeName) -> String {
    let class = names::type_name(&name.name);
    if name.package == package {
        class
    } else {
        format!("{}.{class}", name.package)
    }
}

/// Milliseconds as seconds for a reader: `30`, `0.25`.
fn seconds(milliseconds: u64) -> String {
    let text = format!("{:?}", milliseconds as f64 / 1000.0);
    text.strip_suffix(".0").map_or(text.clone(), str::to_string)
}
