//! Reading MessagePack in place, without building values.
//!
//! A [`Reader`] reads one head at a time: a scalar, the bytes of a string, binary or extension
//! (borrowed from the input), or the length of an array or map. The event parser uses it to find
//! the parts of a frame, and the lenient deserializer of [`crate::value`] to decode typed values
//! straight from the frame.

/// What a MessagePack marker starts, with the data it carries.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Head<'a> {
    Nil,
    Bool(bool),
    Unsigned(u64),
    Signed(i64),
    F32(f32),
    F64(f64),
    /// A `str`, as raw bytes: the UTF-8 is not checked here.
    Str(&'a [u8]),
    Bin(&'a [u8]),
    /// An array of this many values.
    Array(usize),
    /// A map of this many key/value pairs.
    Map(usize),
    Ext(i8, &'a [u8]),
}

impl Head<'_> {
    /// The kind of value in words, for error messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Head::Nil => "nil",
            Head::Bool(_) => "a boolean",
            Head::Unsigned(_) | Head::Signed(_) => "an integer",
            Head::F32(_) | Head::F64(_) => "a float",
            Head::Str(_) => "a string",
            Head::Bin(_) => "bytes",
            Head::Array(_) => "an array",
            Head::Map(_) => "a map",
            Head::Ext(..) => "an extension value",
        }
    }
}

/// Why bytes are not MessagePack.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum Malformed {
    /// The input ends inside a value.
    #[error("truncated MessagePack")]
    Truncated,
    /// The byte 0xc1, which MessagePack never uses.
    #[error("invalid MessagePack marker 0xc1")]
    Reserved,
}

/// A cursor over MessagePack bytes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Reader<'a> {
    input: &'a [u8],
}

impl<'a> Reader<'a> {
    /// A reader at the start of `input`.
    #[inline]
    pub fn new(input: &'a [u8]) -> Self {
        Self { input }
    }

    /// The bytes not read yet.
    #[inline]
    pub fn rest(&self) -> &'a [u8] {
        self.input
    }

    /// The next marker byte, without reading it.
    #[inline]
    pub fn peek(&self) -> Option<u8> {
        self.input.first().copied()
    }

    /// Reads the next head. Strings, binaries and extensions are read whole; for arrays and maps
    /// only the length is read, and their items follow.
    #[inline(always)]
    pub fn head(&mut self) -> Result<Head<'a>, Malformed> {
        let (&marker, rest) = self.input.split_first().ok_or(Malformed::Truncated)?;
        self.input = rest;
        Ok(match marker {
            0x00..=0x7f => Head::Unsigned(u64::from(marker)),
            0x80..=0x8f => Head::Map(usize::from(marker & 0x0f)),
            0x90..=0x9f => Head::Array(usize::from(marker & 0x0f)),
            0xa0..=0xbf => Head::Str(self.take(usize::from(marker & 0x1f))?),
            0xc0 => Head::Nil,
            0xc1 => return Err(Malformed::Reserved),
            0xc2 => Head::Bool(false),
            0xc3 => Head::Bool(true),
            0xc4..=0xc6 => {
                let len = self.length(1 << (marker - 0xc4))?;
                Head::Bin(self.take(len)?)
            }
            0xc7..=0xc9 => {
                let len = self.length(1 << (marker - 0xc7))?;
                let tag = self.take(1)?[0] as i8;
                Head::Ext(tag, self.take(len)?)
            }
            0xca => Head::F32(f32::from_bits(self.number(4)? as u32)),
            0xcb => Head::F64(f64::from_bits(self.number(8)?)),
            0xcc..=0xcf => Head::Unsigned(self.number(1 << (marker - 0xcc))?),
            0xd0 => Head::Signed(i64::from(self.number(1)? as u8 as i8)),
            0xd1 => Head::Signed(i64::from(self.number(2)? as u16 as i16)),
            0xd2 => Head::Signed(i64::from(self.number(4)? as u32 as i32)),
            0xd3 => Head::Signed(self.number(8)? as i64),
            0xd4..=0xd8 => {
                let tag = self.take(1)?[0] as i8;
                Head::Ext(tag, self.take(1 << (marker - 0xd4))?)
            }
            0xd9..=0xdb => {
                let len = self.length(1 << (marker - 0xd9))?;
                Head::Str(self.take(len)?)
            }
            0xdc | 0xdd => Head::Array(self.length(2 << (marker - 0xdc))?),
            0xde | 0xdf => Head::Map(self.length(2 << (marker - 0xde))?),
            0xe0..=0xff => Head::Signed(i64::from(marker as i8)),
        })
    }

    /// Reads one whole value and returns its bytes. Nested values are counted, not recursed
    /// into, so any depth of nesting is safe.
    pub fn skip(&mut self) -> Result<&'a [u8], Malformed> {
        let start = self.input;
        let mut pending: usize = 1;
        while pending > 0 {
            pending -= 1;
            let items = match self.head()? {
                Head::Array(len) => len,
                Head::Map(len) => len.saturating_mul(2),
                _ => 0,
            };
            // Every value takes at least one byte: more announced items than bytes left is a lie.
            pending = pending.saturating_add(items);
            if pending > self.input.len() {
                return Err(Malformed::Truncated);
            }
        }
        Ok(&start[..start.len() - self.input.len()])
    }

    #[inline]
    fn take(&mut self, len: usize) -> Result<&'a [u8], Malformed> {
        let (taken, rest) = self
            .input
            .split_at_checked(len)
            .ok_or(Malformed::Truncated)?;
        self.input = rest;
        Ok(taken)
    }

    /// A big-endian unsigned number of `width` bytes.
    #[inline]
    fn number(&mut self, width: usize) -> Result<u64, Malformed> {
        Ok(self
            .take(width)?
            .iter()
            .fold(0u64, |number, byte| (number << 8) | u64::from(*byte)))
    }

    #[inline]
    fn length(&mut self, width: usize) -> Result<usize, Malformed> {
        usize::try_from(self.number(width)?).map_err(|_| Malformed::Truncated)
    }
}

/// The bytes of the first item of an array, or what the value is instead when it is not a
/// non-empty array. The item is not checked when it is the only one.
pub(crate) fn first_item(bytes: &[u8]) -> Result<&[u8], &'static str> {
    let mut reader = Reader::new(bytes);
    match reader.head() {
        Ok(Head::Array(0)) => Err("an empty array"),
        Ok(Head::Array(1)) => Ok(reader.rest()),
        Ok(Head::Array(_)) => reader.skip().map_err(|_| "truncated MessagePack"),
        Ok(other) => Err(other.kind()),
        Err(_) => Err("malformed MessagePack"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rmpv::Value;

    fn encoded(value: &Value) -> Vec<u8> {
        let mut bytes = Vec::new();
        rmpv::encode::write_value(&mut bytes, value).unwrap();
        bytes
    }

    #[test]
    fn heads_match_rmpv_for_every_width() {
        let cases = [
            (Value::Nil, Head::Nil),
            (Value::from(true), Head::Bool(true)),
            (Value::from(5), Head::Unsigned(5)),
            (Value::from(300), Head::Unsigned(300)),
            (Value::from(70_000), Head::Unsigned(70_000)),
            (Value::from(u64::MAX), Head::Unsigned(u64::MAX)),
            (Value::from(-3), Head::Signed(-3)),
            (Value::from(-100), Head::Signed(-100)),
            (Value::from(-1000), Head::Signed(-1000)),
            (Value::from(-100_000), Head::Signed(-100_000)),
            (Value::from(i64::MIN), Head::Signed(i64::MIN)),
            (Value::F32(1.5), Head::F32(1.5)),
            (Value::F64(-2.25), Head::F64(-2.25)),
            (Value::from("hi"), Head::Str(b"hi")),
            (Value::Binary(vec![1, 2]), Head::Bin(&[1, 2])),
            (Value::Ext(7, vec![9]), Head::Ext(7, &[9])),
            (Value::Ext(-2, vec![1, 2, 3]), Head::Ext(-2, &[1, 2, 3])),
            (Value::Array(vec![Value::Nil; 20]), Head::Array(20)),
            (Value::Map(vec![(Value::Nil, Value::Nil); 3]), Head::Map(3)),
        ];
        for (value, head) in cases {
            let bytes = encoded(&value);
            assert_eq!(Reader::new(&bytes).head(), Ok(head), "{value}");
        }
        let long = "x".repeat(300);
        let bytes = encoded(&Value::from(long.as_str()));
        assert_eq!(Reader::new(&bytes).head(), Ok(Head::Str(long.as_bytes())));
    }

    #[test]
    fn skip_reads_exactly_one_value() {
        let value = Value::Array(vec![
            Value::Map(vec![(Value::from("k"), Value::Array(vec![Value::from(1)]))]),
            Value::Binary(vec![0; 70_000]),
        ]);
        let mut bytes = encoded(&value);
        let length = bytes.len();
        bytes.push(0xc0);
        let mut reader = Reader::new(&bytes);
        assert_eq!(reader.skip().unwrap().len(), length);
        assert_eq!(reader.rest(), [0xc0]);
    }

    #[test]
    fn malformed_input_is_an_error_not_a_panic() {
        for bytes in [
            &[0x92, 0x01][..],
            &[0xdd, 0xff, 0xff, 0xff, 0xff],
            &[0xc6, 0, 0, 0, 9],
        ] {
            assert_eq!(Reader::new(bytes).skip(), Err(Malformed::Truncated));
        }
        assert_eq!(Reader::new(&[0xc1]).skip(), Err(Malformed::Reserved));
        let deep = vec![0x91; 1_000_000];
        assert_eq!(Reader::new(&deep).skip(), Err(Malformed::Truncated));
    }

    #[test]
    fn first_items_are_found_or_explained() {
        assert_eq!(first_item(&[0x92, 0xa1, b'x', 0x01]), Ok(&[0xa1, b'x'][..]));
        assert_eq!(first_item(&[0x90]), Err("an empty array"));
        assert_eq!(first_item(&[0xc0]), Err("nil"));
        assert_eq!(first_item(&[0x92]), Err("truncated MessagePack"));
    }
}
