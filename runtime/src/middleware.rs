//! Hooks around calls, on servers and clients, and two ready-made layers: [`TracingLayer`] logs
//! every call with `tracing` and runs each call a server serves in a span of its own,
//! [`PropagateHeader`] carries header entries such as a trace id from the call a server handles
//! into the calls it makes.
//!
//! Add a middleware with `.layer(...)` on a [`crate::ServerBuilder`] or [`crate::ClientBuilder`].
//! Hooks run on the task of the call, in the order the layers were added; they should be quick.

use std::fmt::Write;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use rmpv::Value;
use tracing::Instrument;

use crate::error::{CallError, RemoteError};
use crate::event::Header;
use crate::service::{CallInfo, MethodInfo};

/// A call as a server sees it.
#[derive(Debug, Clone, Copy)]
pub struct CallContext<'a> {
    /// The method's wire name.
    pub method: &'a str,
    /// The request's header, with any keys the caller added (trace ids, for example).
    pub header: &'a Header,
    /// The request's arguments as received.
    pub args: &'a Value,
    /// What the service registered for the method; `None` for a method it does not have and for
    /// introspection.
    pub info: Option<&'a MethodInfo>,
}

/// How a call ended on the server.
#[derive(Debug, Clone, Copy)]
pub enum CallOutcome<'a> {
    /// The handler returned this value (sent as `OK`).
    Returned(&'a Value),
    /// The stream ended normally after this many items (`STREAM_DONE`).
    Streamed {
        /// Items sent.
        items: u64,
    },
    /// The call answered `ERR` with this error.
    Failed(&'a RemoteError),
    /// The call was abandoned without an answer (the caller was lost, or the server stopped).
    Cancelled {
        /// Why.
        reason: &'a str,
    },
}

/// A request as a client sends it.
#[derive(Debug, Clone, Copy)]
pub struct RequestContext<'a> {
    /// The method's wire name.
    pub method: &'a str,
    /// The request's header.
    pub header: &'a Header,
    /// The arguments as sent.
    pub args: &'a Value,
    /// The names of the errors the method declares ([`crate::CallOptions::errors`]; generated
    /// clients fill them in); empty for a call made by name without them.
    pub errors: &'a [&'static str],
}

impl RequestContext<'_> {
    /// Whether `error` is an `ERR` the method declares: an answer the caller expects.
    pub fn declares(&self, error: &CallError) -> bool {
        error
            .remote()
            .is_some_and(|remote| self.errors.contains(&remote.name.as_str()))
    }
}

/// How a request ended for the client (for streams: how the first reply went).
#[derive(Debug, Clone, Copy)]
pub enum RequestOutcome<'a> {
    /// The server answered with this value.
    Returned(&'a Value),
    /// The server started a stream.
    StreamOpened,
    /// The call failed (a timeout too).
    Failed(&'a CallError),
    /// The caller dropped the call before it ended (another branch of a `tokio::select!` or a
    /// `tokio::time::timeout` around it won, or its task was aborted); for a stream, before its
    /// first reply. Nothing more is read. Nothing is sent to the server either (zerorpc has no
    /// cancel event): a request still waiting for a connection is not sent, and a server already
    /// running the call is left to notice that the client no longer heartbeats it, which
    /// rpcgen's and zerorpc-python's servers do two to three of their heartbeat intervals later,
    /// and then drop the handler as for a lost caller; a server without heartbeats runs it to
    /// completion, and the client drops its answer.
    Cancelled,
}

/// Hooks around calls. Every method has an empty default, so implement only what you need.
pub trait Middleware: Send + Sync + 'static {
    /// Server: a request for a registered method is about to run.
    fn before_call(&self, _call: &CallContext<'_>) {}
    /// Server: the [`tracing::Span`] a call runs in; `None` (the default) adds none. The span
    /// covers the call's handler (a blocking one too, on its thread), each item of its stream,
    /// the other hooks and what the runtime logs from the call's task, so every line logged
    /// while serving it carries the span's fields. A layer's span is created inside the span of
    /// the layers added before it, so they nest in that order, and the call enters the innermost
    /// one; a span the subscriber filters out is skipped. A span with `parent: None` (to continue
    /// a trace begun by the caller, read from the header) starts a tree of its own: the spans of
    /// earlier layers are not its ancestors. [`TracingLayer`] gives `call{method, id}`.
    fn call_span(&self, _call: &CallContext<'_>) -> Option<tracing::Span> {
        None
    }
    /// Server: a call ended, with its outcome and how long it took.
    fn after_call(&self, _call: &CallContext<'_>, _outcome: &CallOutcome<'_>, _elapsed: Duration) {}
    /// Server: a call is about to answer `ERR` (also for unknown methods and bad arguments).
    fn on_error(&self, _call: &CallContext<'_>, _error: &RemoteError) {}
    /// Client: entries to add to the header of a request for `method`, such as a trace id
    /// (zerorpc-python's `get_task_context`). A server's middleware sees them in
    /// [`CallContext::header`], zerorpc-python's in `load_task_context`. Entries with the
    /// protocol's own keys (`message_id`, `v`, `response_to`) are ignored; a later layer's entry
    /// replaces an earlier one with the same key. Called before [`Middleware::before_request`].
    fn request_header(&self, _method: &str) -> Vec<(String, Value)> {
        Vec::new()
    }
    /// Client: the [`tracing::Span`] a request runs in, created inside the caller's span;
    /// `None` (the default) adds none. It covers the request from the making of its header (so
    /// [`Middleware::request_header`] can write the span's trace context into it) to its answer
    /// (for a stream, its first reply), with the other request hooks. Layers' spans nest in
    /// order and filtered-out ones are skipped, as for [`Middleware::call_span`].
    /// [`TracingLayer`] gives `request{method}`.
    fn request_span(&self, _method: &str) -> Option<tracing::Span> {
        None
    }
    /// Client: a request is about to be sent.
    fn before_request(&self, _request: &RequestContext<'_>) {}
    /// Client: a request ended, with its outcome and how long it took. Called exactly once for
    /// every request [`Middleware::before_request`] saw, also when the caller drops the call
    /// ([`RequestOutcome::Cancelled`], from the code that drops it), and for a stream at its first
    /// reply.
    fn after_request(
        &self,
        _request: &RequestContext<'_>,
        _outcome: &RequestOutcome<'_>,
        _elapsed: Duration,
    ) {
    }
}

/// Logs every call's method, arguments, result and time with `tracing` (target `rpcgen`):
/// successes, declared errors, and requests their caller dropped, at INFO; failures at WARN. Long
/// values are cut to `max_value_chars` characters. On a server it also runs each call in an INFO
/// span `call{method, id}` (the request's message id), so that what handlers log names the call
/// it belongs to, and on a client each request in `request{method}`. The spans' target is
/// `rpcgen::call`: `RUST_LOG=rpcgen=warn,rpcgen::call=info` hides the per-call lines and keeps the
/// spans.
#[derive(Debug, Clone)]
pub struct TracingLayer {
    /// How many characters of each argument list or result are logged.
    pub max_value_chars: usize,
}

impl Default for TracingLayer {
    fn default() -> Self {
        Self {
            max_value_chars: 256,
        }
    }
}

impl TracingLayer {
    fn show(&self, value: &Value) -> String {
        let mut text = String::new();
        let _ = write!(text, "{value}");
        if text.chars().count() > self.max_value_chars {
            text = text.chars().take(self.max_value_chars).collect();
            text.push('…');
        }
        text
    }
}

impl Middleware for TracingLayer {
    fn call_span(&self, call: &CallContext<'_>) -> Option<tracing::Span> {
        let id = MessageId(call.header.message_id());
        Some(tracing::info_span!(target: "rpcgen::call", "call", method = call.method, id = %id))
    }

    fn request_span(&self, method: &str) -> Option<tracing::Span> {
        Some(tracing::info_span!(target: "rpcgen::call", "request", method))
    }

    fn after_call(&self, call: &CallContext<'_>, outcome: &CallOutcome<'_>, elapsed: Duration) {
        let args = self.show(call.args);
        let elapsed_ms = elapsed.as_secs_f64() * 1000.0;
        match outcome {
            CallOutcome::Returned(value) => tracing::info!(
                target: "rpcgen", method = call.method, args = %args, result = %self.show(value),
                elapsed_ms, "served call"
            ),
            CallOutcome::Streamed { items } => tracing::info!(
                target: "rpcgen", method = call.method, args = %args, items, elapsed_ms, "served stream"
            ),
            CallOutcome::Failed(error) if call.info.is_some_and(|info| info.declares(error)) => {
                tracing::info!(
                    target: "rpcgen", method = call.method, args = %args, error = %error,
                    elapsed_ms, "served call with a declared error"
                )
            }
            CallOutcome::Failed(error) => tracing::warn!(
                target: "rpcgen", method = call.method, args = %args, error = %error, elapsed_ms,
                "call failed"
            ),
            CallOutcome::Cancelled { reason } => tracing::warn!(
                target: "rpcgen", method = call.method, args = %args, reason, elapsed_ms,
                "call cancelled"
            ),
        }
    }

    fn after_request(
        &self,
        request: &RequestContext<'_>,
        outcome: &RequestOutcome<'_>,
        elapsed: Duration,
    ) {
        let args = self.show(request.args);
        let elapsed_ms = elapsed.as_secs_f64() * 1000.0;
        match outcome {
            RequestOutcome::Returned(value) => tracing::info!(
                target: "rpcgen", method = request.method, args = %args, result = %self.show(value),
                elapsed_ms, "call returned"
            ),
            RequestOutcome::StreamOpened => tracing::info!(
                target: "rpcgen", method = request.method, args = %args, elapsed_ms, "stream opened"
            ),
            RequestOutcome::Failed(error) if request.declares(error) => tracing::info!(
                target: "rpcgen", method = request.method, args = %args, error = %error, elapsed_ms,
                "call returned a declared error"
            ),
            RequestOutcome::Failed(error) => tracing::warn!(
                target: "rpcgen", method = request.method, args = %args, error = %error, elapsed_ms,
                "call failed"
            ),
            RequestOutcome::Cancelled => tracing::info!(
                target: "rpcgen", method = request.method, args = %args, elapsed_ms,
                "call cancelled by the caller"
            ),
        }
    }
}

/// A message id as logs show it: the text of a `str` or of a `bin` that is UTF-8 (zerorpc-python
/// sends 32 hex digits as `bin`), else the MessagePack value.
struct MessageId<'a>(Option<&'a Value>);

impl std::fmt::Display for MessageId<'_> {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let text = match self.0 {
            Some(Value::String(text)) => text.as_str(),
            Some(Value::Binary(bytes)) => std::str::from_utf8(bytes).ok(),
            _ => None,
        };
        match (text, self.0) {
            (Some(text), _) => formatter.write_str(text),
            (None, Some(value)) => write!(formatter, "{value}"),
            (None, None) => formatter.write_str("-"),
        }
    }
}

/// The span each layer's `span` gives, each created inside the one before, skipping those the
/// subscriber filters out; [`tracing::Span::none`] when no layer gives one. For
/// [`Middleware::call_span`] and [`Middleware::request_span`].
pub(crate) fn nested_span(
    layers: &[Arc<dyn Middleware>],
    span: impl Fn(&dyn Middleware) -> Option<tracing::Span>,
) -> tracing::Span {
    let mut current = tracing::Span::none();
    for layer in layers {
        match current.in_scope(|| span(layer.as_ref())) {
            Some(inner) if !inner.is_disabled() => current = inner,
            _ => {}
        }
    }
    current
}

/// Runs `work` in `span`, or as it is when there is no span.
pub(crate) async fn in_span<F: Future>(span: tracing::Span, work: F) -> F::Output {
    if span.is_none() {
        work.await
    } else {
        work.instrument(span).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_ids_show_as_text_when_they_are() {
        let shown = |value: Value| MessageId(Some(&value)).to_string();
        assert_eq!(shown(Value::Binary(b"3f2a".to_vec())), "3f2a");
        assert_eq!(shown(Value::from("node-7")), "node-7");
        assert_eq!(shown(Value::Binary(vec![0xff, 0x00])), "[255, 0]");
        assert_eq!(shown(Value::from(42)), "42");
        assert_eq!(MessageId(None).to_string(), "-");
    }

    #[test]
    fn long_values_are_cut() {
        let layer = TracingLayer { max_value_chars: 5 };
        assert_eq!(layer.show(&Value::from("abcdefgh")), "\"abcd…");
        assert_eq!(layer.show(&Value::from(12)), "12");
    }
}

/// Copies entries of the header of the call being handled into every request made while
/// handling it, so that a trace id set by the first caller reaches each service down the line
/// (zerorpc-python's `get_task_context` and `load_task_context` do the same for its peers).
///
/// Add it to the client a server's handlers call other services with:
///
/// ```no_run
/// use rpcgen_runtime::{Client, PropagateHeader};
///
/// # fn demo() -> Result<(), rpcgen_runtime::SetupError> {
/// let downstream = Client::builder("tcp://127.0.0.1:4243")
///     .layer(PropagateHeader::keys(["trace_id"]))
///     .connect()?;
/// # Ok(())
/// # }
/// ```
///
/// Outside a handler (see [`CallInfo::current`]) it adds nothing.
#[derive(Debug, Clone)]
pub struct PropagateHeader {
    keys: Vec<String>,
}

impl PropagateHeader {
    /// Propagates these header keys.
    pub fn keys<K: Into<String>>(keys: impl IntoIterator<Item = K>) -> Self {
        Self {
            keys: keys.into_iter().map(Into::into).collect(),
        }
    }
}

impl Middleware for PropagateHeader {
    fn request_header(&self, _method: &str) -> Vec<(String, Value)> {
        let Some(call) = CallInfo::current() else {
            return Vec::new();
        };
        let header = call.header();
        self.keys
            .iter()
            .filter_map(|key| Some((key.clone(), header.get(key)?.clone())))
            .collect()
    }
}
