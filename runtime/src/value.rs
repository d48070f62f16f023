//! MessagePack values the way zerorpc peers need them.
//!
//! Strict in what we send: [`encode`] writes structs as maps keyed by field name (zerorpc-python
//! and zerorpc-node see dicts and objects), bytes as `bin` when the field uses `serde_bytes`, and
//! refuses map keys that are not strings or bytes (a zerorpc-python receiver drops the whole
//! message when it meets one).
//!
//! Lenient in what we accept: [`from_value`] reads an [`rmpv::Value`] into any `Deserialize`
//! type and accepts integral floats where integers are expected (zerorpc-node sends integers
//! outside 32 bits as float64), `str` where bytes are expected and `bin` where text is expected,
//! and structs sent as arrays.

use rmpv::Value;
use serde::de::{self, DeserializeSeed, IntoDeserializer, Visitor};
use serde::{Deserialize, Serialize};

use crate::error::{DecodeError, EncodeError};

/// Encodes a value as MessagePack with structs as maps, checking that every map key is a string
/// or bytes.
pub fn encode<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, EncodeError> {
    let mut buffer = Vec::new();
    encode_into(&mut buffer, value)?;
    Ok(buffer)
}

/// Appends the encoding of `value` to `buffer` (see [`encode`]).
pub fn encode_into<T: Serialize + ?Sized>(
    buffer: &mut Vec<u8>,
    value: &T,
) -> Result<(), EncodeError> {
    let start = buffer.len();
    let mut serializer = rmp_serde::Serializer::new(&mut *buffer).with_struct_map();
    value
        .serialize(&mut serializer)
        .map_err(|error| EncodeError(error.to_string()))?;
    check_map_keys(&buffer[start..])
}

/// Encodes a value and reads it back as a dynamic [`Value`] (see [`encode`]).
pub fn to_value<T: Serialize + ?Sized>(value: &T) -> Result<Value, EncodeError> {
    let bytes = encode(value)?;
    rmpv::decode::read_value(&mut bytes.as_slice()).map_err(|error| EncodeError(error.to_string()))
}

/// Reads a dynamic value into a typed one, leniently (see the module documentation).
pub fn from_value<'de, T: Deserialize<'de>>(value: &'de Value) -> Result<T, DecodeError> {
    T::deserialize(Lenient(value)).map_err(|error| DecodeError(error.to_string()))
}

/// Describes a value's MessagePack type in words, for error messages.
pub fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Nil => "nil",
        Value::Boolean(_) => "a boolean",
        Value::Integer(_) => "an integer",
        Value::F32(_) | Value::F64(_) => "a float",
        Value::String(_) => "a string",
        Value::Binary(_) => "bytes",
        Value::Array(_) => "an array",
        Value::Map(_) => "a map",
        Value::Ext(..) => "an extension value",
    }
}

/// Positional call arguments: tuples of serialisable values, `()` for none, or a list of
/// dynamic values. They are sent as one MessagePack array.
pub trait Arguments {
    /// Appends the arguments, as one array, to `buffer`.
    fn encode_arguments(&self, buffer: &mut Vec<u8>) -> Result<(), EncodeError>;
}

impl Arguments for [Value] {
    fn encode_arguments(&self, buffer: &mut Vec<u8>) -> Result<(), EncodeError> {
        encode_into(buffer, self)
    }
}

impl Arguments for Vec<Value> {
    fn encode_arguments(&self, buffer: &mut Vec<u8>) -> Result<(), EncodeError> {
        self.as_slice().encode_arguments(buffer)
    }
}

macro_rules! tuple_arguments {
    ($count:expr $(, $name:ident)*) => {
        impl<$($name: Serialize),*> Arguments for ($($name,)*) {
            #[allow(non_snake_case)]
            fn encode_arguments(&self, buffer: &mut Vec<u8>) -> Result<(), EncodeError> {
                let ($($name,)*) = self;
                rmp::encode::write_array_len(buffer, $count)
                    .map_err(|error| EncodeError(error.to_string()))?;
                $(encode_into(buffer, $name)?;)*
                Ok(())
            }
        }
    };
}

tuple_arguments!(0);
tuple_arguments!(1, A);
tuple_arguments!(2, A, B);
tuple_arguments!(3, A, B, C);
tuple_arguments!(4, A, B, C, D);
tuple_arguments!(5, A, B, C, D, E);
tuple_arguments!(6, A, B, C, D, E, F);
tuple_arguments!(7, A, B, C, D, E, F, G);
tuple_arguments!(8, A, B, C, D, E, F, G, H);
tuple_arguments!(9, A, B, C, D, E, F, G, H, I);
tuple_arguments!(10, A, B, C, D, E, F, G, H, I, J);
tuple_arguments!(11, A, B, C, D, E, F, G, H, I, J, K);
tuple_arguments!(12, A, B, C, D, E, F, G, H, I, J, K, L);

/// Walks encoded MessagePack and refuses map keys other than `str` or `bin`.
fn check_map_keys(mut bytes: &[u8]) -> Result<(), EncodeError> {
    walk(&mut bytes).map_err(EncodeError)
}

fn walk(bytes: &mut &[u8]) -> Result<(), String> {
    use rmp::Marker;
    let marker =
        rmp::decode::read_marker(bytes).map_err(|_| "truncated MessagePack".to_string())?;
    let (skip, items, pairs) = match marker {
        Marker::FixPos(_) | Marker::FixNeg(_) | Marker::Null | Marker::True | Marker::False => {
            (0, 0, 0)
        }
        Marker::U8 | Marker::I8 => (1, 0, 0),
        Marker::U16 | Marker::I16 => (2, 0, 0),
        Marker::U32 | Marker::I32 | Marker::F32 => (4, 0, 0),
        Marker::U64 | Marker::I64 | Marker::F64 => (8, 0, 0),
        Marker::FixStr(len) => (usize::from(len), 0, 0),
        Marker::Str8 | Marker::Bin8 => (take_len(bytes, 1)?, 0, 0),
        Marker::Str16 | Marker::Bin16 => (take_len(bytes, 2)?, 0, 0),
        Marker::Str32 | Marker::Bin32 => (take_len(bytes, 4)?, 0, 0),
        Marker::FixArray(len) => (0, usize::from(len), 0),
        Marker::Array16 => (0, take_len(bytes, 2)?, 0),
        Marker::Array32 => (0, take_len(bytes, 4)?, 0),
        Marker::FixMap(len) => (0, 0, usize::from(len)),
        Marker::Map16 => (0, 0, take_len(bytes, 2)?),
        Marker::Map32 => (0, 0, take_len(bytes, 4)?),
        Marker::FixExt1 => (2, 0, 0),
        Marker::FixExt2 => (3, 0, 0),
        Marker::FixExt4 => (5, 0, 0),
        Marker::FixExt8 => (9, 0, 0),
        Marker::FixExt16 => (17, 0, 0),
        Marker::Ext8 => (take_len(bytes, 1)? + 1, 0, 0),
        Marker::Ext16 => (take_len(bytes, 2)? + 1, 0, 0),
        Marker::Ext32 => (take_len(bytes, 4)? + 1, 0, 0),
        Marker::Reserved => return Err("invalid MessagePack marker".to_string()),
    };
    *bytes = bytes.get(skip..).ok_or("truncated MessagePack")?;
    for _ in 0..items {
        walk(bytes)?;
    }
    for _ in 0..pairs {
        let key_marker = bytes.first().copied().ok_or("truncated MessagePack")?;
        let is_text_or_bytes = matches!(
            rmp::Marker::from_u8(key_marker),
            Marker::FixStr(_)
                | Marker::Str8
                | Marker::Str16
                | Marker::Str32
                | Marker::Bin8
                | Marker::Bin16
                | Marker::Bin32
        );
        if !is_text_or_bytes {
            return Err(
                "map keys must be strings or bytes: zerorpc-python drops any message with other \
                 keys (convert integer keys to strings)"
                    .to_string(),
            );
        }
        walk(bytes)?;
        walk(bytes)?;
    }
    Ok(())
}

fn take_len(bytes: &mut &[u8], width: usize) -> Result<usize, String> {
    let (head, rest) = bytes
        .split_at_checked(width)
        .ok_or("truncated MessagePack")?;
    *bytes = rest;
    Ok(head
        .iter()
        .fold(0usize, |len, byte| (len << 8) | usize::from(*byte)))
}

/// A serde `Deserializer` over a borrowed [`Value`] that accepts what real zerorpc peers send.
struct Lenient<'de>(&'de Value);

type LenientError = rmpv::ext::Error;

/// The value as an integer, when it is an integer or an integral float.
fn integral(value: &Value) -> Option<IntegerValue> {
    match value {
        Value::Integer(integer) => integer
            .as_u64()
            .map(IntegerValue::Unsigned)
            .or_else(|| integer.as_i64().map(IntegerValue::Signed)),
        Value::F64(float) => integral_float(*float),
        Value::F32(float) => integral_float(f64::from(*float)),
        _ => None,
    }
}

enum IntegerValue {
    Unsigned(u64),
    Signed(i64),
}

fn integral_float(float: f64) -> Option<IntegerValue> {
    // 2^64 and -2^63 are exactly representable; the bounds below keep the casts exact.
    if float.fract() != 0.0 || !float.is_finite() {
        None
    } else if (0.0..18_446_744_073_709_551_616.0).contains(&float) {
        Some(IntegerValue::Unsigned(float as u64))
    } else if (-9_223_372_036_854_775_808.0..0.0).contains(&float) {
        Some(IntegerValue::Signed(float as i64))
    } else {
        None
    }
}

macro_rules! lenient_integer {
    ($($method:ident),*) => {
        $(fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, LenientError> {
            match integral(self.0) {
                Some(IntegerValue::Unsigned(number)) => visitor.visit_u64(number),
                Some(IntegerValue::Signed(number)) => visitor.visit_i64(number),
                None => self.deserialize_any(visitor),
            }
        })*
    };
}

impl<'de> de::Deserializer<'de> for Lenient<'de> {
    type Error = LenientError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, LenientError> {
        match self.0 {
            Value::Nil => visitor.visit_unit(),
            Value::Boolean(flag) => visitor.visit_bool(*flag),
            Value::Integer(integer) => match integer.as_u64() {
                Some(number) => visitor.visit_u64(number),
                None => visitor.visit_i64(integer.as_i64().unwrap_or_default()),
            },
            Value::F32(float) => visitor.visit_f32(*float),
            Value::F64(float) => visitor.visit_f64(*float),
            Value::String(text) => match text.as_str() {
                Some(text) => visitor.visit_borrowed_str(text),
                None => visitor.visit_borrowed_bytes(text.as_bytes()),
            },
            Value::Binary(bytes) => visitor.visit_borrowed_bytes(bytes),
            Value::Array(items) => visitor.visit_seq(Items::new(items)),
            Value::Map(pairs) => visitor.visit_map(Pairs::new(pairs)),
            Value::Ext(tag, data) => {
                de::Deserializer::deserialize_any(rmpv::ValueRef::Ext(*tag, data), visitor)
            }
        }
    }

    lenient_integer!(
        deserialize_u8,
        deserialize_u16,
        deserialize_u32,
        deserialize_u64,
        deserialize_i8,
        deserialize_i16,
        deserialize_i32,
        deserialize_i64
    );

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, LenientError> {
        match self.0 {
            Value::Nil => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, LenientError> {
        match self.0 {
            Value::Ext(tag, data) if name == rmpv::MSGPACK_EXT_STRUCT_NAME => {
                de::Deserializer::deserialize_newtype_struct(
                    rmpv::ValueRef::Ext(*tag, data),
                    name,
                    visitor,
                )
            }
            _ => visitor.visit_newtype_struct(self),
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, LenientError> {
        match self.0 {
            Value::Map(pairs) if pairs.len() == 1 => {
                let (variant, payload) = &pairs[0];
                visitor.visit_enum(Variant {
                    name: variant,
                    payload: Some(payload),
                })
            }
            other => visitor.visit_enum(Variant {
                name: other,
                payload: None,
            }),
        }
    }

    serde::forward_to_deserialize_any! {
        bool f32 f64 char str string bytes byte_buf unit unit_struct seq tuple tuple_struct map
        struct identifier ignored_any
    }
}

struct Items<'de> {
    items: std::slice::Iter<'de, Value>,
}

impl<'de> Items<'de> {
    fn new(items: &'de [Value]) -> Self {
        Self {
            items: items.iter(),
        }
    }
}

impl<'de> de::SeqAccess<'de> for Items<'de> {
    type Error = LenientError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, LenientError> {
        self.items
            .next()
            .map(|item| seed.deserialize(Lenient(item)))
            .transpose()
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

struct Pairs<'de> {
    pairs: std::slice::Iter<'de, (Value, Value)>,
    value: Option<&'de Value>,
}

impl<'de> Pairs<'de> {
    fn new(pairs: &'de [(Value, Value)]) -> Self {
        Self {
            pairs: pairs.iter(),
            value: None,
        }
    }
}

impl<'de> de::MapAccess<'de> for Pairs<'de> {
    type Error = LenientError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, LenientError> {
        match self.pairs.next() {
            Some((key, value)) => {
                self.value = Some(value);
                seed.deserialize(Lenient(key)).map(Some)
            }
            None => Ok(None),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, LenientError> {
        let value = self
            .value
            .take()
            .ok_or_else(|| de::Error::custom("a map value was read before its key"))?;
        seed.deserialize(Lenient(value))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.pairs.len())
    }
}

/// An enum as sent by rpcgen peers: a variant name, or a one-key map `{name: payload}`.
struct Variant<'de> {
    name: &'de Value,
    payload: Option<&'de Value>,
}

impl<'de> de::EnumAccess<'de> for Variant<'de> {
    type Error = LenientError;
    type Variant = Self;

    fn variant_seed<V: DeserializeSeed<'de>>(
        self,
        seed: V,
    ) -> Result<(V::Value, Self), LenientError> {
        let variant = seed.deserialize(Lenient(self.name))?;
        Ok((variant, self))
    }
}

impl<'de> de::VariantAccess<'de> for Variant<'de> {
    type Error = LenientError;

    fn unit_variant(self) -> Result<(), LenientError> {
        match self.payload {
            None | Some(Value::Nil) => Ok(()),
            Some(other) => Err(de::Error::custom(format!(
                "expected a unit variant, found a payload of {}",
                kind_of(other)
            ))),
        }
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(
        self,
        seed: T,
    ) -> Result<T::Value, LenientError> {
        match self.payload {
            Some(payload) => seed.deserialize(Lenient(payload)),
            None => seed.deserialize(().into_deserializer()),
        }
    }

    fn tuple_variant<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, LenientError> {
        let payload = self
            .payload
            .ok_or_else(|| de::Error::custom("expected a tuple variant with a payload"))?;
        de::Deserializer::deserialize_seq(Lenient(payload), visitor)
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, LenientError> {
        let payload = self
            .payload
            .ok_or_else(|| de::Error::custom("expected a struct variant with a payload"))?;
        de::Deserializer::deserialize_map(Lenient(payload), visitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use std::collections::HashMap;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Ticket {
        id: u64,
        title: String,
        #[serde(with = "serde_bytes")]
        attachment: Vec<u8>,
        body: Option<String>,
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    enum Event {
        Opened,
        Moved(u32),
        Closed { id: u64, reason: String },
    }

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|byte| format!("{byte:02x}")).collect()
    }

    fn decode_hex(text: &str) -> Value {
        let bytes: Vec<u8> = (0..text.len())
            .step_by(2)
            .map(|index| u8::from_str_radix(&text[index..index + 2], 16).unwrap())
            .collect();
        rmpv::decode::read_value(&mut bytes.as_slice()).unwrap()
    }

    #[test]
    fn structs_are_maps_and_bytes_are_bin() {
        let ticket = Ticket {
            id: 7,
            title: "t".into(),
            attachment: vec![1, 2],
            body: None,
        };
        assert_eq!(
            hex(&encode(&ticket).unwrap()),
            "84a2696407a57469746c65a174aa6174746163686d656e74c4020102a4626f6479c0"
        );
    }

    #[test]
    fn integer_map_keys_are_refused_with_a_clear_error() {
        let map: HashMap<i32, &str> = HashMap::from([(1, "one")]);
        let error = encode(&map).unwrap_err();
        assert!(error.0.contains("map keys must be strings"), "{error}");
        let nested = vec![HashMap::from([("ok", HashMap::from([(2u8, 3u8)]))])];
        assert!(encode(&nested).is_err());
        let fine = HashMap::from([("a", vec![HashMap::from([("b", 1)])])]);
        assert!(encode(&fine).is_ok());
    }

    #[test]
    fn node_floats_decode_into_integers() {
        // 3000000000 as msgpack-lite sends it: float64.
        let value = decode_hex("cb41e65a0bc0000000");
        assert_eq!(from_value::<u64>(&value).unwrap(), 3_000_000_000);
        assert_eq!(from_value::<i64>(&value).unwrap(), 3_000_000_000);
        assert!(from_value::<u32>(&value).is_ok());
        assert!(from_value::<i32>(&value).is_err());
        assert_eq!(from_value::<f64>(&value).unwrap(), 3e9);
        assert_eq!(from_value::<i64>(&Value::F64(-2.0)).unwrap(), -2);
        assert!(from_value::<u64>(&Value::F64(1.5)).is_err());
        assert!(from_value::<u64>(&Value::F64(f64::NAN)).is_err());
        assert!(from_value::<u8>(&Value::F64(256.0)).is_err());
    }

    #[test]
    fn big_unsigned_values_keep_their_range() {
        let value = Value::from(u64::MAX);
        assert_eq!(from_value::<u64>(&value).unwrap(), u64::MAX);
        assert!(from_value::<i64>(&value).is_err());
        assert_eq!(from_value::<i64>(&Value::from(i64::MIN)).unwrap(), i64::MIN);
    }

    #[test]
    fn str_and_bin_are_interchangeable_on_input() {
        let bin = Value::Binary(b"abc".to_vec());
        assert_eq!(from_value::<String>(&bin).unwrap(), "abc");
        let text = Value::from("xyz");
        let bytes: serde_bytes::ByteBuf = from_value(&text).unwrap();
        assert_eq!(bytes.into_vec(), b"xyz");
        assert!(from_value::<String>(&Value::Binary(vec![0xff])).is_err());
    }

    #[test]
    fn structs_decode_from_maps_with_float_fields_and_from_arrays() {
        let map = Value::Map(vec![
            (Value::from("id"), Value::F64(4294967296.0)),
            (Value::from("title"), Value::Binary(b"T".to_vec())),
            (Value::from("attachment"), Value::from("raw")),
            (Value::from("body"), Value::Nil),
            (Value::from("extra"), Value::from(1)),
        ]);
        let ticket: Ticket = from_value(&map).unwrap();
        assert_eq!(
            ticket,
            Ticket {
                id: 4294967296,
                title: "T".into(),
                attachment: b"raw".to_vec(),
                body: None
            }
        );
        let array = to_value(&(9u8, "a", serde_bytes::Bytes::new(b""), Some("b"))).unwrap();
        let ticket: Ticket = from_value(&array).unwrap();
        assert_eq!(ticket.body.as_deref(), Some("b"));
    }

    #[test]
    fn enums_round_trip() {
        for event in [
            Event::Opened,
            Event::Moved(3),
            Event::Closed {
                id: 1,
                reason: "done".into(),
            },
        ] {
            let value = to_value(&event).unwrap();
            assert_eq!(from_value::<Event>(&value).unwrap(), event);
        }
        assert_eq!(to_value(&Event::Opened).unwrap(), Value::from("Opened"));
    }

    #[test]
    fn dynamic_values_pass_through_untouched() {
        let original = Value::Map(vec![
            (Value::Binary(vec![1]), Value::Ext(5, vec![1, 2])),
            (Value::from("f"), Value::F32(1.5)),
            (Value::from("n"), Value::from(-3)),
        ]);
        let copy: Value = from_value(&original).unwrap();
        assert_eq!(copy, original);
    }

    #[test]
    fn wrong_types_name_what_was_expected() {
        let error = from_value::<u32>(&Value::from("x")).unwrap_err();
        assert!(error.0.contains("u32"), "{error}");
    }

    #[test]
    fn arguments_are_one_array() {
        let mut buffer = Vec::new();
        ().encode_arguments(&mut buffer).unwrap();
        assert_eq!(hex(&buffer), "90");
        buffer.clear();
        ("world",).encode_arguments(&mut buffer).unwrap();
        assert_eq!(hex(&buffer), "91a5776f726c64");
        buffer.clear();
        (1u8, None::<u8>, true)
            .encode_arguments(&mut buffer)
            .unwrap();
        assert_eq!(hex(&buffer), "9301c0c3");
        buffer.clear();
        vec![Value::from(1)].encode_arguments(&mut buffer).unwrap();
        assert_eq!(hex(&buffer), "9101");
    }
}
