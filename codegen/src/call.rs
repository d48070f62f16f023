//! `rpcgen call`: calls one method of a running zerorpc server from the command line, with
//! arguments and results as JSON, like zerorpc's own command-line tool (which fails on Python 3.10
//! and newer).
//!
//! JSON and MessagePack differ in two places, so two forms stand for what JSON lacks: bytes are
//! `{"$bytes": "<base64>"}` both ways, and a map key that is not a string is written as its JSON
//! text. Before calling, [`method_shape`] reads the server's `_zerorpc_inspect` (when it answers)
//! to refuse an unknown method or a wrong number of arguments with the method's signature, and to
//! learn whether the method streams.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use rpcgen_runtime::Value;
use serde_json::{Map, Number};

use crate::pull::field;

/// The key of the JSON object that stands for bytes: `{"$bytes": "<base64>"}`.
pub const BYTES_KEY: &str = "$bytes";

/// A JSON value as the MessagePack value a call sends: `{"$bytes": "<base64>"}` becomes bytes.
pub fn to_msgpack(json: &serde_json::Value) -> Result<Value, String> {
    Ok(match json {
        serde_json::Value::Null => Value::Nil,
        serde_json::Value::Bool(flag) => Value::Boolean(*flag),
        serde_json::Value::Number(number) => {
            if let Some(unsigned) = number.as_u64() {
                Value::from(unsigned)
            } else if let Some(signed) = number.as_i64() {
                Value::from(signed)
            } else {
                Value::F64(number.as_f64().unwrap_or(f64::NAN))
            }
        }
        serde_json::Value::String(text) => Value::from(text.as_str()),
        serde_json::Value::Array(items) => {
            Value::Array(items.iter().map(to_msgpack).collect::<Result<_, _>>()?)
        }
        serde_json::Value::Object(entries) => match bytes_of(entries) {
            Some(encoded) => Value::Binary(STANDARD.decode(encoded).map_err(|error| {
                format!("`{{\"{BYTES_KEY}\": …}}` must hold base64 text: {error}")
            })?),
            None => Value::Map(
                entries
                    .iter()
                    .map(|(key, value)| Ok((Value::from(key.as_str()), to_msgpack(value)?)))
                    .collect::<Result<_, String>>()?,
            ),
        },
    })
}

/// The base64 text of `{"$bytes": "…"}`, when `entries` is that object.
fn bytes_of(entries: &Map<String, serde_json::Value>) -> Option<&str> {
    match entries.iter().next() {
        Some((key, serde_json::Value::String(text))) if entries.len() == 1 && key == BYTES_KEY => {
            Some(text)
        }
        _ => None,
    }
}

/// A MessagePack value a server sent, as JSON: bytes become `{"$bytes": "<base64>"}`, a map key
/// that is not a string its JSON text, a float JSON cannot hold (NaN, ±infinity) a string, and an
/// extension value `{"$ext": [type, "<base64>"]}`.
pub fn to_json(value: &Value) -> serde_json::Value {
    match value {
        Value::Nil => serde_json::Value::Null,
        Value::Boolean(flag) => serde_json::Value::Bool(*flag),
        Value::Integer(integer) => match (integer.as_u64(), integer.as_i64()) {
            (Some(unsigned), _) => unsigned.into(),
            (None, Some(signed)) => signed.into(),
            (None, None) => serde_json::Value::Null,
        },
        Value::F32(float) => float_json(f64::from(*float)),
        Value::F64(float) => float_json(*float),
        Value::String(text) => {
            serde_json::Value::String(String::from_utf8_lossy(text.as_bytes()).into_owned())
        }
        Value::Binary(bytes) => single(BYTES_KEY, STANDARD.encode(bytes).into()),
        Value::Array(items) => serde_json::Value::Array(items.iter().map(to_json).collect()),
        Value::Map(entries) => serde_json::Value::Object(
            entries
                .iter()
                .map(|(key, value)| {
                    let key = match key.as_str() {
                        Some(text) => text.to_string(),
                        None => to_json(key).to_string(),
                    };
                    (key, to_json(value))
                })
                .collect(),
        ),
        Value::Ext(kind, bytes) => single(
            "$ext",
            serde_json::Value::Array(vec![(*kind).into(), STANDARD.encode(bytes).into()]),
        ),
    }
}

fn float_json(float: f64) -> serde_json::Value {
    Number::from_f64(float).map_or_else(
        || serde_json::Value::String(float.to_string()),
        serde_json::Value::Number,
    )
}

fn single(key: &str, value: serde_json::Value) -> serde_json::Value {
    serde_json::Value::Object(Map::from_iter([(key.to_string(), value)]))
}

/// A command-line argument as JSON: a word that cannot start JSON is a string (`hello` is
/// `"hello"`); anything else must be valid JSON (`7` is the number 7, `"7"` the string, `[1, 2`
/// an error), and so must integers fit 64 bits (`18446744073709551616` is an error, not a float).
pub fn argument(text: &str) -> Result<serde_json::Value, String> {
    let trimmed = text.trim_start();
    let looks_like_json = trimmed.starts_with(['{', '[', '"', '-'])
        || trimmed.starts_with(|c: char| c.is_ascii_digit())
        || ["true", "false", "null"].contains(&trimmed.trim_end());
    if !looks_like_json {
        return Ok(serde_json::Value::String(text.to_string()));
    }
    let json: serde_json::Value = serde_json::from_str(text)
        .map_err(|error| format!("the argument `{text}` is not valid JSON: {error}"))?;
    if is_integer_text(trimmed.trim_end()) && !(json.is_u64() || json.is_i64()) {
        return Err(format!(
            "the argument `{text}` is an integer beyond 64 bits, which MessagePack cannot carry"
        ));
    }
    Ok(json)
}

/// Whether `text` is written as a whole number (`-12`), not a float (`1.5`, `1e3`).
fn is_integer_text(text: &str) -> bool {
    let digits = text.strip_prefix('-').unwrap_or(text);
    !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit())
}

/// What a server's `_zerorpc_inspect` says of one method.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MethodShape {
    /// The parameters: name, type (as the server wrote it, when it did), and whether a call may
    /// leave it out.
    pub params: Vec<ParamShape>,
    /// Whether the method streams (only rpcgen servers say).
    pub stream: bool,
    /// Whether `params` is exactly what the server accepts: true for rpcgen servers (which publish
    /// a contract); zerorpc-python reads `*args` as no parameter at all.
    pub exact: bool,
}

/// One parameter of a [`MethodShape`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamShape {
    /// The parameter's name.
    pub name: String,
    /// Its type, when the server says (rpcgen servers do).
    pub type_name: Option<String>,
    /// Whether a call may leave it out (it has a default).
    pub optional: bool,
}

impl MethodShape {
    /// `get(id: u64, note?: string?)`: the method as a reader would write it.
    pub fn signature(&self, method: &str) -> String {
        let params: Vec<String> = self
            .params
            .iter()
            .map(|param| {
                let optional = if param.optional { "?" } else { "" };
                match &param.type_name {
                    Some(type_name) => format!("{}{optional}: {type_name}", param.name),
                    None => format!("{}{optional}", param.name),
                }
            })
            .collect();
        format!("{method}({})", params.join(", "))
    }

    /// Why `count` arguments do not fit, if they do not (only checked when the parameters are
    /// [`exact`](MethodShape::exact)).
    pub fn check_count(&self, method: &str, count: usize) -> Result<(), String> {
        let required = self.params.iter().filter(|param| !param.optional).count();
        if !self.exact || (required..=self.params.len()).contains(&count) {
            return Ok(());
        }
        let takes = if required == self.params.len() {
            format!("{required}")
        } else {
            format!("{required} to {}", self.params.len())
        };
        Err(format!(
            "`{method}` takes {takes} argument{}, got {count}: {}",
            if self.params.len() == 1 { "" } else { "s" },
            self.signature(method)
        ))
    }
}

/// What `inspected` (an answer of `_zerorpc_inspect`) says of `method`: `Ok(None)` when it does
/// not describe methods at all, or `method` is one of zerorpc's built-ins (`_zerorpc_ping`…,
/// which inspect does not list); an error naming the methods there are when `method` is not one.
pub fn method_shape(inspected: &Value, method: &str) -> Result<Option<MethodShape>, String> {
    let Some(methods) = field(inspected, "methods").and_then(Value::as_map) else {
        return Ok(None);
    };
    if method.starts_with("_zerorpc_") {
        return Ok(None);
    }
    let Some((_, described)) = methods
        .iter()
        .find(|(name, _)| name.as_str() == Some(method))
    else {
        let mut names: Vec<&str> = methods
            .iter()
            .filter_map(|(name, _)| name.as_str())
            .collect();
        names.sort_unstable();
        return Err(format!(
            "the server has no method `{method}`; it has: {}",
            names.join(", ")
        ));
    };
    let params = field(described, "args")
        .and_then(Value::as_array)
        .map(|args| {
            args.iter()
                .map(|arg| ParamShape {
                    name: field(arg, "name")
                        .and_then(Value::as_str)
                        .unwrap_or("?")
                        .to_string(),
                    type_name: field(arg, "type")
                        .and_then(Value::as_str)
                        .map(str::to_string),
                    optional: field(arg, "default").is_some(),
                })
                .collect()
        })
        .unwrap_or_default();
    let stream = field(described, "stream").and_then(Value::as_bool) == Some(true);
    let exact = field(inspected, "contract").is_some_and(|contract| !contract.is_nil());
    Ok(Some(MethodShape {
        params,
        stream,
        exact,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_and_msgpack_convert_both_ways() {
        let json = serde_json::json!({
            "id": 18446744073709551615u64,
            "delta": -3,
            "ratio": 0.5,
            "tags": ["a", null, true],
            "blob": {"$bytes": "AAH/"},
        });
        let msgpack = to_msgpack(&json).unwrap();
        assert_eq!(
            msgpack.to_string(),
            "{\"id\": 18446744073709551615, \"delta\": -3, \"ratio\": 0.5, \
             \"tags\": [\"a\", nil, true], \"blob\": [0, 1, 255]}"
        );
        assert_eq!(to_json(&msgpack), json);
        let keyed = Value::Map(vec![(Value::from(7), Value::F64(f64::NAN))]);
        assert_eq!(to_json(&keyed), serde_json::json!({"7": "NaN"}));
        let error = to_msgpack(&serde_json::json!({"$bytes": "not base64!"})).unwrap_err();
        assert!(error.contains("must hold base64 text"), "{error}");
    }

    #[test]
    fn arguments_are_json_or_else_strings() {
        let ok = |text: &str| argument(text).unwrap();
        assert_eq!(ok("7"), serde_json::json!(7));
        assert_eq!(ok("-7"), serde_json::json!(-7));
        assert_eq!(ok("1.5"), serde_json::json!(1.5));
        assert_eq!(ok("\"7\""), serde_json::json!("7"));
        assert_eq!(ok("hello"), serde_json::json!("hello"));
        assert_eq!(ok("null"), serde_json::Value::Null);
        assert_eq!(ok("nullable"), serde_json::json!("nullable"));
        assert_eq!(ok("{\"a\": [1]}"), serde_json::json!({"a": [1]}));
        let error = argument("[1, 2").unwrap_err();
        assert!(
            error.starts_with("the argument `[1, 2` is not valid JSON: "),
            "{error}"
        );
        let error = argument("18446744073709551616").unwrap_err();
        assert!(error.contains("beyond 64 bits"), "{error}");
    }

    fn inspected() -> Value {
        let arg = |name: &str, type_name: &str, optional: bool| {
            let mut fields = vec![
                (Value::from("name"), Value::from(name)),
                (Value::from("type"), Value::from(type_name)),
            ];
            if optional {
                fields.push((Value::from("default"), Value::Nil));
            }
            Value::Map(fields)
        };
        let method = |args: Vec<Value>, stream: bool| {
            let mut fields = vec![(Value::from("args"), Value::Array(args))];
            if stream {
                fields.push((Value::from("stream"), Value::Boolean(true)));
            }
            Value::Map(fields)
        };
        Value::Map(vec![
            (Value::from("contract"), Value::Map(vec![])),
            (
                Value::from("methods"),
                Value::Map(vec![
                    (
                        Value::from("get"),
                        method(
                            vec![arg("id", "u64", false), arg("note", "string?", true)],
                            false,
                        ),
                    ),
                    (Value::from("list"), method(vec![], true)),
                ]),
            ),
        ])
    }

    #[test]
    fn the_shape_of_a_method_checks_the_argument_count() {
        let get = method_shape(&inspected(), "get").unwrap().unwrap();
        assert!(!get.stream);
        assert_eq!(get.signature("get"), "get(id: u64, note?: string?)");
        assert!(get.check_count("get", 1).is_ok());
        assert!(get.check_count("get", 2).is_ok());
        assert_eq!(
            get.check_count("get", 3).unwrap_err(),
            "`get` takes 1 to 2 arguments, got 3: get(id: u64, note?: string?)"
        );
        let list = method_shape(&inspected(), "list").unwrap().unwrap();
        assert!(list.stream);
        assert_eq!(
            list.check_count("list", 1).unwrap_err(),
            "`list` takes 0 arguments, got 1: list()"
        );
        assert_eq!(
            method_shape(&inspected(), "gte").unwrap_err(),
            "the server has no method `gte`; it has: get, list"
        );
        assert_eq!(method_shape(&Value::Nil, "get"), Ok(None));
        assert_eq!(method_shape(&inspected(), "_zerorpc_ping"), Ok(None));
        // Without a contract (zerorpc-python, zerorpc-node) the count is not checked.
        let Value::Map(mut fields) = inspected() else {
            unreachable!()
        };
        fields.remove(0);
        let untyped = method_shape(&Value::Map(fields), "list").unwrap().unwrap();
        assert!(untyped.check_count("list", 3).is_ok());
    }
}
