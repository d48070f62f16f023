//! The MessagePack form of generated types, checked against hand-written bytes in both
//! directions: structs are maps keyed by wire names, `T?` is nil when absent (and a missing key
//! reads as absent), bytes are `bin`, unit variants are strings and variants with data are
//! one-key maps (one value bare, several as an array, named fields as a map).

use std::collections::BTreeMap;
use std::fmt::Debug;

use rpcgen_e2e::generated::containers::{Color, Nested};
use rpcgen_e2e::generated::enums::{Level, Point, Shape};
use rpcgen_e2e::generated::keywords::{Flow, Keywords};
use rpcgen_e2e::generated::recursion::{Cell, Expr};
use rpcgen_e2e::generated::scalars::AllScalars;
use rpcgen_e2e::generated::shop::NotFound;
use rpcgen_runtime::generated_support::encode_error;
use rpcgen_runtime::serde::de::DeserializeOwned;
use rpcgen_runtime::serde::Serialize;
use rpcgen_runtime::value::{encode, from_value};
use rpcgen_runtime::{Bytes, Value};

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

fn decode<T: DeserializeOwned>(hex: &str) -> T {
    let bytes: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|at| u8::from_str_radix(&hex[at..at + 2], 16).expect("hex"))
        .collect();
    let value = rmpv::decode::read_value(&mut bytes.as_slice()).expect("valid MessagePack");
    from_value(&value).expect("decodes as the type")
}

/// `value` encodes to exactly `expected` (hex, spaces ignored) and decodes back from it.
fn assert_wire<T: Serialize + DeserializeOwned + PartialEq + Debug>(value: T, expected: &str) {
    let expected: String = expected.split_whitespace().collect();
    assert_eq!(
        hex(&encode(&value).unwrap()),
        expected,
        "encoding {value:?}"
    );
    assert_eq!(decode::<T>(&expected), value, "decoding {expected}");
}

#[test]
fn unit_variants_are_their_wire_names() {
    assert_wire(Level::Debug, "a5 4465627567");
    assert_wire(Level::Warning, "a4 7761726e");
    #[allow(deprecated)]
    let notice = Level::Notice;
    assert_wire(notice, "a6 4e6f74696365");
    assert_wire(Shape::Empty, "a5 456d707479");
}

#[test]
fn variants_with_data_are_one_key_maps() {
    assert_wire(Shape::Circle(1.5), "81 a6 436972636c65 cb3ff8000000000000");
    assert_wire(
        Shape::Rect(1.0, 2.0),
        "81 a4 52656374 92 cb3ff0000000000000 cb4000000000000000",
    );
    assert_wire(
        Shape::Polygon {
            points: vec![Point { x: 0.5, y: -1.0 }],
            closed: true,
        },
        "81 a7 506f6c79676f6e 82 a6 706f696e7473 91 82 a178 cb3fe0000000000000 \
         a179 cbbff0000000000000 a9 69735f636c6f736564 c3",
    );
    assert_wire(
        Shape::Label {
            text: "x".to_string(),
        },
        "81 a5 4c6162656c 81 a4 74657874 a178",
    );
    assert_wire(Flow::Return(3), "81 a6 52657475726e 03");
}

#[test]
fn keyword_names_keep_their_idl_spelling_on_the_wire() {
    assert_wire(
        Keywords {
            r#type: "t".to_string(),
            class: "c".to_string(),
            self_: 1,
            r#async: true,
            delete: false,
            none: true,
        },
        "86 a4 74797065 a174 a5 636c617373 a163 a4 73656c66 01 a5 6173796e63 c3 \
         a6 64656c657465 c2 a4 4e6f6e65 c3",
    );
}

#[test]
fn containers_optionals_and_enum_keys() {
    assert_wire(
        Nested {
            matrix: vec![vec![1.0]],
            index: BTreeMap::from([("a".to_string(), vec![1])]),
            by_color: BTreeMap::from([(Color::Red, "r".to_string())]),
            maybe_list: None,
            list_of_maybes: vec![Some("x".to_string()), None],
            deep: None,
            values: vec![Value::Nil],
        },
        "87 a6 6d6174726978 91 91 cb3ff0000000000000 a5 696e646578 81 a161 91 01 \
         a8 62795f636f6c6f72 81 a3 526564 a172 aa 6d617962655f6c697374 c0 \
         ae 6c6973745f6f665f6d6179626573 92 a178 c0 a4 64656570 c0 a6 76616c756573 91 c0",
    );
}

#[test]
fn recursive_types_are_boxed_and_a_missing_optional_reads_as_none() {
    assert_wire(
        Cell {
            value: 1,
            next: Some(Box::new(Cell {
                value: 2,
                next: None,
            })),
        },
        "82 a5 76616c7565 01 a4 6e657874 82 a5 76616c7565 02 a4 6e657874 c0",
    );
    assert_eq!(
        decode::<Cell>("81 a5 76616c7565 05".replace(' ', "").as_str()),
        Cell {
            value: 5,
            next: None
        }
    );
    assert_wire(
        Expr::Add(
            Box::new(Expr::Literal(1.0)),
            Box::new(Expr::Negate(Box::new(Expr::Literal(2.0)))),
        ),
        "81 a3 416464 92 81 a7 4c69746572616c cb3ff0000000000000 \
         81 a6 4e6567617465 81 a7 4c69746572616c cb4000000000000000",
    );
}

#[test]
fn scalars_keep_their_range_and_bytes_are_bin() {
    let scalars = AllScalars {
        flag: true,
        tiny: i8::MIN,
        small: i16::MAX,
        medium: i32::MIN,
        large: i64::MIN,
        byte: u8::MAX,
        word: u16::MAX,
        double_word: u32::MAX,
        quad_word: u64::MAX,
        single: 0.5,
        double: -0.25,
        text: "é".to_string(),
        blob: Bytes::from(vec![1, 2]),
        anything: Value::Array(vec![Value::Nil, Value::from("x")]),
    };
    let encoded = hex(&encode(&scalars).unwrap());
    assert!(
        encoded.contains("a4626c6f62c4020102"),
        "blob is bin: {encoded}"
    );
    assert!(
        encoded.contains("a474657874a2c3a9"),
        "text is UTF-8 str: {encoded}"
    );
    assert!(
        encoded.contains("a9717561645f776f7264cfffffffffffffffff"),
        "u64::MAX: {encoded}"
    );
    assert_eq!(decode::<AllScalars>(&encoded), scalars);
}

#[test]
fn declared_errors_travel_in_the_documented_err_form() {
    let error = encode_error(&NotFound { id: 42 });
    assert_eq!(error.name, "NotFound");
    assert_eq!(error.message, "id=42");
    assert_eq!(
        error.traceback.as_deref(),
        Some("NotFound: id=42\nrpcgen-error-fields: gaJpZCo=\n")
    );
}
