//! Benchmarks the front end on a generated schema of 1,000 types and 1,000 methods: compiling it
//! (parse, resolve, build the IR) and formatting it. docs/benchmarks.md records the results.

use std::fmt::Write as _;
use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use rpcgen_idl::{format_source, Compiler, MemoryLoader};

const TYPES: usize = 1_000;
const METHODS: usize = 1_000;
const METHODS_PER_SERVICE: usize = 100;

/// A valid `.rpc` file with `TYPES` types (structs, enums with every variant shape, errors) and
/// `METHODS` methods spread over services, using every kind of type and attribute.
fn generated_schema() -> String {
    let mut text = String::from("/// A generated schema.\npackage bench;\n");
    for index in 0..TYPES {
        let previous = index.saturating_sub(1);
        let declaration = match index % 4 {
            0 => format!(
                "\n/// Struct {index}.\nstruct T{index} {{\n    /// The id.\n    id: u64,\n    name: string,\n    tags: list<string>,\n    attributes: map<string, any>?,\n    @name(\"blob_{index}\")\n    blob: bytes?,\n}}\n"
            ),
            1 => format!(
                "\nenum T{index} {{\n    Empty,\n    One(T{previous}),\n    Pair(u32, string),\n    Named {{ id: u64, note: string? }},\n}}\n"
            ),
            2 => format!("\nenum T{index} {{\n    Low,\n    Normal,\n    @deprecated(\"use Normal\")\n    High,\n}}\n"),
            _ => format!("\n/// Error {index}.\nerror T{index} {{\n    id: u64,\n    reason: string,\n}}\n"),
        };
        text.push_str(&declaration);
    }
    for service in 0..METHODS / METHODS_PER_SERVICE {
        write!(
            text,
            "\n/// Service {service}.\n@timeout(30s)\nservice S{service} {{\n"
        )
        .unwrap();
        for method in 0..METHODS_PER_SERVICE {
            let number = service * METHODS_PER_SERVICE + method;
            let struct_type = (number % (TYPES / 4)) * 4;
            let error_type = struct_type + 3;
            let unit_enum = struct_type + 2;
            let returns = if number % 2 == 0 {
                format!("T{struct_type}")
            } else {
                format!("stream<T{}>", struct_type + 1)
            };
            write!(
                text,
                "    /// Method {number}.\n    @timeout(500ms)\n    m{number}(id: u64, filter: map<T{unit_enum}, list<string>>, item: T{struct_type}?) -> {returns} throws T{error_type};\n"
            )
            .unwrap();
        }
        text.push_str("}\n");
    }
    text
}

fn front_end(criterion: &mut Criterion) {
    let text = generated_schema();
    let mut compiler =
        Compiler::with_loader(MemoryLoader::new().with_file("bench.rpc", text.as_str()));
    let mut group = criterion.benchmark_group("1000 types + 1000 methods");
    group.bench_function("compile (parse + resolve)", |bench| {
        bench.iter(|| {
            black_box(
                compiler
                    .compile(&["bench.rpc"])
                    .expect("the generated schema is valid"),
            )
        })
    });
    group.bench_function("format", |bench| {
        bench.iter(|| {
            black_box(format_source("bench.rpc", &text).expect("the generated schema parses"))
        })
    });
    group.finish();
}

criterion_group!(benches, front_end);
criterion_main!(benches);
