//! What is measured: the cases' payloads for the benchmark service (`rpcgen_bench::service`),
//! its stream, and the exact request and reply bytes the raw baseline exchanges.

use std::collections::HashMap;
use std::sync::Arc;

use bytes::Bytes;
use rpcgen_runtime::event::{encode_event, Header, OK};
use rpcgen_runtime::Arguments;

/// The size of the large `bytes` payload: 1 MiB.
const LARGE_BYTES: usize = 1 << 20;
/// The number of entries of the dict payload.
const DICT_ENTRIES: i64 = 100;

/// One benchmark case: a method called with one value that comes back unchanged.
pub struct Case<T> {
    /// The short name used by `--case`.
    pub id: &'static str,
    /// The description shown in the table.
    pub label: &'static str,
    /// The method called.
    pub method: &'static str,
    /// How many callers share one client.
    pub concurrency: usize,
    /// The argument, and the expected result.
    pub value: Arc<T>,
}

/// Echo of a short string by one caller.
pub fn echo() -> Case<String> {
    Case {
        id: "echo",
        label: "echo short string, 1 caller",
        method: "echo",
        concurrency: 1,
        value: Arc::new(short_text()),
    }
}

/// Echo of a short string by 32 concurrent callers sharing one client.
pub fn echo_concurrent() -> Case<String> {
    Case {
        id: "echo-32",
        label: "echo short string, 32 callers",
        method: "echo",
        concurrency: 32,
        value: Arc::new(short_text()),
    }
}

/// Round trip of a 100-entry `map<string, i64>`.
pub fn dict() -> Case<HashMap<String, i64>> {
    let entries = (0..DICT_ENTRIES)
        .map(|index| (format!("field_{index:03}"), index * 1_000_003))
        .collect();
    Case {
        id: "dict",
        label: "100-entry map<string, i64>, 1 caller",
        method: "echo_map",
        concurrency: 1,
        value: Arc::new(entries),
    }
}

/// Echo of 1 MiB of `bytes`.
pub fn large_bytes() -> Case<Bytes> {
    let data: Vec<u8> = (0..LARGE_BYTES).map(|index| (index % 251) as u8).collect();
    Case {
        id: "bytes",
        label: "1 MiB bytes echo, 1 caller",
        method: "echo_bytes",
        concurrency: 1,
        value: Arc::new(Bytes::from(data)),
    }
}

/// A stream read to its end by one caller: `count` strings of `size` characters.
pub struct StreamCase {
    /// The short name used by `--case`.
    pub id: &'static str,
    /// The description shown in the table.
    pub label: &'static str,
    /// The streaming method called.
    pub method: &'static str,
    /// How many items the stream carries.
    pub count: u64,
    /// The length of each item.
    pub size: u64,
}

/// A stream of 1,000 strings of 1 KiB, read by one caller.
pub fn items_stream() -> StreamCase {
    StreamCase {
        id: "stream",
        label: "stream of 1,000 × 1 KiB strings, 1 caller",
        method: "items",
        count: 1_000,
        size: 1 << 10,
    }
}

fn short_text() -> String {
    "hello, rpcgen".to_string()
}

/// The request event a client sends for `case` and the `OK` event a server answers, encoded
/// exactly as the runtime encodes them.
pub fn wire_frames<T: serde::Serialize>(case: &Case<T>) -> Result<(Bytes, Bytes), String> {
    let mut args = Vec::new();
    (&*case.value,)
        .encode_arguments(&mut args)
        .map_err(|error| format!("encoding the {} payload: {error}", case.id))?;
    let header = Header::new();
    let request = encode_event(&header, case.method, &args);
    let id = header
        .message_id()
        .ok_or("a fresh header has no message_id")?;
    // OK carries `[value]`, which is also the request's argument array.
    let reply = encode_event(&Header::reply_to(id), OK, &args);
    Ok((Bytes::from(request), Bytes::from(reply)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rpcgen_runtime::event::Event;

    #[test]
    fn wire_frames_are_a_request_and_its_reply() {
        let case = dict();
        let (request, reply) = wire_frames(&case).unwrap();
        let request = Event::decode(&request).unwrap();
        let reply = Event::decode(&reply).unwrap();
        assert_eq!(request.name, "echo_map");
        assert_eq!(reply.name, OK);
        assert_eq!(reply.header.response_to(), request.header.message_id());
        assert_eq!(request.args, reply.args);
        assert_eq!(request.args.as_array().map(Vec::len), Some(1));
        assert_eq!(request.args[0].as_map().map(Vec::len), Some(100));
    }

    #[test]
    fn every_case_can_be_selected_by_its_id() {
        let ids = [
            echo().id,
            echo_concurrent().id,
            dict().id,
            large_bytes().id,
            items_stream().id,
        ];
        assert_eq!(ids, crate::options::CASES);
    }

    #[test]
    fn the_large_payload_is_one_mebibyte() {
        assert_eq!(large_bytes().value.len(), 1 << 20);
        assert_eq!(echo_concurrent().concurrency, 32);
    }
}
