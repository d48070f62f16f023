//! zerorpc events: the MessagePack array `[header, name, args]` that every ZeroMQ message carries.
//!
//! [`Event`] is the dynamic form, for tests and tools: the header is kept as an ordered map of
//! dynamic values so that keys we do not know (added by zerorpc-python's tracing middleware, for
//! example) survive, and message ids stay opaque values that are echoed with their exact
//! MessagePack type in `response_to`. Servers and clients read received events in place instead
//! (the crate's `Frame`), keeping ids as their MessagePack bytes. Our own ids follow
//! zerorpc-python's style, so our traffic is byte-compatible with its captured vectors.

use std::ops::Range;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;

use bytes::Bytes;
use rmpv::Value;

use crate::msgpack::{Head, Malformed, Reader};
use crate::value::read_value;

/// Event name of a successful reply: args `[value]`.
pub const OK: &str = "OK";
/// Event name of an error reply: args `[name, message, traceback]`.
pub const ERR: &str = "ERR";
/// Event name of one stream item: args is the bare item.
pub const STREAM: &str = "STREAM";
/// Event name of the end of a stream: args nil (zerorpc-python) or `[]` (zerorpc-node).
pub const STREAM_DONE: &str = "STREAM_DONE";
/// Event name of a heartbeat: args `[0]`.
pub const HEARTBEAT: &str = "_zpc_hb";
/// Event name of a flow-control credit: args `[n]`.
pub const MORE: &str = "_zpc_more";

/// The protocol version we speak and put in every header.
pub const PROTOCOL_VERSION: u8 = 3;

const MESSAGE_ID: &str = "message_id";
const VERSION: &str = "v";
const RESPONSE_TO: &str = "response_to";

/// An event header: an ordered map with `message_id`, `v`, maybe `response_to`, and any other key.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Header {
    entries: Vec<(Value, Value)>,
}

impl Header {
    /// A header for a new event: a fresh message id and `v: 3`, in zerorpc-python's key order.
    pub fn new() -> Self {
        Self {
            entries: vec![
                (Value::from(MESSAGE_ID), new_message_id()),
                (Value::from(VERSION), Value::from(PROTOCOL_VERSION)),
            ],
        }
    }

    /// A header for an event of an open channel: [`Header::new`] plus `response_to`, which must
    /// be the channel id exactly as received.
    pub fn reply_to(channel_id: &Value) -> Self {
        Self {
            entries: vec![
                (Value::from(MESSAGE_ID), new_message_id()),
                (Value::from(VERSION), Value::from(PROTOCOL_VERSION)),
                (Value::from(RESPONSE_TO), channel_id.clone()),
            ],
        }
    }

    /// The header's entries, in order.
    pub fn entries(&self) -> &[(Value, Value)] {
        &self.entries
    }

    /// The value of a string key, if present.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.entries
            .iter()
            .find(|(name, _)| name.as_str() == Some(key))
            .map(|(_, value)| value)
    }

    /// Sets a string key: replaces its value where it is, or appends it. `response_to` stays last,
    /// as zerorpc-python writes it.
    pub fn insert(&mut self, key: &str, value: Value) {
        if let Some(entry) = self
            .entries
            .iter_mut()
            .find(|(name, _)| name.as_str() == Some(key))
        {
            entry.1 = value;
            return;
        }
        let position = match self.response_to() {
            Some(_) if key != RESPONSE_TO => self.entries.len() - 1,
            _ => self.entries.len(),
        };
        self.entries.insert(position, (Value::from(key), value));
    }

    /// The event's own id.
    pub fn message_id(&self) -> Option<&Value> {
        self.get(MESSAGE_ID)
    }

    /// The id of the channel the event belongs to; absent on the event that opens a channel.
    pub fn response_to(&self) -> Option<&Value> {
        self.get(RESPONSE_TO)
    }

    /// The protocol version the sender declared.
    pub fn version(&self) -> Option<u64> {
        self.get(VERSION).and_then(Value::as_u64)
    }
}

/// A decoded event.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// The header.
    pub header: Header,
    /// The method name or one of the protocol names ([`OK`], [`ERR`], [`STREAM`], ...).
    pub name: String,
    /// The arguments: an array for requests, see the protocol for the others.
    pub args: Value,
}

/// Why a frame is not a zerorpc event. When the header could be read but the name after it
/// could not, the header is kept, so a server can still answer the sender with an `ERR`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{reason}")]
pub struct EventDecodeError {
    /// What is wrong with the frame.
    pub reason: String,
    /// The header, when it was a valid map with a `message_id` and what failed was the name
    /// after it (not when the arguments fail to decode).
    pub header: Option<Header>,
}

/// A frame that is not an event, as [`Frame::parse`] found it.
#[derive(Debug)]
pub(crate) struct Unparsed {
    /// Why, with the header when it could be read.
    pub error: EventDecodeError,
    /// The header's `message_id`, as the exact bytes received, when the header could be read.
    pub message_id: Option<Bytes>,
    /// The header's `response_to`, likewise.
    pub response_to: Option<Bytes>,
}

/// What [`Layout::find`] knows of a frame that is not an event: why, and where the header's ids
/// lie when the header could be read.
struct Broken {
    error: EventDecodeError,
    ids: Option<(Range<usize>, Option<Range<usize>>)>,
}

impl Event {
    /// Builds an event with a fresh header.
    pub fn new(name: impl Into<String>, args: Value) -> Self {
        Self {
            header: Header::new(),
            name: name.into(),
            args,
        }
    }

    /// Decodes one ZeroMQ frame.
    pub fn decode(bytes: &[u8]) -> Result<Self, EventDecodeError> {
        let layout = Layout::find(bytes).map_err(|broken| broken.error)?;
        let fail = |reason: String| EventDecodeError {
            reason,
            header: None,
        };
        let undecodable = |error: rmpv::decode::Error| {
            fail(format!("the frame is not valid MessagePack: {error}"))
        };
        let mut args = &bytes[layout.args.clone()];
        let args_value = read_value(&mut args).map_err(undecodable)?;
        if !args.is_empty() {
            return Err(fail(format!("{} bytes follow the event", args.len())));
        }
        Ok(Self {
            header: Header::decode(&bytes[layout.header.clone()]).map_err(undecodable)?,
            name: layout.name(bytes).to_string(),
            args: args_value,
        })
    }

    /// Encodes the event as one frame.
    pub fn encode(&self) -> Vec<u8> {
        let mut args = Vec::new();
        write_value(&mut args, &self.args);
        encode_event(&self.header, &self.name, &args)
    }
}

impl Header {
    /// Decodes a header map.
    pub(crate) fn decode(bytes: &[u8]) -> Result<Self, rmpv::decode::Error> {
        match read_value(&mut &bytes[..])? {
            Value::Map(entries) => Ok(Self { entries }),
            _ => Ok(Self::default()),
        }
    }
}

/// Where the parts of an event lie in its frame.
#[derive(Debug, Clone)]
struct Layout {
    header: Range<usize>,
    message_id: Range<usize>,
    response_to: Option<Range<usize>>,
    /// The name's UTF-8 bytes, without their MessagePack marker.
    name: Range<usize>,
    args: Range<usize>,
}

impl Layout {
    /// Checks that `frame` starts like an event (an array of 3, a header map with a
    /// `message_id`, a `str` name) and finds its parts, without decoding any value. The arguments
    /// are the rest of the frame; whoever decodes them checks them.
    fn find(frame: &[u8]) -> Result<Self, Broken> {
        let fail = |reason: String| Broken {
            error: EventDecodeError {
                reason,
                header: None,
            },
            ids: None,
        };
        let malformed =
            |error: Malformed| fail(format!("the frame is not valid MessagePack: {error}"));
        let mut reader = Reader::new(frame);
        let offset = |reader: &Reader<'_>| frame.len() - reader.rest().len();
        match reader.head().map_err(malformed)? {
            Head::Array(3) => {}
            Head::Array(_) => return Err(fail("the event is not an array of 3".into())),
            _ => return Err(fail("the event is not an array".into())),
        }
        let header_start = offset(&reader);
        let Head::Map(entries) = reader.head().map_err(malformed)? else {
            return Err(fail("the event header is not a map".into()));
        };
        let (mut message_id, mut response_to) = (None, None);
        for _ in 0..entries {
            let key = reader.skip().map_err(malformed)?;
            let value_start = offset(&reader);
            reader.skip().map_err(malformed)?;
            let value = Some(value_start..offset(&reader));
            match Reader::new(key).head() {
                Ok(Head::Str(b"message_id")) if message_id.is_none() => message_id = value,
                Ok(Head::Str(b"response_to")) if response_to.is_none() => response_to = value,
                _ => {}
            }
        }
        let header = header_start..offset(&reader);
        let Some(message_id) = message_id else {
            return Err(fail("the event header has no message_id".into()));
        };
        // From here on the header is known: an error keeps it, so that the event's sender can
        // be answered (a request) or its call told (a reply).
        let after_header = |reason: String| Broken {
            error: EventDecodeError {
                reason,
                header: Header::decode(&frame[header.clone()]).ok(),
            },
            ids: Some((message_id.clone(), response_to.clone())),
        };
        match reader.head() {
            Ok(Head::Str(name)) if std::str::from_utf8(name).is_ok() => {
                let name_end = offset(&reader);
                Ok(Self {
                    header,
                    message_id,
                    response_to,
                    name: name_end - name.len()..name_end,
                    args: name_end..frame.len(),
                })
            }
            Ok(_) => Err(after_header(
                "the event name is not a MessagePack str".into(),
            )),
            Err(error) => Err(after_header(format!(
                "the frame is not valid MessagePack: {error}"
            ))),
        }
    }

    fn name<'a>(&self, frame: &'a [u8]) -> &'a str {
        // `find` checked that the name is UTF-8.
        std::str::from_utf8(&frame[self.name.clone()]).unwrap_or_default()
    }
}

/// A received event kept as its frame: the name, the arguments and the ids in the header are
/// read in place, so routing an event and decoding its arguments into typed values never builds
/// a dynamic value. Ids are their exact MessagePack bytes, which is also what is echoed in
/// `response_to`.
#[derive(Debug, Clone)]
pub(crate) struct Frame {
    bytes: Bytes,
    layout: Layout,
}

impl Frame {
    /// Checks that `bytes` is one zerorpc event and finds its parts.
    pub fn parse(bytes: Bytes) -> Result<Self, Unparsed> {
        match Layout::find(&bytes) {
            Ok(layout) => Ok(Self { bytes, layout }),
            Err(Broken { error, ids }) => {
                let (message_id, response_to) = match ids {
                    Some((id, to)) => (Some(bytes.slice(id)), to.map(|to| bytes.slice(to))),
                    None => (None, None),
                };
                Err(Unparsed {
                    error,
                    message_id,
                    response_to,
                })
            }
        }
    }

    /// The event's name.
    pub fn name(&self) -> &str {
        self.layout.name(&self.bytes)
    }

    /// The arguments, as MessagePack.
    pub fn args(&self) -> Bytes {
        self.bytes.slice(self.layout.args.clone())
    }

    /// The arguments as a dynamic value (for middleware).
    pub fn args_value(&self) -> Value {
        read_value(&mut &self.bytes[self.layout.args.clone()]).unwrap_or(Value::Nil)
    }

    /// The event's own id, as MessagePack.
    pub fn message_id(&self) -> Bytes {
        self.bytes.slice(self.layout.message_id.clone())
    }

    /// The channel the event belongs to, as MessagePack; absent on a request.
    pub fn response_to(&self) -> Option<Bytes> {
        let range = self.layout.response_to.clone()?;
        Some(self.bytes.slice(range))
    }

    /// The header map, as MessagePack.
    pub fn header_bytes(&self) -> Bytes {
        self.bytes.slice(self.layout.header.clone())
    }

    /// The header as dynamic values (for middleware).
    pub fn header(&self) -> Header {
        Header::decode(&self.bytes[self.layout.header.clone()]).unwrap_or_default()
    }
}

/// Encodes an event from a header, a name and arguments that are already MessagePack.
pub fn encode_event(header: &Header, name: &str, encoded_args: &[u8]) -> Vec<u8> {
    let mut frame = event_prefix(header, name, encoded_args.len());
    frame.extend_from_slice(encoded_args);
    frame
}

/// Encodes the start of an event, up to its arguments, into a buffer with room for
/// `args_capacity` more bytes: the caller appends the arguments' MessagePack.
pub fn event_prefix(header: &Header, name: &str, args_capacity: usize) -> Vec<u8> {
    let mut frame = start_frame(header.entries.len(), name, args_capacity);
    for (key, value) in &header.entries {
        write_value(&mut frame, key);
        write_value(&mut frame, value);
    }
    write_str(&mut frame, name);
    frame
}

/// The same bytes as [`event_prefix`] with [`Header::new`] followed by the entries of `extras`,
/// written without building the header: the start of a request. Returns the buffer and where the
/// new message id (as MessagePack) lies in it. `extras` must not hold the protocol's keys (see
/// [`is_protocol_key`]).
pub fn request_prefix(
    name: &str,
    extras: &Header,
    args_capacity: usize,
) -> (Vec<u8>, Range<usize>) {
    let mut frame = start_frame(2 + extras.entries.len(), name, args_capacity);
    write_str(&mut frame, MESSAGE_ID);
    let id_start = frame.len();
    write_message_id(&mut frame);
    let id = id_start..frame.len();
    write_str(&mut frame, VERSION);
    // Writing into a Vec cannot fail.
    let _ = rmp::encode::write_uint(&mut frame, PROTOCOL_VERSION.into());
    for (key, value) in &extras.entries {
        write_value(&mut frame, key);
        write_value(&mut frame, value);
    }
    write_str(&mut frame, name);
    (frame, id)
}

/// Whether a header key is one the protocol itself uses (`message_id`, `v`, `response_to`).
pub fn is_protocol_key(key: &str) -> bool {
    [MESSAGE_ID, VERSION, RESPONSE_TO].contains(&key)
}

/// The same bytes as [`event_prefix`] with [`Header::reply_to`], written without building the
/// header: the start of every event sent on an open channel. `channel_id` is the id as
/// MessagePack, exactly as it was received.
pub fn reply_prefix(channel_id: &[u8], name: &str, args_capacity: usize) -> Vec<u8> {
    let mut frame = start_frame(3, name, args_capacity + channel_id.len());
    write_str(&mut frame, MESSAGE_ID);
    write_message_id(&mut frame);
    write_str(&mut frame, VERSION);
    // Writing into a Vec cannot fail.
    let _ = rmp::encode::write_uint(&mut frame, PROTOCOL_VERSION.into());
    write_str(&mut frame, RESPONSE_TO);
    frame.extend_from_slice(channel_id);
    write_str(&mut frame, name);
    frame
}

/// A buffer for an event, started with the event's array and its header's map length.
fn start_frame(header_entries: usize, name: &str, args_capacity: usize) -> Vec<u8> {
    // The array and our header take 50 bytes, plus `response_to` and its id on a channel.
    let mut frame = Vec::with_capacity(64 + name.len() + args_capacity);
    // Writing into a Vec cannot fail.
    let _ = rmp::encode::write_array_len(&mut frame, 3);
    let _ = rmp::encode::write_map_len(&mut frame, header_entries as u32);
    frame
}

fn write_str(buffer: &mut Vec<u8>, text: &str) {
    // Writing into a Vec cannot fail.
    let _ = rmp::encode::write_str(buffer, text);
}

fn write_value(buffer: &mut Vec<u8>, value: &Value) {
    // Writing into a Vec cannot fail.
    let _ = rmpv::encode::write_value(buffer, value);
}

/// The bytes that identify a message id in lookup tables: its MessagePack encoding, so a `str`
/// id and a `bin` id with the same characters are different channels, as on the wire.
pub fn id_key(id: &Value) -> Vec<u8> {
    let mut key = Vec::new();
    write_value(&mut key, id);
    key
}

/// A fresh message id in zerorpc-python's style: `bin` of 32 lowercase hex characters, an 8-hex
/// counter (random start, +1 per event, shared by the process) then 24 hex characters of a random
/// version-4 UUID that is fixed for the process.
pub fn new_message_id() -> Value {
    Value::Binary(message_id_text().to_vec())
}

/// Appends a fresh message id (see [`new_message_id`]) as MessagePack `bin`.
fn write_message_id(buffer: &mut Vec<u8>) {
    buffer.extend_from_slice(&[0xc4, 32]);
    buffer.extend_from_slice(&message_id_text());
}

fn message_id_text() -> [u8; 32] {
    struct Generator {
        counter: AtomicU32,
        suffix: [u8; 24],
    }
    const HEX_DIGITS: &[u8; 16] = b"0123456789abcdef";
    static GENERATOR: OnceLock<Generator> = OnceLock::new();
    let hex = |byte: &u8| {
        [
            HEX_DIGITS[usize::from(byte >> 4)],
            HEX_DIGITS[usize::from(byte & 0xf)],
        ]
    };
    let generator = GENERATOR.get_or_init(|| {
        let mut uuid: [u8; 16] = rand::random();
        uuid[6] = (uuid[6] & 0x0f) | 0x40;
        uuid[8] = (uuid[8] & 0x3f) | 0x80;
        let mut suffix = [0; 24];
        for (pair, byte) in suffix.chunks_exact_mut(2).zip(&uuid[4..]) {
            pair.copy_from_slice(&hex(byte));
        }
        Generator {
            counter: AtomicU32::new(rand::random()),
            suffix,
        }
    });
    let count = generator.counter.fetch_add(1, Ordering::Relaxed);
    let mut id = [0; 32];
    for (pair, byte) in id.chunks_exact_mut(2).zip(&count.to_be_bytes()) {
        pair.copy_from_slice(&hex(byte));
    }
    id[8..].copy_from_slice(&generator.suffix);
    id
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_look_like_zerorpc_python_ids() {
        let first = new_message_id();
        let second = new_message_id();
        let (Value::Binary(first), Value::Binary(second)) = (first, second) else {
            panic!("ids must be bin");
        };
        assert_eq!(first.len(), 32);
        assert!(first
            .iter()
            .all(|byte| byte.is_ascii_digit() || (b'a'..=b'f').contains(byte)));
        assert_eq!(first[8..], second[8..]);
        assert_eq!(first[12], b'4');
        let counter = |id: &[u8]| u32::from_str_radix(std::str::from_utf8(&id[..8]).unwrap(), 16);
        // Other tests take ids from the same counter at the same time.
        let step = counter(&second)
            .unwrap()
            .wrapping_sub(counter(&first).unwrap());
        assert!((1..1000).contains(&step), "{step}");
    }

    #[test]
    fn reply_headers_follow_python_key_order() {
        let channel = Value::from("node-style-id");
        let mut header = Header::reply_to(&channel);
        header.insert("trace_id", Value::from("abc"));
        let keys: Vec<_> = header
            .entries()
            .iter()
            .map(|(key, _)| key.as_str().unwrap())
            .collect();
        assert_eq!(keys, ["message_id", "v", "trace_id", "response_to"]);
        assert_eq!(header.response_to(), Some(&channel));
        assert_eq!(header.version(), Some(3));
        header.insert("trace_id", Value::from("def"));
        assert_eq!(header.entries().len(), 4);
    }

    #[test]
    fn reply_prefixes_match_encoded_reply_headers() {
        for channel in [Value::from("node-style-id"), new_message_id()] {
            let written =
                Event::decode(&[reply_prefix(&id_key(&channel), OK, 0), vec![0x90]].concat());
            let mut expected = Event {
                header: Header::reply_to(&channel),
                name: OK.to_string(),
                args: Value::Array(Vec::new()),
            };
            let written = written.unwrap();
            // Only the fresh message ids differ.
            expected
                .header
                .insert(MESSAGE_ID, written.header.message_id().unwrap().clone());
            assert_eq!(written, expected);
            assert_eq!(
                written.encode(),
                [event_prefix(&expected.header, OK, 0), vec![0x90]].concat()
            );
        }
    }

    #[test]
    fn request_prefixes_match_encoded_request_headers() {
        let mut trace = Header::default();
        trace.insert("trace_id", Value::from("abc"));
        for extras in [Header::default(), trace] {
            let (prefix, id) = request_prefix("echo", &extras, 0);
            let frame = [prefix.clone(), vec![0x90]].concat();
            let decoded = Event::decode(&frame).unwrap();
            let mut header = Header::new();
            header.insert(MESSAGE_ID, decoded.header.message_id().unwrap().clone());
            for (key, value) in extras.entries() {
                header.insert(key.as_str().unwrap(), value.clone());
            }
            assert_eq!(prefix, event_prefix(&header, "echo", 0));
            assert_eq!(prefix[id], id_key(decoded.header.message_id().unwrap()));
        }
        assert!(is_protocol_key("response_to") && !is_protocol_key("trace_id"));
    }

    #[test]
    fn frames_find_their_parts_in_place() {
        let channel = Value::from("node-style-id");
        let mut header = Header::reply_to(&channel);
        header.insert("trace_id", Value::from("abc"));
        let args = Value::Array(vec![Value::from(1), Value::from("x")]);
        let event = Event {
            header: header.clone(),
            name: "STREAM".into(),
            args: args.clone(),
        };
        let frame = Frame::parse(Bytes::from(event.encode())).unwrap();
        assert_eq!(frame.name(), "STREAM");
        assert_eq!(frame.args(), id_key(&args));
        assert_eq!(frame.args_value(), args);
        assert_eq!(frame.response_to().unwrap(), id_key(&channel));
        assert_eq!(frame.message_id(), id_key(header.message_id().unwrap()));
        assert_eq!(frame.header(), header);
    }

    #[test]
    fn round_trip_and_id_keys_keep_types_apart() {
        let event = Event::new("hello", Value::Array(vec![Value::from("world")]));
        let decoded = Event::decode(&event.encode()).unwrap();
        assert_eq!(decoded, event);
        assert_ne!(
            id_key(&Value::from("ab")),
            id_key(&Value::Binary(b"ab".to_vec()))
        );
    }

    #[test]
    fn bad_frames_are_explained() {
        let reason = |bytes: &[u8]| Event::decode(bytes).unwrap_err().reason;
        assert!(reason(&[0x93]).contains("not valid MessagePack"));
        assert!(reason(&[0x92, 0x80, 0xa1, 0x78]).contains("array of 3"));
        assert!(reason(&[0x93, 0xc0, 0xa1, 0x78, 0x90]).contains("not a map"));
        assert!(reason(&[0x93, 0x80, 0xa1, 0x78, 0x90]).contains("no message_id"));
        assert!(reason(&[0x90, 0x90]).contains("array of 3"));
        let mut trailing = Event::new("x", Value::Nil).encode();
        trailing.push(0xc0);
        assert!(reason(&trailing).contains("1 bytes follow the event"));
        let mut header = Header::new();
        header.insert("x", Value::Nil);
        let frame = {
            let mut bytes = vec![0x93];
            rmpv::encode::write_value(&mut bytes, &Value::Map(header.entries().to_vec())).unwrap();
            bytes.extend_from_slice(&[0xc4, 0x01, b'x', 0x90]);
            bytes
        };
        let error = Event::decode(&frame).unwrap_err();
        assert!(error.reason.contains("name is not a MessagePack str"));
        assert_eq!(error.header, Some(header));
    }
}
