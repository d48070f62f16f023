//! Benchmarks the Rust backend on a generated schema of 1,000 types and 1,000 methods: the IR →
//! formatted Rust step alone, and the whole `.rpc` → Rust path a build script takes (without
//! writing files). docs/benchmarks.md records the results.

use std::fmt::Write as _;
use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use rpcgen_idl::{Compiler, MemoryLoader};

/// Each kind of type (struct, enum with data, unit enum, error) gets this many declarations.
const TYPES_PER_KIND: usize = 250;
const SERVICES: usize = 10;
const METHODS_PER_SERVICE: usize = 100;

/// A `.rpc` file with 1,000 documented types and 1,000 methods over 10 services, using every
/// kind of type, attribute, `throws` and streams.
fn schema_text() -> String {
    let mut text = String::from("/// A generated schema for benchmarks.\npackage big;\n");
    for index in 0..TYPES_PER_KIND {
        let earlier = index.saturating_sub(1);
        write!(
            text,
            "
/// Record {index}, with a code block:
///
/// ```
/// record {index}
/// ```
struct Record{index} {{
    /// The id.
    id: u64,
    name: string,
    note: string?,
    labels: list<string>,
    attributes: map<string, any>,
    @name(\"blob_{index}\")
    blob: bytes?,
    level: Level{index},
    previous: Record{earlier}?,
}}

/// Change {index}.
enum Change{index} {{
    Reset,
    Set(Record{index}),
    Pair(u32, string),
    Named {{ id: u64, reason: string? }},
}}

enum Level{index} {{
    Low,
    Normal,
    @deprecated(\"use Normal\")
    High,
}}

/// Failure {index}.
error Failure{index} {{
    id: u64,
    message: string,
}}
"
        )
        .expect("writing to a String");
    }
    for service in 0..SERVICES {
        write!(
            text,
            "\n/// Service {service}.\n@timeout(30s)\nservice Service{service} {{\n"
        )
        .expect("writing to a String");
        for method in 0..METHODS_PER_SERVICE {
            let number = service * METHODS_PER_SERVICE + method;
            let record = number % TYPES_PER_KIND;
            let returns = if number.is_multiple_of(2) {
                format!("Record{record}")
            } else {
                format!("stream<Change{record}>")
            };
            write!(
                text,
                "    /// Method {number}.\n    @timeout(500ms)\n    method{number}(id: u64, \
                 filter: map<Level{record}, list<string>>, item: Record{record}?) -> {returns} \
                 throws Failure{record};\n"
            )
            .expect("writing to a String");
        }
        text.push_str("}\n");
    }
    text
}

fn rust_backend(criterion: &mut Criterion) {
    let text = schema_text();
    let mut compiler =
        Compiler::with_loader(MemoryLoader::new().with_file("big.rpc", text.as_str()));
    let schema = compiler
        .compile(&["big.rpc"])
        .unwrap_or_else(|errors| panic!("the generated schema is valid:\n{errors}"));
    let generated = rpcgen::rust::generate(&schema).expect("Rust can be generated");
    let output = &generated[0].contents;
    println!(
        "input: {} lines of .rpc; output: {} lines, {} KiB of Rust",
        text.lines().count(),
        output.lines().count(),
        output.len() / 1024
    );

    let mut group = criterion.benchmark_group("rust codegen, 1000 types + 1000 methods");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(20));
    group.bench_function("generate (IR to formatted Rust)", |bench| {
        bench.iter(|| black_box(rpcgen::rust::generate(black_box(&schema)).expect("generates")))
    });
    group.bench_function("compile + generate (.rpc to Rust)", |bench| {
        bench.iter(|| {
            let schema = compiler.compile(&["big.rpc"]).expect("compiles");
            black_box(rpcgen::rust::generate(&schema).expect("generates"))
        })
    });
    group.finish();
}

criterion_group!(benches, rust_backend);
criterion_main!(benches);
