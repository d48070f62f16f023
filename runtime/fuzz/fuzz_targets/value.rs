//! Any bytes given to the lenient decoder, for the kinds of types generated code decodes, end
//! in a value or an error; a decoded value encodes again, and that encoding is stable.

#![no_main]

use std::collections::{BTreeMap, HashMap};

use libfuzzer_sys::fuzz_target;
use rpcgen_runtime::value::{encode, from_slice, from_value};
use rpcgen_runtime::Value;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, Deserialize)]
struct Ticket {
    id: u64,
    title: String,
    tags: Vec<String>,
    #[serde(with = "serde_bytes")]
    attachment: Vec<u8>,
    parent: Option<Box<Ticket>>,
    state: State,
    score: f64,
}

#[derive(Debug, Serialize, Deserialize)]
enum State {
    Open,
    Closed { reason: String },
    Moved(u32),
    Nested(Box<State>),
}

/// Decodes `bytes` as `T`; when that works, encodes the value and decodes it again.
fn round_trip<T: Serialize + DeserializeOwned + 'static>(bytes: &[u8]) -> Option<(T, T)> {
    let value = from_slice::<T>(bytes).ok()?;
    // Maps with keys that are not strings are refused on output, by design.
    let encoded = encode(&value).ok()?;
    let again = from_slice(&encoded).expect("our own encoding decodes");
    Some((value, again))
}

/// Encoding is stable after one round trip (floats and invalid UTF-8 may be normalised once).
fn check<T: Serialize + DeserializeOwned + 'static>(bytes: &[u8]) {
    if let Some((value, again)) = round_trip::<T>(bytes) {
        assert_eq!(encode(&again).ok(), encode(&value).ok());
    }
}

/// A round trip gives back an equal value (for types whose encoding has no fixed order).
fn check_equal<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug + 'static>(
    bytes: &[u8],
) {
    if let Some((value, again)) = round_trip::<T>(bytes) {
        assert_eq!(again, value);
    }
}

fuzz_target!(|bytes: &[u8]| {
    check::<Value>(bytes);
    check::<String>(bytes);
    check::<i64>(bytes);
    check::<u64>(bytes);
    check::<u8>(bytes);
    check::<f32>(bytes);
    check::<bool>(bytes);
    check::<Option<i32>>(bytes);
    check::<serde_bytes::ByteBuf>(bytes);
    check::<rpcgen_runtime::Bytes>(bytes);
    check::<Vec<String>>(bytes);
    check::<(i64, String, Vec<u8>)>(bytes);
    check_equal::<HashMap<String, i64>>(bytes);
    check::<BTreeMap<String, Value>>(bytes);
    check::<Ticket>(bytes);
    check::<State>(bytes);
    check::<Vec<Ticket>>(bytes);
    // A dynamic value decoded by rmpv's reader converts to a typed one, or fails cleanly.
    if let Ok(value) = from_slice::<Value>(bytes) {
        let _ = from_value::<Ticket>(&value);
        let _ = from_value::<HashMap<String, i64>>(&value);
    }
});
