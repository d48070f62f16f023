//! zerorpc events: the MessagePack array `[header, name, args]` that every ZeroMQ message carries.
//!
//! The header is kept as an ordered map of dynamic values so that keys we do not know (added by
//! zerorpc-python's tracing middleware, for example) survive, and message ids stay opaque values
//! that are echoed with their exact MessagePack type in `response_to`. Our own ids follow
//! zerorpc-python's style, so our traffic is byte-compatible with its captured vectors.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;

use rmpv::Value;

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

/// Why a frame is not a zerorpc event. When the header could be read, it is kept, so a server
/// can still answer the sender with an `ERR`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{reason}")]
pub struct EventDecodeError {
    /// What is wrong with the frame.
    pub reason: String,
    /// The header, when it was a valid map with a `message_id`.
    pub header: Option<Header>,
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
    pub fn decode(mut bytes: &[u8]) -> Result<Self, EventDecodeError> {
        let fail = |reason: String, header: Option<Header>| EventDecodeError { reason, header };
        // Borrowing first then owning allocates every string and buffer once, at its exact size
        // (`read_value` grows large ones from 64 KiB by doubling, copying each time).
        let value = rmpv::decode::read_value_ref(&mut bytes)
            .map(|value| value.to_owned())
            .map_err(|error| fail(format!("the frame is not valid MessagePack: {error}"), None))?;
        if !bytes.is_empty() {
            return Err(fail(
                format!("{} bytes follow the event", bytes.len()),
                None,
            ));
        }
        let Value::Array(parts) = value else {
            return Err(fail("the event is not an array".into(), None));
        };
        let Ok::<[Value; 3], _>([header, name, args]) = parts.try_into() else {
            return Err(fail("the event is not an array of 3".into(), None));
        };
        let Value::Map(entries) = header else {
            return Err(fail("the event header is not a map".into(), None));
        };
        let header = Header { entries };
        if header.message_id().is_none() {
            return Err(fail("the event header has no message_id".into(), None));
        }
        match name {
            Value::String(name) if name.is_str() => Ok(Self {
                header,
                name: name.into_str().unwrap_or_default(),
                args,
            }),
            _ => Err(fail(
                "the event name is not a MessagePack str".into(),
                Some(header),
            )),
        }
    }

    /// Encodes the event as one frame.
    pub fn encode(&self) -> Vec<u8> {
        let mut args = Vec::new();
        write_value(&mut args, &self.args);
        encode_event(&self.header, &self.name, &args)
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

/// The same bytes as [`event_prefix`] with [`Header::reply_to`]`(channel_id)`, written without
/// building the header: the start of every event sent on an open channel.
pub fn reply_prefix(channel_id: &Value, name: &str, args_capacity: usize) -> Vec<u8> {
    let mut frame = start_frame(3, name, args_capacity);
    write_str(&mut frame, MESSAGE_ID);
    write_value(&mut frame, &new_message_id());
    write_str(&mut frame, VERSION);
    // Writing into a Vec cannot fail.
    let _ = rmp::encode::write_uint(&mut frame, PROTOCOL_VERSION.into());
    write_str(&mut frame, RESPONSE_TO);
    write_value(&mut frame, channel_id);
    write_str(&mut frame, name);
    frame
}

/// A buffer for an event, started with the event's array and its header's map length.
fn start_frame(header_entries: usize, name: &str, args_capacity: usize) -> Vec<u8> {
    // The array and our header take 50 bytes, 96 with a `response_to` id of 32 bytes.
    let mut frame = Vec::with_capacity(128 + name.len() + args_capacity);
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
    struct Generator {
        counter: AtomicU32,
        suffix: String,
    }
    static GENERATOR: OnceLock<Generator> = OnceLock::new();
    let generator = GENERATOR.get_or_init(|| {
        let mut uuid: [u8; 16] = rand::random();
        uuid[6] = (uuid[6] & 0x0f) | 0x40;
        uuid[8] = (uuid[8] & 0x3f) | 0x80;
        let hex: String = uuid.iter().map(|byte| format!("{byte:02x}")).collect();
        Generator {
            counter: AtomicU32::new(rand::random()),
            suffix: hex[8..].to_string(),
        }
    });
    const HEX_DIGITS: &[u8; 16] = b"0123456789abcdef";
    let count = generator.counter.fetch_add(1, Ordering::Relaxed);
    let mut id = Vec::with_capacity(32);
    id.extend(
        (0..8)
            .rev()
            .map(|nibble| HEX_DIGITS[(count >> (nibble * 4)) as usize & 0xf]),
    );
    id.extend_from_slice(generator.suffix.as_bytes());
    Value::Binary(id)
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
        assert_eq!(
            counter(&second).unwrap(),
            counter(&first).unwrap().wrapping_add(1)
        );
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
            let written = Event::decode(&[reply_prefix(&channel, OK, 0), vec![0x90]].concat());
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
        assert!(reason(&[0x93, 0x80]).contains("not valid MessagePack"));
        assert!(reason(&[0x92, 0x80, 0xa1, 0x78]).contains("array of 3"));
        assert!(reason(&[0x93, 0xc0, 0xa1, 0x78, 0x90]).contains("not a map"));
        assert!(reason(&[0x93, 0x80, 0xa1, 0x78, 0x90]).contains("no message_id"));
        assert!(reason(&[0x90, 0x90]).contains("follow the event"));
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
