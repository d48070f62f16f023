//! MessagePack values the way zerorpc peers need them.
//!
//! Strict in what we send: [`encode`] writes structs as maps keyed by field name (zerorpc-python
//! and zerorpc-node see dicts and objects), bytes as `bin` when the field uses `serde_bytes`, and
//! refuses map keys that are not strings or bytes (a zerorpc-python receiver drops the whole
//! message when it meets one).
//!
//! Lenient in what we accept: [`from_slice`] decodes MessagePack bytes straight into any
//! `Deserialize` type, without an intermediate tree, and accepts integral floats where integers
//! are expected (zerorpc-node sends integers outside 32 bits as float64), `str` where bytes are
//! expected and `bin` where text is expected, and structs sent as arrays. [`from_value`] does
//! the same for a dynamic [`rmpv::Value`].
//!
//! Every decoder here refuses values nested deeper than [`MAX_DEPTH`] levels, so that no peer
//! can overflow a thread's stack with a small frame of nested arrays.

use std::any::{Any, TypeId};

use bytes::Bytes;
use rmpv::Value;
use serde::de::{self, DeserializeOwned, DeserializeSeed, IntoDeserializer, Visitor};
use serde::{Deserialize, Serialize};

use crate::error::{DecodeError, EncodeError};
use crate::msgpack::{Head, Malformed, Reader};

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
    read_value(&mut bytes.as_slice()).map_err(|error| EncodeError(error.to_string()))
}

/// How deeply arrays and maps may nest in a value the runtime decodes; deeper values are
/// refused with an error.
///
/// Decoding recurses once per level, and so does encoding a decoded value again. A frame of a
/// few kilobytes can nest thousands of levels, which overflows a 2 MiB thread stack (Tokio's
/// default) in a debug build from about 400 levels on, and a stack overflow aborts the whole
/// process. 128 levels (serde_json's limit too) leave room for any real payload.
pub const MAX_DEPTH: usize = 128;

/// Reads one dynamic value from the start of `bytes` and moves past it, refusing nesting deeper
/// than [`MAX_DEPTH`].
pub(crate) fn read_value(bytes: &mut &[u8]) -> Result<Value, rmpv::decode::Error> {
    // rmpv counts two steps per array or map (the value, then its items) and up to three for
    // the innermost value (a string: the value, its text, its bytes). So every value within
    // MAX_DEPTH levels passes, and some (arrays around a nil) one level more; both stay far from
    // a stack overflow. Borrowing first then owning allocates every string and buffer once, at
    // its exact size (`read_value` grows large ones from 64 KiB by doubling, copying each time).
    rmpv::decode::read_value_ref_with_max_depth(bytes, 2 * MAX_DEPTH + 3)
        .map(|value| value.to_owned())
}

/// Decodes one MessagePack value, which must fill `bytes`, into a typed one, leniently (see the
/// module documentation).
pub fn from_slice<'de, T: Deserialize<'de>>(bytes: &'de [u8]) -> Result<T, DecodeError> {
    let mut lenient = Lenient {
        reader: Reader::new(bytes),
        depth: 0,
    };
    let value = T::deserialize(&mut lenient).map_err(|error| DecodeError(error.to_string()))?;
    match lenient.reader.rest().len() {
        0 => Ok(value),
        extra => Err(DecodeError(format!("{extra} bytes follow the value"))),
    }
}

/// Like [`from_slice`] for a value that lies inside a received frame: when `T` is [`Bytes`], the
/// result is a view of the frame's bytes instead of a copy (a large `bytes` argument or result
/// is never copied on the way in).
pub(crate) fn from_frame<T: DeserializeOwned + 'static>(
    frame: &Bytes,
    value: &[u8],
) -> Result<T, DecodeError> {
    if TypeId::of::<T>() == TypeId::of::<Bytes>() {
        let mut reader = Reader::new(value);
        if let (Ok(Head::Bin(content) | Head::Str(content)), []) = (reader.head(), reader.rest()) {
            let mut view = Some(frame.slice_ref(content));
            if let Some(view) = (&mut view as &mut dyn Any).downcast_mut::<Option<T>>() {
                if let Some(view) = view.take() {
                    return Ok(view);
                }
            }
        }
    }
    from_slice(value)
}

/// Reads a dynamic value into a typed one, leniently (see the module documentation).
pub fn from_value<T: DeserializeOwned>(value: &Value) -> Result<T, DecodeError> {
    let mut bytes = Vec::new();
    rmpv::encode::write_value(&mut bytes, value).map_err(|error| DecodeError(error.to_string()))?;
    from_slice(&bytes)
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
fn check_map_keys(bytes: &[u8]) -> Result<(), EncodeError> {
    walk(&mut Reader::new(bytes)).map_err(|error| EncodeError(error.to_string()))
}

/// Why [`walk`] refused a value.
#[derive(Debug, thiserror::Error)]
enum WalkError {
    #[error(
        "map keys must be strings or bytes: zerorpc-python drops any message with other keys \
         (convert integer keys to strings)"
    )]
    KeyNotText,
    #[error(transparent)]
    Malformed(#[from] Malformed),
}

fn walk(reader: &mut Reader<'_>) -> Result<(), WalkError> {
    match reader.head()? {
        Head::Array(len) => {
            for _ in 0..len {
                walk(reader)?;
            }
        }
        Head::Map(len) => {
            for _ in 0..len {
                // str markers: fixstr 0xa0-0xbf and str8-32 0xd9-0xdb; bin8-32 0xc4-0xc6. Such a
                // key is read whole by one head.
                if !matches!(reader.peek(), Some(0xa0..=0xbf | 0xd9..=0xdb | 0xc4..=0xc6)) {
                    return Err(WalkError::KeyNotText);
                }
                reader.head()?;
                walk(reader)?;
            }
        }
        _ => {}
    }
    Ok(())
}

type LenientError = rmpv::ext::Error;

/// A serde `Deserializer` over MessagePack bytes that accepts what real zerorpc peers send.
struct Lenient<'de> {
    reader: Reader<'de>,
    depth: usize,
}

impl<'de> Lenient<'de> {
    #[inline]
    fn head(&mut self) -> Result<Head<'de>, LenientError> {
        self.reader.head().map_err(malformed)
    }

    /// Reads a variable number of items with `visitor`, then skips what it left unread (serde
    /// stops a tuple or a struct after its last field), as a decoder of whole values would.
    fn visit_items<V: Visitor<'de>>(
        &mut self,
        items: usize,
        pairs: bool,
        visitor: V,
    ) -> Result<V::Value, LenientError> {
        self.nested(|de| {
            let mut items = Items { de, left: items };
            let value = if pairs {
                visitor.visit_map(&mut items)?
            } else {
                visitor.visit_seq(&mut items)?
            };
            let left = if pairs { items.left * 2 } else { items.left };
            for _ in 0..left {
                de.reader.skip().map_err(malformed)?;
            }
            Ok(value)
        })
    }

    /// Decodes one level deeper with `decode`, refusing to go beyond [`MAX_DEPTH`].
    fn nested<T>(
        &mut self,
        decode: impl FnOnce(&mut Self) -> Result<T, LenientError>,
    ) -> Result<T, LenientError> {
        if self.depth == MAX_DEPTH {
            return Err(de::Error::custom(format!(
                "values nested deeper than {MAX_DEPTH} levels"
            )));
        }
        self.depth += 1;
        let value = decode(self)?;
        self.depth -= 1;
        Ok(value)
    }
}

fn malformed(error: Malformed) -> LenientError {
    de::Error::custom(error)
}

enum IntegerValue {
    Unsigned(u64),
    Signed(i64),
}

/// The number, when a float is integral and fits in 64 bits.
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
            let float = match self.reader.peek() {
                Some(0xca | 0xcb) => match self.reader.clone().head() {
                    Ok(Head::F32(float)) => integral_float(f64::from(float)),
                    Ok(Head::F64(float)) => integral_float(float),
                    _ => None,
                },
                _ => None,
            };
            match float {
                Some(number) => {
                    self.head()?;
                    match number {
                        IntegerValue::Unsigned(number) => visitor.visit_u64(number),
                        IntegerValue::Signed(number) => visitor.visit_i64(number),
                    }
                }
                None => self.deserialize_any(visitor),
            }
        })*
    };
}

impl<'de> de::Deserializer<'de> for &mut Lenient<'de> {
    type Error = LenientError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, LenientError> {
        match self.head()? {
            Head::Nil => visitor.visit_unit(),
            Head::Bool(flag) => visitor.visit_bool(flag),
            Head::Unsigned(number) => visitor.visit_u64(number),
            Head::Signed(number) => visitor.visit_i64(number),
            Head::F32(float) => visitor.visit_f32(float),
            Head::F64(float) => visitor.visit_f64(float),
            Head::Str(bytes) => match text(bytes) {
                Some(text) => visitor.visit_borrowed_str(text),
                None => visitor.visit_borrowed_bytes(bytes),
            },
            Head::Bin(bytes) => visitor.visit_borrowed_bytes(bytes),
            Head::Array(len) => self.visit_items(len, false, visitor),
            Head::Map(len) => self.visit_items(len, true, visitor),
            Head::Ext(tag, data) => {
                de::Deserializer::deserialize_any(rmpv::ValueRef::Ext(tag, data), visitor)
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

    /// An `f32` from any number, but not from a finite float beyond `f32`'s range, which a cast
    /// would turn into an infinity.
    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, LenientError> {
        if let (Some(0xcb), Ok(Head::F64(float))) = (self.reader.peek(), self.reader.clone().head())
        {
            if float.is_finite() && float.abs() > f64::from(f32::MAX) {
                return Err(de::Error::invalid_value(
                    de::Unexpected::Float(float),
                    &"a float that fits f32",
                ));
            }
        }
        self.deserialize_any(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, LenientError> {
        if self.reader.peek() == Some(0xc0) {
            self.head()?;
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, LenientError> {
        if name == rmpv::MSGPACK_EXT_STRUCT_NAME {
            if let Ok(Head::Ext(tag, data)) = self.reader.clone().head() {
                self.head()?;
                return de::Deserializer::deserialize_newtype_struct(
                    rmpv::ValueRef::Ext(tag, data),
                    name,
                    visitor,
                );
            }
        }
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, LenientError> {
        if !matches!(self.reader.clone().head(), Ok(Head::Map(1))) {
            return visitor.visit_enum(Variant {
                de: self,
                has_payload: false,
            });
        }
        self.head()?;
        // A variant's payload may hold the same enum again: count it as a level.
        self.nested(|de| {
            visitor.visit_enum(Variant {
                de,
                has_payload: true,
            })
        })
    }

    serde::forward_to_deserialize_any! {
        bool f64 char str string bytes byte_buf unit unit_struct seq tuple tuple_struct map
        struct identifier ignored_any
    }
}

/// The text of a `str`, or `None` when it is not UTF-8 (then it is offered as bytes).
#[inline(always)]
fn text(bytes: &[u8]) -> Option<&str> {
    if bytes.is_ascii() {
        // SAFETY: ASCII is valid UTF-8. Map keys and most strings on the wire are short ASCII,
        // which `is_ascii` checks several times faster than `from_utf8` validates.
        Some(unsafe { std::str::from_utf8_unchecked(bytes) })
    } else {
        std::str::from_utf8(bytes).ok()
    }
}

/// The items of an array, or the pairs of a map, being read.
struct Items<'a, 'de> {
    de: &'a mut Lenient<'de>,
    left: usize,
}

impl<'de> de::SeqAccess<'de> for Items<'_, 'de> {
    type Error = LenientError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, LenientError> {
        if self.left == 0 {
            return Ok(None);
        }
        self.left -= 1;
        seed.deserialize(&mut *self.de).map(Some)
    }

    fn size_hint(&self) -> Option<usize> {
        // Each item takes at least one byte: never promise more than the input can hold.
        Some(self.left.min(self.de.reader.rest().len()))
    }
}

impl<'de> de::MapAccess<'de> for Items<'_, 'de> {
    type Error = LenientError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, LenientError> {
        if self.left == 0 {
            return Ok(None);
        }
        self.left -= 1;
        seed.deserialize(&mut *self.de).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, LenientError> {
        seed.deserialize(&mut *self.de)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.left.min(self.de.reader.rest().len() / 2))
    }
}

/// An enum as sent by rpcgen peers: a variant name, or a one-key map `{name: payload}`.
struct Variant<'a, 'de> {
    de: &'a mut Lenient<'de>,
    has_payload: bool,
}

impl<'a, 'de> de::EnumAccess<'de> for Variant<'a, 'de> {
    type Error = LenientError;
    type Variant = Self;

    fn variant_seed<V: DeserializeSeed<'de>>(
        self,
        seed: V,
    ) -> Result<(V::Value, Self), LenientError> {
        let variant = seed.deserialize(&mut *self.de)?;
        Ok((variant, self))
    }
}

impl<'de> Variant<'_, 'de> {
    fn payload(&mut self, shape: &str) -> Result<&mut Lenient<'de>, LenientError> {
        if self.has_payload {
            Ok(self.de)
        } else {
            Err(de::Error::custom(format!(
                "expected a {shape} variant with a payload"
            )))
        }
    }
}

impl<'de> de::VariantAccess<'de> for Variant<'_, 'de> {
    type Error = LenientError;

    fn unit_variant(self) -> Result<(), LenientError> {
        if !self.has_payload {
            return Ok(());
        }
        match self.de.head()? {
            Head::Nil => Ok(()),
            other => Err(de::Error::custom(format!(
                "expected a unit variant, found a payload of {}",
                other.kind()
            ))),
        }
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(
        self,
        seed: T,
    ) -> Result<T::Value, LenientError> {
        if self.has_payload {
            seed.deserialize(self.de)
        } else {
            seed.deserialize(().into_deserializer())
        }
    }

    fn tuple_variant<V: Visitor<'de>>(
        mut self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, LenientError> {
        de::Deserializer::deserialize_seq(self.payload("tuple")?, visitor)
    }

    fn struct_variant<V: Visitor<'de>>(
        mut self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, LenientError> {
        de::Deserializer::deserialize_map(self.payload("struct")?, visitor)
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
    fn an_f32_refuses_a_finite_float_beyond_its_range_instead_of_becoming_infinite() {
        let error = from_value::<f32>(&Value::F64(1e39)).unwrap_err();
        assert!(
            error.to_string().contains("a float that fits f32"),
            "{error}"
        );
        assert!(from_value::<f32>(&Value::F64(-1e39)).is_err());
        let largest = f64::from(f32::MAX);
        assert_eq!(from_value::<f32>(&Value::F64(largest)).unwrap(), f32::MAX);
        assert_eq!(
            from_value::<f32>(&Value::F64(f64::INFINITY)).unwrap(),
            f32::INFINITY
        );
        assert!(from_value::<f32>(&Value::F64(f64::NAN)).unwrap().is_nan());
        assert_eq!(from_value::<f32>(&Value::F64(0.1)).unwrap(), 0.1_f32);
        assert_eq!(
            from_value::<f32>(&Value::from(u64::MAX)).unwrap(),
            u64::MAX as f32
        );
        assert_eq!(
            from_value::<Option<f32>>(&Value::F32(2.5)).unwrap(),
            Some(2.5)
        );
        assert_eq!(from_value::<f64>(&Value::F64(1e39)).unwrap(), 1e39);
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
        // A `str` is checked as UTF-8 beyond ASCII; one that is not UTF-8 is still bytes.
        assert_eq!(
            from_slice::<String>(&[0xa3, b'c', 0xc3, 0xa9]).unwrap(),
            "cé"
        );
        assert!(from_slice::<String>(&[0xa1, 0xff]).is_err());
        let bytes: serde_bytes::ByteBuf = from_slice(&[0xa1, 0xff]).unwrap();
        assert_eq!(bytes.into_vec(), [0xff]);
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
    fn slices_decode_in_place_and_must_be_whole() {
        let bytes = encode(&("borrowed", 7u8)).unwrap();
        let (text, number): (&str, u8) = from_slice(&bytes).unwrap();
        assert_eq!((text, number), ("borrowed", 7));
        // A struct read from a longer array ignores the extra items, as from a dynamic value.
        let bytes = encode(&(1u8, "t", serde_bytes::Bytes::new(b""), None::<u8>, [1, 2])).unwrap();
        assert_eq!(from_slice::<Ticket>(&bytes).unwrap().id, 1);
        let error = from_slice::<u8>(&[0x01, 0x02]).unwrap_err();
        assert!(error.0.contains("1 bytes follow"), "{error}");
        let error = from_slice::<Vec<u8>>(&[0x93, 0x01]).unwrap_err();
        assert!(error.0.contains("truncated"), "{error}");
    }

    /// `levels` arrays (`0x91`) or single-entry maps keyed "k" (`0x81 0xa1 k`) around a nil.
    fn nested(levels: usize, container: &[u8]) -> Vec<u8> {
        let mut bytes = container.repeat(levels);
        bytes.push(0xc0);
        bytes
    }

    #[test]
    fn deep_nesting_is_refused_without_overflowing_the_stack() {
        for container in [&[0x91][..], &[0x81, 0xa1, b'k']] {
            // At the limit, both decoders accept the value, and it encodes again.
            let bytes = nested(MAX_DEPTH, container);
            let value = from_slice::<Value>(&bytes).unwrap();
            assert_eq!(read_value(&mut &bytes[..]).unwrap(), value);
            assert_eq!(encode(&value).unwrap(), bytes);
            // Deeper (rmpv may allow one level more), or much deeper in a small frame, is an
            // error, not a stack overflow.
            let error = from_slice::<Value>(&nested(MAX_DEPTH + 1, container)).unwrap_err();
            assert!(error.0.contains("nested deeper"), "{error}");
            for levels in [MAX_DEPTH + 2, 100_000] {
                let bytes = nested(levels, container);
                assert!(from_slice::<Value>(&bytes).is_err());
                assert!(read_value(&mut &bytes[..]).is_err());
            }
        }
    }

    #[test]
    fn a_recursive_enum_counts_each_variant_as_a_level() {
        #[derive(Debug, Deserialize)]
        enum Tree {
            Leaf,
            Node(Box<Tree>),
        }
        let node = [0x81, 0xa4, b'N', b'o', b'd', b'e'];
        let mut bytes = node.repeat(MAX_DEPTH);
        bytes.extend_from_slice(&[0xa4, b'L', b'e', b'a', b'f']);
        let mut tree = from_slice::<Tree>(&bytes).unwrap();
        let mut depth = 0;
        while let Tree::Node(inner) = tree {
            tree = *inner;
            depth += 1;
        }
        assert_eq!(depth, MAX_DEPTH);
        let mut bytes = node.repeat(100_000);
        bytes.extend_from_slice(&[0xa4, b'L', b'e', b'a', b'f']);
        let error = from_slice::<Tree>(&bytes).unwrap_err();
        assert!(error.0.contains("nested deeper"), "{error}");
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

    #[test]
    fn bytes_inside_a_frame_are_viewed_not_copied() {
        let frame = Bytes::from(encode(&serde_bytes::ByteBuf::from(vec![7u8; 300])).unwrap());
        let view: Bytes = from_frame(&frame, &frame).unwrap();
        assert_eq!(view, vec![7u8; 300]);
        let content = frame.len() - 300..;
        assert_eq!(view.as_ptr(), frame[content].as_ptr());
        // Text is accepted as bytes too; other types decode as usual.
        let text = Bytes::from(encode("hi").unwrap());
        assert_eq!(from_frame::<Bytes>(&text, &text).unwrap(), &b"hi"[..]);
        let copied: serde_bytes::ByteBuf = from_frame(&frame, &frame).unwrap();
        assert_eq!(copied, vec![7u8; 300]);
        assert_eq!(from_frame::<String>(&text, &text).unwrap(), "hi");
        // A value that is not bin or str goes through the ordinary decoder.
        let list = Bytes::from(encode(&[1u8, 2]).unwrap());
        assert_eq!(from_frame::<Bytes>(&list, &list).unwrap(), &[1u8, 2][..]);
        let number = Bytes::from(encode(&5).unwrap());
        assert!(from_frame::<Bytes>(&number, &number).is_err());
        // Nested, `Bytes` decodes through serde, as leniently as other types.
        let nested = encode(&Some("hi")).unwrap();
        assert_eq!(
            from_slice::<Option<Bytes>>(&nested).unwrap(),
            Some(Bytes::from_static(b"hi"))
        );
        assert_eq!(
            encode(&Bytes::from_static(b"hi")).unwrap(),
            [0xc4, 2, b'h', b'i']
        );
    }
}
