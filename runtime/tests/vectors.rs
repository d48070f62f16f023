//! Every captured zerorpc v3 vector decodes, matches its JSON description, and re-encodes byte for
//! byte; our own encoders produce the same bytes as zerorpc-python for the same content.

use std::path::PathBuf;

use rmpv::Value;
use rpcgen_runtime::event::{encode_event, Event, Header};
use rpcgen_runtime::value::{encode, Arguments};

fn vectors() -> Vec<serde_json::Value> {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/vectors/zerorpc-v3.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|error| {
        panic!(
            "the shared vectors must be at {} (the repository's sibling folder shared/): {error}",
            path.display()
        )
    });
    let file: serde_json::Value = serde_json::from_str(&text).expect("vectors file is JSON");
    file["vectors"].as_array().expect("a vectors array").clone()
}

fn unhex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|index| u8::from_str_radix(&text[index..index + 2], 16).expect("hex"))
        .collect()
}

/// Converts the vectors' JSON notation (`{"$bin": hex}`, `"$bin:<hex>"` keys) into a Value.
fn from_notation(json: &serde_json::Value) -> Value {
    match json {
        serde_json::Value::Null => Value::Nil,
        serde_json::Value::Bool(flag) => Value::Boolean(*flag),
        serde_json::Value::Number(number) => {
            if let Some(unsigned) = number.as_u64() {
                Value::from(unsigned)
            } else if let Some(signed) = number.as_i64() {
                Value::from(signed)
            } else {
                Value::F64(number.as_f64().expect("a number"))
            }
        }
        serde_json::Value::String(text) => Value::from(text.as_str()),
        serde_json::Value::Array(items) => Value::Array(items.iter().map(from_notation).collect()),
        serde_json::Value::Object(map) => match map.get("$bin") {
            Some(serde_json::Value::String(hex)) if map.len() == 1 => Value::Binary(unhex(hex)),
            _ => Value::Map(
                map.iter()
                    .map(|(key, value)| {
                        let key = match key.strip_prefix("$bin:") {
                            Some(hex) => Value::Binary(unhex(hex)),
                            None => Value::from(key.as_str()),
                        };
                        (key, from_notation(value))
                    })
                    .collect(),
            ),
        },
    }
}

/// serde_json sorts object keys, so maps are compared as sets of pairs.
fn same_value(left: &Value, right: &Value) -> bool {
    match (left, right) {
        (Value::Map(left), Value::Map(right)) => {
            left.len() == right.len()
                && left.iter().all(|(key, value)| {
                    right
                        .iter()
                        .any(|(other_key, other)| other_key == key && same_value(value, other))
                })
        }
        (Value::Array(left), Value::Array(right)) => {
            left.len() == right.len() && left.iter().zip(right).all(|(l, r)| same_value(l, r))
        }
        (Value::F64(left), Value::Integer(right)) | (Value::Integer(right), Value::F64(left)) => {
            right.as_f64() == Some(*left)
        }
        _ => left == right,
    }
}

#[test]
fn every_vector_decodes_matches_its_description_and_reencodes_identically() {
    let vectors = vectors();
    assert!(vectors.len() >= 33, "expected the 33 captured vectors");
    for vector in &vectors {
        let name = vector["name"].as_str().expect("a name");
        let bytes = unhex(vector["hex"].as_str().expect("hex"));
        let event = Event::decode(&bytes).unwrap_or_else(|error| panic!("{name}: {error}"));
        let decoded = Value::Array(vec![
            Value::Map(event.header.entries().to_vec()),
            Value::from(event.name.as_str()),
            event.args.clone(),
        ]);
        assert!(
            same_value(&decoded, &from_notation(&vector["decoded"])),
            "{name}: decoded {decoded} differs from the description"
        );
        assert!(event.header.message_id().is_some(), "{name}: message_id");
        assert_eq!(event.encode(), bytes, "{name}: re-encoding differs");
    }
}

#[test]
fn our_reply_encoding_matches_zerorpc_python() {
    let vectors = vectors();
    let find = |wanted: &str| {
        let vector = vectors
            .iter()
            .find(|vector| vector["name"] == wanted)
            .unwrap_or_else(|| panic!("vector {wanted}"));
        let bytes = unhex(vector["hex"].as_str().expect("hex"));
        (Event::decode(&bytes).expect("decodes"), bytes)
    };

    let (reply, bytes) = find("py_reply_ok");
    let mut args = Vec::new();
    ("Hello, world",).encode_arguments(&mut args).unwrap();
    assert_eq!(encode_event(&reply.header, "OK", &args), bytes);

    let (chunk, bytes) = find("py_stream_chunk_0");
    assert_eq!(
        encode_event(&chunk.header, "STREAM", &encode(&0u8).unwrap()),
        bytes
    );

    let (done, bytes) = find("py_stream_done");
    assert_eq!(encode_event(&done.header, "STREAM_DONE", &[0xc0]), bytes);

    let (request, _) = find("py_request_hello");
    let (heartbeat, bytes) = find("py_client_heartbeat");
    let mut header = Header::reply_to(request.header.message_id().unwrap());
    header.insert("message_id", heartbeat.header.message_id().unwrap().clone());
    header.insert(
        "response_to",
        heartbeat.header.response_to().unwrap().clone(),
    );
    let mut args = Vec::new();
    (0u8,).encode_arguments(&mut args).unwrap();
    assert_eq!(encode_event(&header, "_zpc_hb", &args), bytes);

    let (error, bytes) = find("py_reply_err_nameerror");
    let Value::Array(parts) = &error.args else {
        panic!("ERR args are an array")
    };
    let strings: Vec<&str> = parts.iter().map(|part| part.as_str().unwrap()).collect();
    let mut args = Vec::new();
    (strings[0], strings[1], strings[2])
        .encode_arguments(&mut args)
        .unwrap();
    assert_eq!(encode_event(&error.header, "ERR", &args), bytes);
}
