//! What a server serves: a named [`Service`] with methods registered by name, each with its
//! [`MethodInfo`] (wire name, doc, parameters, return type) and a handler.
//!
//! Handlers receive [`Args`], which decode positional arguments leniently and turn a wrong type
//! into a `TypeError` that names the method and the parameter. They return a value or a
//! [`RemoteError`]. Three kinds exist: async unary handlers, blocking unary handlers (run on
//! Tokio's blocking pool so they never delay heartbeats), and streaming handlers that return a
//! `Stream` of items. A handler that cannot be dropped mid-way (a blocking one, or work handed to
//! a thread) reads its call's [`Cancellation`] to stop early.

use std::collections::BTreeMap;
use std::future::Future;
use std::ops::Range;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use futures::future::BoxFuture;
use futures::stream::BoxStream;
use futures::{FutureExt, Stream, StreamExt};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::{EncodeError, RemoteError};
use crate::event::Header;
use crate::msgpack::{Head, Reader};
use crate::value::{encode_into, from_frame, from_slice};

/// Whether a method answers once or with a stream of items.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MethodKind {
    /// One `OK` or `ERR`.
    Unary,
    /// `STREAM` items then `STREAM_DONE`, or `ERR`.
    Stream,
}

/// One parameter of a method, as introspection shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamInfo {
    /// The parameter's name.
    pub name: String,
    /// Its documentation.
    pub doc: Option<String>,
    /// Its type, in the words of whoever registered it (generated code writes IDL types).
    pub type_name: Option<String>,
    /// Whether it accepts nil (an IDL `T?`). The optional parameters at the end of a method may
    /// be left out of a call: they read as nil.
    pub optional: bool,
}

impl ParamInfo {
    /// A parameter with a name only.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            doc: None,
            type_name: None,
            optional: false,
        }
    }

    /// Sets the documentation.
    pub fn doc(mut self, doc: impl Into<String>) -> Self {
        self.doc = Some(doc.into());
        self
    }

    /// Sets the type description.
    pub fn type_name(mut self, type_name: impl Into<String>) -> Self {
        self.type_name = Some(type_name.into());
        self
    }

    /// Marks the parameter optional: it accepts nil, and at the end of a method a call may
    /// leave it out.
    pub fn optional(mut self) -> Self {
        self.optional = true;
        self
    }
}

/// Everything the server knows about a method besides its handler.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MethodInfo {
    /// The name on the wire.
    pub name: String,
    /// The documentation shown by `_zerorpc_help` and `_zerorpc_inspect`.
    pub doc: Option<String>,
    /// The positional parameters; a call passes each of them, except that it may leave out the
    /// optional ones at the end (see [`MethodInfo::required_params`]).
    pub params: Vec<ParamInfo>,
    /// The return type (or item type of a stream), in the registrant's words.
    pub returns: Option<String>,
    /// Set by the registration: unary or stream.
    pub kind: MethodKind,
    /// The names of the errors the method declares (an IDL method's `throws`). An `ERR` with one
    /// of them is an answer the caller expects, which [`crate::TracingLayer`] logs at INFO, not
    /// WARN; `_zerorpc_inspect` lists them.
    pub errors: Vec<String>,
}

impl MethodInfo {
    /// A method with a wire name, no parameters and no documentation.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            doc: None,
            params: Vec::new(),
            returns: None,
            kind: MethodKind::Unary,
            errors: Vec::new(),
        }
    }

    /// Sets the documentation.
    pub fn doc(mut self, doc: impl Into<String>) -> Self {
        self.doc = Some(doc.into());
        self
    }

    /// Appends a parameter known by its name only.
    pub fn param(self, name: impl Into<String>) -> Self {
        self.param_info(ParamInfo::new(name))
    }

    /// Appends a parameter.
    pub fn param_info(mut self, param: ParamInfo) -> Self {
        self.params.push(param);
        self
    }

    /// Sets the return type description.
    pub fn returns(mut self, type_name: impl Into<String>) -> Self {
        self.returns = Some(type_name.into());
        self
    }

    /// Adds the name of an error the method declares (see [`MethodInfo::errors`]).
    pub fn error(mut self, name: impl Into<String>) -> Self {
        self.errors.push(name.into());
        self
    }

    /// Whether `error` is one the method declares.
    pub fn declares(&self, error: &RemoteError) -> bool {
        self.errors.contains(&error.name)
    }

    /// How many arguments a call must pass: every parameter up to the last one that is not
    /// optional. The optional ones after it may be left out, and read as nil.
    pub fn required_params(&self) -> usize {
        self.params
            .iter()
            .rposition(|param| !param.optional)
            .map_or(0, |last| last + 1)
    }
}

/// The positional arguments of one call, with what is needed to explain a wrong one. They stay
/// MessagePack (a view of the request's frame) until a handler decodes each into its type.
#[derive(Debug, Clone)]
pub struct Args {
    method: Arc<MethodInfo>,
    encoded: Bytes,
    /// Where argument `i` starts in `encoded`; one more entry for the end of the last.
    bounds: Vec<usize>,
    call: CallInfo,
}

/// What a handler can know of its call besides the arguments: the request's header and whether
/// the call is still wanted. From [`Args::call`], or from [`CallInfo::current`] in code that has
/// no `Args` at hand (a generated service's methods, and what they call).
#[derive(Clone, Debug)]
pub struct CallInfo {
    /// The request's header map, as MessagePack.
    header: Bytes,
    cancellation: Cancellation,
}

impl CallInfo {
    /// The call's header (as MessagePack) and cancellation.
    pub(crate) fn new(header: Bytes, cancellation: Cancellation) -> Self {
        Self {
            header,
            cancellation,
        }
    }

    /// The call being handled, from inside its handler: an async or blocking handler, the future
    /// that starts a stream, or the stream while it produces an item. `None` elsewhere.
    pub fn current() -> Option<Self> {
        CURRENT.try_with(Self::clone).ok()
    }

    /// The request's header, with any entries the caller's middleware added (a trace id, say);
    /// decoded on each call.
    pub fn header(&self) -> Header {
        Header::decode(&self.header).unwrap_or_default()
    }

    /// Whether the call is still wanted.
    pub fn cancellation(&self) -> &Cancellation {
        &self.cancellation
    }
}

/// Whether a call is still wanted, for handlers that can give up early.
///
/// An async handler needs none: when its caller is lost or the server stops without waiting, its
/// future is dropped. A blocking handler, or work an async handler hands to a thread, cannot be
/// dropped; it runs to its end unless it reads this flag between steps and returns. Get it from
/// [`Args::cancellation`], or from [`Cancellation::current`] inside a handler that has no
/// `Args` at hand (a generated service's method); clones share the flag.
///
/// ```
/// use rpcgen_runtime::{MethodInfo, RemoteError, Service};
///
/// let service = Service::new("jobs").blocking(MethodInfo::new("crunch"), |args| {
///     let cancellation = args.cancellation().clone();
///     let mut done = 0u64;
///     while done < 1_000 {
///         if cancellation.is_cancelled() {
///             return Err(RemoteError::new("Cancelled", "nobody waits for this any more"));
///         }
///         done += 1; // one step of the real work
///     }
///     Ok(done)
/// });
/// # let _ = service;
/// ```
#[derive(Clone)]
pub struct Cancellation(Arc<dyn CancelFlag>);

/// Where a call keeps its cancellation: the server's per-call state, so that handing the flag
/// to a handler costs no allocation.
pub(crate) trait CancelFlag: Send + Sync {
    /// Whether the call was cancelled.
    fn is_set(&self) -> bool;
}

impl CancelFlag for AtomicBool {
    fn is_set(&self) -> bool {
        self.load(Ordering::Acquire)
    }
}

tokio::task_local! {
    /// The call whose handler is running.
    static CURRENT: CallInfo;
}

impl Cancellation {
    /// The cancellation of the call being handled, from inside its handler: an async or blocking
    /// handler, the future that starts a stream, or the stream while it produces an item. `None`
    /// elsewhere.
    ///
    /// This is the way in for code that cannot see the call's [`Args`], such as the methods of
    /// a generated service's trait: take it there, and move it into work handed to a thread.
    pub fn current() -> Option<Self> {
        CallInfo::current().map(|call| call.cancellation)
    }

    /// The cancellation kept in `flag`.
    pub(crate) fn new(flag: Arc<dyn CancelFlag>) -> Self {
        Self(flag)
    }

    /// True once the call was cancelled: its caller stopped heartbeating, or the server stopped
    /// without waiting for it. What the handler returns after that is dropped.
    pub fn is_cancelled(&self) -> bool {
        self.0.is_set()
    }
}

impl Default for Cancellation {
    /// A call that is never cancelled.
    fn default() -> Self {
        Self(Arc::new(AtomicBool::new(false)))
    }
}

impl std::fmt::Debug for Cancellation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cancellation")
            .field("cancelled", &self.is_cancelled())
            .finish()
    }
}

impl Args {
    /// Checks the arguments of a request against the method: they must be an array with one value
    /// per parameter, but for optional parameters at the end, which may be left out.
    /// `call` is handed to the handler.
    pub(crate) fn check(
        method: Arc<MethodInfo>,
        encoded: Bytes,
        call: CallInfo,
    ) -> Result<Self, RemoteError> {
        let mut reader = Reader::new(&encoded);
        let count = match reader.head() {
            Ok(Head::Array(count)) => count,
            Ok(other) => {
                return Err(RemoteError::type_error(format!(
                    "the arguments of `{}` must be an array, not {}",
                    method.name,
                    other.kind()
                )))
            }
            Err(error) => return Err(RemoteError::type_error(error.to_string())),
        };
        let (required, all) = (method.required_params(), method.params.len());
        if !(required..=all).contains(&count) {
            let names: Vec<&str> = method.params.iter().map(|p| p.name.as_str()).collect();
            let given = format!("{count} {} given", if count == 1 { "was" } else { "were" });
            if all == 0 {
                // Perhaps the server registered the method without declaring its parameters.
                return Err(RemoteError::type_error(format!(
                    "`{}` takes no arguments but {given} (if it should take some, the server \
                     registers it without them: see `MethodInfo::param`)",
                    method.name
                )));
            }
            let takes = if required == all {
                format!("{all} argument{}", if all == 1 { "" } else { "s" })
            } else {
                format!("{required} to {all} arguments")
            };
            return Err(RemoteError::type_error(format!(
                "`{}` takes {takes} ({}) but {given}",
                method.name,
                names.join(", "),
            )));
        }
        // Only the ends of all but the last argument need finding: each is checked as it is
        // decoded, the last one up to the end of the array.
        let mut bounds = Vec::with_capacity(count + 1);
        let offset = |reader: &Reader<'_>| encoded.len() - reader.rest().len();
        bounds.push(offset(&reader));
        for _ in 1..count {
            reader
                .skip()
                .map_err(|error| RemoteError::type_error(error.to_string()))?;
            bounds.push(offset(&reader));
        }
        if count > 0 {
            bounds.push(encoded.len());
        }
        Ok(Self {
            method,
            encoded,
            bounds,
            call,
        })
    }

    /// The method being called.
    pub fn method(&self) -> &MethodInfo {
        &self.method
    }

    /// The request's header and the call's cancellation.
    pub fn call(&self) -> &CallInfo {
        &self.call
    }

    /// Tells whether the call is still wanted; see [`Cancellation`].
    pub fn cancellation(&self) -> &Cancellation {
        self.call.cancellation()
    }

    /// Decodes argument `index`; a wrong type is a `TypeError` naming the method and parameter.
    /// An optional argument the call left out reads as nil. A [`Bytes`] argument is a view of the
    /// request's bytes, not a copy.
    pub fn get<T: DeserializeOwned + 'static>(&self, index: usize) -> Result<T, RemoteError> {
        let param = self.method.params.get(index);
        let left_out = index + 1 >= self.bounds.len() && param.is_some_and(|param| param.optional);
        let param = param.map_or("?", |param| param.name.as_str());
        if left_out {
            return from_slice(NIL).map_err(|error| {
                RemoteError::type_error(format!(
                    "argument {index} (`{param}`) of `{}` was left out, and does not read as nil: \
                     {error}",
                    self.method.name
                ))
            });
        }
        if index >= self.method.params.len() {
            // A server bug, not the caller's: the request was checked against the declaration.
            return Err(RemoteError::type_error(format!(
                "the handler of `{}` reads argument {index}, but the method is registered with \
                 {} parameter(s): declare each with `MethodInfo::param`",
                self.method.name,
                self.method.params.len()
            )));
        }
        let (Some(&start), Some(&end)) = (self.bounds.get(index), self.bounds.get(index + 1))
        else {
            return Err(RemoteError::type_error(format!(
                "`{}` has no argument {index} (`{param}`)",
                self.method.name
            )));
        };
        from_frame(&self.encoded, &self.encoded[start..end]).map_err(|error| {
            RemoteError::type_error(format!(
                "argument {index} (`{param}`) of `{}` has the wrong type: {error}",
                self.method.name
            ))
        })
    }
}

/// MessagePack's nil: the value of an optional argument a call left out.
const NIL: &[u8] = &[0xc0];

/// A result already encoded as MessagePack, or the error to send instead.
pub(crate) type Reply = Result<EncodedValue, RemoteError>;
/// The items of a stream, encoded.
pub(crate) type ItemStream = BoxStream<'static, Reply>;

type AsyncHandler = dyn Fn(Args) -> BoxFuture<'static, Reply> + Send + Sync;
type BlockingHandler = dyn Fn(Args) -> Reply + Send + Sync;
type StreamHandler =
    dyn Fn(Args) -> BoxFuture<'static, Result<ItemStream, RemoteError>> + Send + Sync;

/// A registered handler, with its result type erased.
#[derive(Clone)]
pub(crate) enum Handler {
    Async(Arc<AsyncHandler>),
    Blocking(Arc<BlockingHandler>),
    Stream(Arc<StreamHandler>),
}

/// A registered method.
#[derive(Clone)]
pub(crate) struct Method {
    pub info: Arc<MethodInfo>,
    pub handler: Handler,
}

/// A named set of methods that a [`crate::Server`] serves.
///
/// Each method is registered with its [`MethodInfo`] (name, doc, parameters: what
/// introspection shows and what argument checks use) and a handler of one of three kinds: an
/// async function ([`Service::unary`]), a blocking one that runs on Tokio's blocking pool
/// ([`Service::blocking`]), or one that answers with a stream ([`Service::stream`]). Generated
/// code registers a trait's methods this way.
///
/// ```
/// use rpcgen_runtime::{Client, MethodInfo, ParamInfo, RemoteError, Server, Service, StreamExt};
///
/// # #[tokio::main]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let service = Service::new("Greeter")
///     .doc("Says hello.")
///     .unary(
///         MethodInfo::new("hello")
///             .param("name")
///             .param_info(ParamInfo::new("greeting").optional()),
///         |args| async move {
///             let name: String = args.get(0)?;
///             // A call may leave out an optional parameter at the end: it reads as `None`.
///             let greeting: Option<String> = args.get(1)?;
///             Ok::<_, RemoteError>(format!("{}, {name}!", greeting.as_deref().unwrap_or("Hello")))
///         },
///     )
///     .blocking(MethodInfo::new("checksum").param("data"), |args| {
///         let data: rpcgen_runtime::Bytes = args.get(0)?;
///         Ok(data.iter().map(|&byte| u64::from(byte)).sum::<u64>())
///     })
///     .stream(MethodInfo::new("countdown").param("from"), |args| async move {
///         let from: u32 = args.get(0)?;
///         Ok(futures::stream::iter((0..=from).rev().map(Ok::<_, RemoteError>)))
///     });
///
/// let server = Server::bind("tcp://127.0.0.1:0", service).await?;
/// let client = Client::connect(server.endpoint())?;
/// let hello: String = client.call("hello", ("Ada",)).await?;
/// assert_eq!(hello, "Hello, Ada!");
/// let sum: u64 = client.call("checksum", (serde_bytes::Bytes::new(&[1, 2, 3]),)).await?;
/// assert_eq!(sum, 6);
/// let items: Vec<u32> = client
///     .call_stream::<u32, _>("countdown", (3,))
///     .await?
///     .map(|item| item.expect("an item"))
///     .collect()
///     .await;
/// assert_eq!(items, [3, 2, 1, 0]);
/// server.shutdown().await;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct Service {
    name: String,
    doc: Option<String>,
    contract: Option<Contract>,
    methods: BTreeMap<String, Method>,
}

impl std::fmt::Debug for Service {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Service")
            .field("name", &self.name)
            .field("methods", &self.methods.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// The definition a service was generated from, as text files, which `_zerorpc_inspect` hands to
/// callers (`rpcgen pull` writes them out). The runtime does not read them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Contract {
    /// The name of the file that declares the service.
    pub root: String,
    /// Every file of the definition, by name, the root included: the files it imports, then the
    /// root.
    pub files: Vec<(String, String)>,
}

/// Encodes the result of `method`, or explains why it cannot be sent.
pub(crate) fn encode_result<T: Serialize + Send + 'static>(method: &str, value: T) -> Reply {
    EncodedValue::encode(value).map_err(|error| {
        RemoteError::new(
            "EncodeError",
            format!("could not encode the result of `{method}`: {error}"),
        )
    })
}

/// A handler's result encoded as MessagePack behind spare room for the start of the event that
/// carries it, so that a large result is sent without being copied into a new buffer.
pub(crate) struct EncodedValue {
    buffer: Vec<u8>,
    /// The value itself, when it is large enough that freeing it should wait until its reply
    /// is on its way (freeing a 100-entry map takes microseconds).
    source: Option<Box<dyn Send>>,
}

impl EncodedValue {
    /// The room kept in front of the value: enough for the start of a reply on a channel whose
    /// id is up to 64 bytes long (zerorpc-python's and ours take 34).
    const HEADROOM: usize = 128;

    /// From this many encoded bytes on, a value that owns memory is freed after its reply.
    const FREE_AFTER_REPLY: usize = 1024;

    fn encode<T: Serialize + Send + 'static>(value: T) -> Result<Self, EncodeError> {
        // Small values fit beside the headroom without growing the buffer.
        let mut buffer = Vec::with_capacity(2 * Self::HEADROOM);
        buffer.resize(Self::HEADROOM, 0);
        encode_into(&mut buffer, &value)?;
        let large = buffer.len() - Self::HEADROOM >= Self::FREE_AFTER_REPLY;
        let source =
            (large && std::mem::needs_drop::<T>()).then(|| Box::new(value) as Box<dyn Send>);
        Ok(Self { buffer, source })
    }

    /// Takes the value the bytes were encoded from, when its freeing was put off (see
    /// [`EncodedValue::FREE_AFTER_REPLY`]).
    pub fn take_source(&mut self) -> Option<Box<dyn Send>> {
        self.source.take()
    }

    /// The value's MessagePack bytes.
    pub fn value(&self) -> &[u8] {
        &self.buffer[Self::HEADROOM..]
    }

    /// The event made of `prefix` followed by the value, and where the value lies in it. The
    /// value is not copied when the prefix fits in the room kept for it.
    pub fn into_event(mut self, prefix: &[u8]) -> (Bytes, Range<usize>) {
        let value_len = self.buffer.len() - Self::HEADROOM;
        let value = prefix.len()..prefix.len() + value_len;
        match Self::HEADROOM.checked_sub(prefix.len()) {
            Some(start) => {
                self.buffer[start..Self::HEADROOM].copy_from_slice(prefix);
                (Bytes::from(self.buffer).slice(start..), value)
            }
            None => {
                let mut event = Vec::with_capacity(prefix.len() + value_len);
                event.extend_from_slice(prefix);
                event.extend_from_slice(self.value());
                (Bytes::from(event), value)
            }
        }
    }
}

impl Service {
    /// An empty service; its name is what `_zerorpc_name` and `_zerorpc_ping` report.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            doc: None,
            contract: None,
            methods: BTreeMap::new(),
        }
    }

    /// Sets the service's documentation.
    pub fn doc(mut self, doc: impl Into<String>) -> Self {
        self.doc = Some(doc.into());
        self
    }

    /// Sets the definition the service was generated from: `files` by name, `root` the one that
    /// declares the service. Generated code passes its `.rpc` contract here.
    pub fn contract<N, T>(
        mut self,
        root: impl Into<String>,
        files: impl IntoIterator<Item = (N, T)>,
    ) -> Self
    where
        N: Into<String>,
        T: Into<String>,
    {
        self.contract = Some(Contract {
            root: root.into(),
            files: files
                .into_iter()
                .map(|(name, text)| (name.into(), text.into()))
                .collect(),
        });
        self
    }

    /// The definition set with [`Service::contract`].
    pub(crate) fn published_contract(&self) -> Option<&Contract> {
        self.contract.as_ref()
    }

    /// The service's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The service's documentation.
    pub fn documentation(&self) -> Option<&str> {
        self.doc.as_deref()
    }

    /// The registered methods, by name.
    pub fn methods(&self) -> impl Iterator<Item = &MethodInfo> {
        self.methods.values().map(|method| method.info.as_ref())
    }

    pub(crate) fn method(&self, name: &str) -> Option<&Method> {
        self.methods.get(name)
    }

    /// What was registered for the method named `name`, if there is one.
    pub fn registered(&self, name: &str) -> Option<&MethodInfo> {
        self.methods.get(name).map(|method| method.info.as_ref())
    }

    /// Registers an async handler that answers once.
    ///
    /// # Panics
    /// When a method with the same wire name is already registered.
    pub fn unary<F, Fut, T>(self, info: MethodInfo, handler: F) -> Self
    where
        F: Fn(Args) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<T, RemoteError>> + Send + 'static,
        T: Serialize + Send + 'static,
    {
        let name: Arc<str> = info.name.as_str().into();
        let handler = move |args: Args| {
            let method = name.clone();
            let call = args.call.clone();
            CURRENT
                .scope(call, handler(args))
                .map(move |result| result.and_then(|value| encode_result(&method, value)))
                .boxed()
        };
        self.register(info, MethodKind::Unary, Handler::Async(Arc::new(handler)))
    }

    /// Registers a synchronous handler that answers once; it runs on Tokio's blocking pool, so
    /// it may block or compute for long without stopping heartbeats or other calls.
    ///
    /// # Panics
    /// When a method with the same wire name is already registered.
    pub fn blocking<F, T>(self, info: MethodInfo, handler: F) -> Self
    where
        F: Fn(Args) -> Result<T, RemoteError> + Send + Sync + 'static,
        T: Serialize + Send + 'static,
    {
        let name = info.name.clone();
        let handler = move |args: Args| {
            let call = args.call.clone();
            CURRENT
                .sync_scope(call, || handler(args))
                .and_then(|value| encode_result(&name, value))
        };
        self.register(
            info,
            MethodKind::Unary,
            Handler::Blocking(Arc::new(handler)),
        )
    }

    /// Registers a streaming handler: it returns a stream of items (or fails before the first).
    /// An item error ends the stream with `ERR` after the items already sent.
    ///
    /// # Panics
    /// When a method with the same wire name is already registered.
    pub fn stream<F, Fut, S, T>(self, info: MethodInfo, handler: F) -> Self
    where
        F: Fn(Args) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<S, RemoteError>> + Send + 'static,
        S: Stream<Item = Result<T, RemoteError>> + Send + 'static,
        T: Serialize + Send + 'static,
    {
        let name: Arc<str> = info.name.as_str().into();
        let handler = move |args: Args| {
            let method = name.clone();
            let call = args.call.clone();
            let call_of_items = call.clone();
            CURRENT
                .scope(call, handler(args))
                .map(move |started| {
                    started.map(|items| {
                        // Each item is produced inside the call too (a stream may call onward).
                        let mut items = Box::pin(items);
                        futures::stream::poll_fn(move |context| {
                            CURRENT.sync_scope(call_of_items.clone(), || {
                                items.poll_next_unpin(context)
                            })
                        })
                        .map(move |item| item.and_then(|value| encode_result(&method, value)))
                        .boxed()
                    })
                })
                .boxed()
        };
        self.register(info, MethodKind::Stream, Handler::Stream(Arc::new(handler)))
    }

    fn register(mut self, mut info: MethodInfo, kind: MethodKind, handler: Handler) -> Self {
        info.kind = kind;
        let name = info.name.clone();
        let method = Method {
            info: Arc::new(info),
            handler,
        };
        if self.methods.insert(name.clone(), method).is_some() {
            panic!(
                "service `{}` registers method `{name}` twice; wire names must be unique",
                self.name
            );
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rmpv::Value;

    fn check_args(method: Arc<MethodInfo>, encoded: Bytes) -> Result<Args, RemoteError> {
        Args::check(
            method,
            encoded,
            CallInfo::new(Bytes::new(), Cancellation::default()),
        )
    }

    fn encoded(value: Value) -> Bytes {
        let mut bytes = Vec::new();
        rmpv::encode::write_value(&mut bytes, &value).unwrap();
        Bytes::from(bytes)
    }

    fn add_info() -> Arc<MethodInfo> {
        Arc::new(MethodInfo::new("add").param("a").param("b"))
    }

    #[test]
    fn only_large_values_that_own_memory_are_freed_after_their_reply() {
        let large_text = "x".repeat(EncodedValue::FREE_AFTER_REPLY);
        let mut encoded = EncodedValue::encode(large_text.clone()).unwrap();
        assert!(encoded.take_source().is_some());
        assert!(encoded.value().ends_with(large_text.as_bytes()));
        let mut small = EncodedValue::encode("x".to_string()).unwrap();
        assert!(small.take_source().is_none());
        // Plain numbers own nothing: there is nothing to put off.
        let mut numbers = EncodedValue::encode([[7u64; 32]; 32]).unwrap();
        assert!(numbers.value().len() >= EncodedValue::FREE_AFTER_REPLY);
        assert!(numbers.take_source().is_none());
    }

    #[test]
    fn a_blocking_handler_sees_its_call_s_cancellation() {
        assert!(Cancellation::current().is_none());
        let service = Service::new("s").blocking(MethodInfo::new("b"), |args| {
            let current = Cancellation::current().expect("inside the handler");
            Ok((current.is_cancelled(), args.cancellation().is_cancelled()))
        });
        let method = service.method("b").unwrap();
        let Handler::Blocking(handler) = &method.handler else {
            panic!("registered as blocking");
        };
        let cancelled = Arc::new(AtomicBool::new(true));
        let cancellation = Cancellation::new(cancelled);
        let args = Args::check(
            method.info.clone(),
            encoded(Value::Array(vec![])),
            CallInfo::new(Bytes::new(), cancellation),
        );
        let reply = handler(args.unwrap()).unwrap();
        // (true, true): both ways in read the same flag.
        assert_eq!(reply.value(), [0x92, 0xc3, 0xc3]);
        assert!(Cancellation::current().is_none());
    }

    #[test]
    fn wrong_argument_counts_name_the_method_and_its_parameters() {
        let error =
            check_args(add_info(), encoded(Value::Array(vec![Value::from(1)]))).unwrap_err();
        assert_eq!(error.name, "TypeError");
        assert_eq!(
            error.message,
            "`add` takes 2 arguments (a, b) but 1 was given"
        );
        let error = check_args(add_info(), encoded(Value::from("ab"))).unwrap_err();
        assert_eq!(
            error.message,
            "the arguments of `add` must be an array, not a string"
        );
    }

    #[test]
    fn a_method_registered_without_its_parameters_is_explained_on_both_sides() {
        let undeclared = Arc::new(MethodInfo::new("add"));
        let two = encoded(Value::Array(vec![Value::from(1), Value::from(2)]));
        let error = check_args(undeclared.clone(), two).unwrap_err();
        assert_eq!(
            error.message,
            "`add` takes no arguments but 2 were given (if it should take some, the server \
             registers it without them: see `MethodInfo::param`)"
        );
        let args = check_args(undeclared, encoded(Value::Array(vec![]))).unwrap();
        let error = args.get::<i64>(0).unwrap_err();
        assert_eq!(
            error.message,
            "the handler of `add` reads argument 0, but the method is registered with 0 \
             parameter(s): declare each with `MethodInfo::param`"
        );
    }

    #[test]
    fn optional_parameters_at_the_end_may_be_left_out() {
        let info = Arc::new(
            MethodInfo::new("find")
                .param_info(ParamInfo::new("hint").optional())
                .param("name")
                .param_info(ParamInfo::new("limit").optional())
                .param_info(ParamInfo::new("offset").optional()),
        );
        assert_eq!(info.required_params(), 2);
        let two = vec![Value::Nil, Value::from("x")];
        let args = check_args(info.clone(), encoded(Value::Array(two))).unwrap();
        assert_eq!(args.get::<Option<u32>>(2).unwrap(), None);
        assert_eq!(args.get::<Option<u32>>(3).unwrap(), None);
        let three = vec![Value::Nil, Value::from("x"), Value::from(7)];
        let args = check_args(info.clone(), encoded(Value::Array(three))).unwrap();
        assert_eq!(args.get::<Option<u32>>(2).unwrap(), Some(7));
        assert_eq!(args.get::<Option<u32>>(3).unwrap(), None);
        // Left out, it reads as nil: a type that refuses nil says so.
        let error = args.get::<u32>(3).unwrap_err();
        assert!(
            error
                .message
                .starts_with("argument 3 (`offset`) of `find` was left out"),
            "{}",
            error.message
        );
        let error = check_args(info, encoded(Value::Array(vec![Value::Nil]))).unwrap_err();
        assert_eq!(
            error.message,
            "`find` takes 2 to 4 arguments (hint, name, limit, offset) but 1 was given"
        );
    }

    #[test]
    fn wrong_argument_types_name_the_parameter() {
        let args = check_args(
            add_info(),
            encoded(Value::Array(vec![Value::from(1), Value::from("x")])),
        )
        .unwrap();
        assert_eq!(args.get::<i64>(0).unwrap(), 1);
        let error = args.get::<i64>(1).unwrap_err();
        assert_eq!(error.name, "TypeError");
        assert!(
            error
                .message
                .starts_with("argument 1 (`b`) of `add` has the wrong type"),
            "{}",
            error.message
        );
    }

    #[test]
    #[should_panic(expected = "registers method `x` twice")]
    fn duplicate_names_are_refused() {
        let handler = |_: Args| Ok(());
        let _ = Service::new("S")
            .blocking(MethodInfo::new("x"), handler)
            .blocking(MethodInfo::new("x"), handler);
    }

    #[test]
    fn methods_are_listed_by_name_with_their_kind() {
        let service = Service::new("S")
            .blocking(MethodInfo::new("b"), |_| Ok(1))
            .stream(MethodInfo::new("a"), |_| async {
                Ok(futures::stream::empty::<Result<u8, RemoteError>>())
            });
        let listed: Vec<_> = service
            .methods()
            .map(|info| (info.name.as_str(), info.kind))
            .collect();
        assert_eq!(
            listed,
            [("a", MethodKind::Stream), ("b", MethodKind::Unary)]
        );
    }

    #[test]
    fn an_encoded_value_takes_its_event_prefix_in_front_without_a_copy() {
        let value = EncodedValue::encode("hello").unwrap();
        let copied_from = value.value().as_ptr();
        let (event, range) = value.into_event(b"prefix");
        assert_eq!(&event[..], b"prefix\xa5hello");
        assert_eq!(&event[range.clone()], b"\xa5hello");
        assert_eq!(event[range].as_ptr(), copied_from);
    }

    #[test]
    fn a_prefix_longer_than_the_headroom_is_copied_in_front() {
        let prefix = vec![b'p'; EncodedValue::HEADROOM + 1];
        let (event, range) = EncodedValue::encode(7u8).unwrap().into_event(&prefix);
        assert_eq!(&event[..prefix.len()], &prefix[..]);
        assert_eq!(&event[range], [7]);
    }
}
