//! The errors a user of the runtime can meet: errors that travel on the wire ([`RemoteError`]),
//! the ways a client call can end without a value ([`CallError`]), and the failures of starting a
//! server or client ([`SetupError`]) or of encoding and decoding values ([`EncodeError`],
//! [`DecodeError`]).

use std::time::Duration;

/// An error as it travels in a zerorpc `ERR` event: `[name, message, traceback]`.
///
/// Handlers return it to make the server answer `ERR`; clients receive it when the server did.
/// `name` is the error's type (`"NameError"`, `"ValueError"`, or an rpcgen error type such as
/// `"NotFound"`); `traceback` is optional and travels as nil when absent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{name}: {message}")]
pub struct RemoteError {
    /// The error's type name.
    pub name: String,
    /// Human-readable text.
    pub message: String,
    /// A stack trace or any other detail; `None` travels as nil.
    pub traceback: Option<String>,
}

impl RemoteError {
    /// An error with a name and a message and no traceback.
    pub fn new(name: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            message: message.into(),
            traceback: None,
        }
    }

    /// Sets the third element of the `ERR` event.
    pub fn with_traceback(mut self, traceback: impl Into<String>) -> Self {
        self.traceback = Some(traceback.into());
        self
    }

    /// A `TypeError`, the error zerorpc peers use for wrong arguments.
    pub fn type_error(message: impl Into<String>) -> Self {
        Self::new("TypeError", message)
    }

    /// The fields of a typed rpcgen error (docs/errors.md), from the last fields line of the
    /// traceback, as a dynamic value (a map of field names); `None` when there is no such line or
    /// it does not decode. Typed clients turn them into the declared error; tools can show them.
    pub fn fields(&self) -> Option<crate::Value> {
        crate::generated_support::fields_of(self.traceback.as_deref()?)
    }

    /// The traceback as a person reads it: without the lines that carry a typed error's fields
    /// (see [`RemoteError::fields`]); `None` when nothing else is left.
    pub fn readable_traceback(&self) -> Option<String> {
        let lines: Vec<&str> = self
            .traceback
            .as_deref()?
            .lines()
            .filter(|line| !crate::generated_support::is_fields_line(line))
            .collect();
        let text = lines.join("\n");
        (!text.trim().is_empty()).then_some(text)
    }
}

/// How a client call ended when it did not produce a value. Every variant names the method.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CallError {
    /// The server answered `ERR`.
    #[error("remote method `{method}` failed with {error}")]
    Remote {
        /// The method that was called.
        method: String,
        /// The error the server sent.
        error: RemoteError,
    },
    /// No reply arrived in time (zerorpc's `TimeoutExpired`). Nothing is sent to the server
    /// (zerorpc has no cancel event), but the client stops heartbeating the call, so a server that
    /// watches heartbeats (rpcgen's, zerorpc-python's) drops its handler two to three of its
    /// heartbeat intervals later.
    ///
    /// When the client had never connected to any of its servers by then, the message says so
    /// and names them: the call most likely waited for a server that is not running.
    #[error(
        "timeout after {timeout:?}, when calling remote method `{method}`{}",
        NeverConnected(never_connected.as_deref())
    )]
    Timeout {
        /// The method that was called.
        method: String,
        /// The timeout that expired.
        timeout: Duration,
        /// The client's endpoints when it had never connected to any of them (the call waited
        /// for a connection all along); `None` when it had connected, if only before the call.
        never_connected: Option<Vec<String>>,
    },
    /// The server stopped answering heartbeats, went away, or the connection was rebuilt.
    #[error("lost the remote while calling `{method}`: {reason}")]
    LostRemote {
        /// The method that was called.
        method: String,
        /// What was observed.
        reason: String,
    },
    /// The arguments could not be encoded.
    #[error("could not encode the arguments of `{method}`: {source}")]
    Encode {
        /// The method that was called.
        method: String,
        /// The encoding failure.
        source: EncodeError,
    },
    /// The reply could not be decoded into the expected type.
    #[error("could not decode the reply of `{method}`: {source}")]
    Decode {
        /// The method that was called.
        method: String,
        /// The decoding failure.
        source: DecodeError,
    },
    /// A message was larger than the configured maximum message size.
    #[error("the {what} of `{method}` is {size} bytes, above the limit of {limit} bytes")]
    TooLarge {
        /// The method that was called.
        method: String,
        /// `"request"` or `"reply"`.
        what: &'static str,
        /// The size of the encoded message.
        size: usize,
        /// The configured maximum.
        limit: usize,
    },
    /// The server answered with something zerorpc does not allow at this point.
    #[error("remote method `{method}` broke the protocol: {detail}")]
    Protocol {
        /// The method that was called.
        method: String,
        /// What was wrong.
        detail: String,
    },
}

impl CallError {
    /// The method whose call ended in this error.
    pub fn method(&self) -> &str {
        match self {
            Self::Remote { method, .. }
            | Self::Timeout { method, .. }
            | Self::LostRemote { method, .. }
            | Self::Encode { method, .. }
            | Self::Decode { method, .. }
            | Self::TooLarge { method, .. }
            | Self::Protocol { method, .. } => method,
        }
    }

    /// The error the server sent, when the call ended in `ERR`.
    pub fn remote(&self) -> Option<&RemoteError> {
        match self {
            Self::Remote { error, .. } => Some(error),
            _ => None,
        }
    }

    /// Whether a call (not `call_stream`) failed because the method answered with a stream.
    pub fn answered_with_stream(&self) -> bool {
        matches!(self, Self::Protocol { detail, .. } if detail == STREAM_ANSWER)
    }
}

/// The end of the message of a [`CallError::Timeout`]: why no answer came, when the client
/// never connected.
struct NeverConnected<'a>(Option<&'a [String]>);

impl std::fmt::Display for NeverConnected<'_> {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            None | Some([]) => Ok(()),
            Some([endpoint]) => write!(
                formatter,
                ": never connected to `{endpoint}` (is a zerorpc server running and listening there?)"
            ),
            Some(endpoints) => {
                formatter.write_str(": never connected to any of ")?;
                for (index, endpoint) in endpoints.iter().enumerate() {
                    let separator = if index == 0 { "" } else { ", " };
                    write!(formatter, "{separator}`{endpoint}`")?;
                }
                formatter.write_str(" (are zerorpc servers running and listening there?)")
            }
        }
    }
}

/// The detail of the [`CallError::Protocol`] of a call answered with a stream.
pub(crate) const STREAM_ANSWER: &str =
    "the method answered with a stream; call it with call_stream";

/// A value could not be encoded as zerorpc peers expect it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct EncodeError(pub String);

/// A MessagePack value could not be read as the expected type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct DecodeError(pub String);

/// A server or client could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// The endpoint is not a valid ZeroMQ endpoint such as `tcp://127.0.0.1:4242` or `ipc:///tmp/s`.
    #[error("`{endpoint}` is not a valid endpoint: {reason}")]
    InvalidEndpoint {
        /// The endpoint as given.
        endpoint: String,
        /// Why it was refused.
        reason: String,
    },
    /// Binding (or subscribing) failed.
    #[error("could not {action} `{endpoint}`: {reason}")]
    Transport {
        /// `"bind"` or `"subscribe"`.
        action: &'static str,
        /// The endpoint as given.
        endpoint: String,
        /// The transport's explanation.
        reason: String,
    },
    /// A server needs at least one endpoint.
    #[error("the server has no endpoint: call `bind` or `connect` on the builder before `start`")]
    NoEndpoint,
    /// The runtime needs a Tokio runtime to run its background tasks.
    #[error(
        "rpcgen-runtime must be used inside a Tokio runtime (for example under #[tokio::main])"
    )]
    NoTokioRuntime,
    /// A heartbeat interval of zero (the heartbeat clock needs a positive period).
    #[error("the heartbeat interval must be longer than zero (`None` turns heartbeats off)")]
    ZeroHeartbeat,
}
