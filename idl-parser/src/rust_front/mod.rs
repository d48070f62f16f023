//! The Rust front end: annotated Rust traits and types → the same IR as `.rpc` files.
//!
//! A Rust file holds one package: its `#[rpcgen::service]` traits and its `#[rpcgen::data]` and
//! `#[rpcgen::error]` types (inline modules included), in source order. The package is named by
//! the `package = "…"` option of a service, else by the file (`shop.rs` → `shop`; `lib.rs`,
//! `main.rs` and `mod.rs` by their folder, or by the crate's folder for `src/`).
//!
//! Lowering turns the Rust items into the `.rpc` syntax tree (modules `lower`, `service`, `types`,
//! `options`), checking only what `.rpc` syntax cannot express; then the resolver checks and
//! builds the IR exactly as for `.rpc` files, so both front ends accept and reject the same things
//! with the same messages. Two entry points:
//! - [`compile_rust`] / [`compile_rust_with`]: `.rs` files (for `rpcgen extract`, `--from-rust`
//!   and the builder), with diagnostics that point into the `.rs` files like rustc's
//!   ([`compile_rust_mapped_with`] adds where each declaration is, for `rpcgen breaking`);
//! - [`compile_macro_item`]: the item a proc macro was called on, lowered within the file it sits
//!   in, with errors as `syn::Error`s at the offending tokens.
//!
//! docs/trait-first.md is the user's guide.

mod lower;
mod options;
mod service;
mod spans;
mod types;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::ast;
use crate::compile::{resolve_loaded, LoadedFile};
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::ir::Schema;
use crate::locate::SourceMap;
use crate::naming::snake_case;
use crate::resolve;
use crate::source::{FileId, FsLoader, SourceFiles, SourceLoader, Span};

use lower::Lowerer;
pub use lower::MapsWritten;
use spans::{FileOffsets, SpanMap, SpanTable};

/// Compiles Rust files from disk: each file's annotated items are one package.
pub fn compile_rust<P: AsRef<Path>>(paths: &[P]) -> Result<Schema, Diagnostics> {
    compile_rust_with(&FsLoader, paths)
}

/// Compiles Rust files read through `loader` (for example a [`crate::MemoryLoader`]).
pub fn compile_rust_with<P: AsRef<Path>>(
    loader: &dyn SourceLoader,
    paths: &[P],
) -> Result<Schema, Diagnostics> {
    let (files, loaded, errors) = load_rust(loader, paths);
    resolve_loaded(files, &loaded, errors)
}

/// Like [`compile_rust_with`], and also returns where each declaration is written in the Rust
/// files, as [`crate::Compiler::compile_mapped`] does for `.rpc` files.
pub fn compile_rust_mapped_with<P: AsRef<Path>>(
    loader: &dyn SourceLoader,
    paths: &[P],
) -> Result<(Schema, SourceMap), Diagnostics> {
    let (files, loaded, errors) = load_rust(loader, paths);
    let map = SourceMap::new(files.clone(), &loaded);
    resolve_loaded(files, &loaded, errors).map(|schema| (schema, map))
}

/// Reads, parses and lowers the Rust files, each into one package.
fn load_rust<P: AsRef<Path>>(
    loader: &dyn SourceLoader,
    paths: &[P],
) -> (SourceFiles, Vec<LoadedFile>, Vec<Diagnostic>) {
    let mut files = SourceFiles::new();
    let mut loaded = Vec::new();
    let mut errors = Vec::new();
    for path in paths {
        let path = path.as_ref();
        let text = match loader.read(path) {
            Ok(text) => text,
            Err(error) => {
                errors.push(Diagnostic::error(format!(
                    "cannot read `{}`: {error}",
                    path.display()
                )));
                continue;
            }
        };
        let file = files.add(path, text);
        let syntax = match syn::parse_file(files.text(file)) {
            Ok(syntax) => syntax,
            Err(error) => {
                let span = FileOffsets.map(error.span());
                errors.push(
                    Diagnostic::error(format!("cannot parse `{}` as Rust", path.display()))
                        .primary(file, span, error.to_string()),
                );
                continue;
            }
        };
        let mut offsets = FileOffsets;
        let mut lowerer = Lowerer::new(file, &mut offsets);
        let docs = lowerer.file_docs(&syntax.attrs);
        let items: Vec<ast::Item> = flatten(&syntax.items)
            .into_iter()
            .filter_map(|item| lowerer.item(item))
            .collect();
        if items.is_empty() && lowerer.errors.is_empty() {
            errors.push(
                Diagnostic::error(format!(
                    "`{}` has no `#[rpcgen::service]`, `#[rpcgen::data]` or `#[rpcgen::error]` items",
                    path.display()
                ))
                .primary(file, Span::default(), "nothing to extract")
                .help("see docs/trait-first.md for how to annotate a trait and its types"),
            );
        }
        let package = lowerer
            .package
            .take()
            .unwrap_or_else(|| derived_package(path));
        errors.append(&mut lowerer.errors);
        loaded.push(loaded_file(file, package, docs, items));
    }
    errors.extend(duplicate_packages(&loaded));
    (files, loaded, errors)
}

/// What [`compile_macro_item`] gives: the package of the macro's file, and which Rust map types
/// its annotated items wrote (the macros generate `HashMap`s where every map was one).
#[derive(Debug)]
pub struct MacroPackage {
    /// The package, as IR.
    pub schema: Schema,
    /// Which Rust map types the file's annotated items wrote.
    pub maps: MapsWritten,
}

/// Why [`compile_macro_item`] produced no schema.
#[derive(Debug)]
pub enum MacroError {
    /// The macro's own item has errors, each at its token.
    Here(syn::Error),
    /// Other rpcgen items of the same file have errors; their own macros report them.
    Elsewhere,
}

/// Compiles the item a proc macro was called on (with its annotation attribute in place) in the
/// context of the file it sits in: `file` is that file's path and syntax when the macro could read
/// it, so that the types the item uses are known. The item replaces its own copy in the file.
pub fn compile_macro_item(
    item: &syn::Item,
    file: Option<(&Path, &syn::File)>,
) -> Result<MacroPackage, MacroError> {
    let mut table = SpanTable::default();
    let mut sources = SourceFiles::new();
    let path = file.map_or_else(|| PathBuf::from("macro.rs"), |(path, _)| path.to_path_buf());
    let file_id = sources.add(&path, String::new());
    let mut lowerer = Lowerer::new(file_id, &mut table);
    let docs = file.map_or_else(Vec::new, |(_, syntax)| lowerer.file_docs(&syntax.attrs));
    let mut items = Vec::new();
    let mut found = false;
    for other in file.map_or_else(Vec::new, |(_, syntax)| flatten(&syntax.items)) {
        if same_item(other, item) {
            found = true;
            lowerer.record_own(true);
            items.extend(lowerer.item(item));
            lowerer.record_own(false);
        } else {
            items.extend(lowerer.item(other));
        }
    }
    if !found {
        lowerer.record_own(true);
        items.extend(lowerer.item(item));
        lowerer.record_own(false);
    }
    let package = lowerer
        .package
        .take()
        .unwrap_or_else(|| derived_package(&path));
    let mut errors = std::mem::take(&mut lowerer.errors);
    let maps = lowerer.maps;
    let loaded = [loaded_file(file_id, package, docs, items)];
    match resolve::resolve(&loaded) {
        Ok(schema) if errors.is_empty() => return Ok(MacroPackage { schema, maps }),
        Ok(_) => {}
        Err(found) => errors.extend(found),
    }
    let own: Option<syn::Error> = errors
        .iter()
        .filter_map(|error| {
            let primary = error.labels.iter().find(|label| label.primary)?;
            let span = table.own_span(primary.span)?;
            Some(syn::Error::new(span, macro_message(error)))
        })
        .reduce(|mut first, next| {
            first.combine(next);
            first
        });
    Err(own.map_or(MacroError::Elsewhere, MacroError::Here))
}

/// A diagnostic as the text of a compiler error: the message, then its notes and help.
fn macro_message(error: &Diagnostic) -> String {
    let mut text = error.message.clone();
    for note in &error.notes {
        text.push_str(&format!("\n= note: {note}"));
    }
    for help in &error.help {
        text.push_str(&format!("\n= help: {help}"));
    }
    text
}

/// Every item of a file, with the items of inline modules in place of the modules.
fn flatten(items: &[syn::Item]) -> Vec<&syn::Item> {
    items
        .iter()
        .flat_map(|item| match item {
            syn::Item::Mod(syn::ItemMod {
                content: Some((_, inner)),
                ..
            }) => flatten(inner),
            other => vec![other],
        })
        .collect()
}

/// Whether two items declare the same name with the same kind of item.
fn same_item(a: &syn::Item, b: &syn::Item) -> bool {
    match (a, b) {
        (syn::Item::Struct(a), syn::Item::Struct(b)) => a.ident == b.ident,
        (syn::Item::Enum(a), syn::Item::Enum(b)) => a.ident == b.ident,
        (syn::Item::Trait(a), syn::Item::Trait(b)) => a.ident == b.ident,
        _ => false,
    }
}

/// The package a file's name gives: its stem, or for `lib.rs`, `main.rs` and `mod.rs` its
/// folder (the crate's folder for one called `src`), in snake_case.
fn derived_package(path: &Path) -> ast::Ident {
    let stem = path
        .file_stem()
        .and_then(|stem| stem.to_str())
        .unwrap_or("");
    let name = if matches!(stem, "lib" | "main" | "mod") {
        let folder = path.parent().unwrap_or(Path::new(""));
        let folder = if folder.file_name().is_some_and(|name| name == "src") {
            folder.parent().unwrap_or(folder)
        } else {
            folder
        };
        let absolute = std::path::absolute(folder).unwrap_or_else(|_| folder.to_path_buf());
        absolute
            .file_name()
            .and_then(|name| name.to_str())
            .unwrap_or(stem)
            .to_string()
    } else {
        stem.to_string()
    };
    ast::Ident {
        text: snake_case(&name),
        span: Span::default(),
    }
}

/// One lowered Rust file in the form the resolver reads; `docs` are the package's.
fn loaded_file(
    file: FileId,
    package: ast::Ident,
    docs: Vec<ast::DocLine>,
    items: Vec<ast::Item>,
) -> LoadedFile {
    LoadedFile {
        file,
        ast: ast::File {
            docs,
            package_span: package.span,
            package,
            imports: Vec::new(),
            items,
        },
        imports: Vec::new(),
        root: true,
    }
}

/// Two files that make the same package: each file is one package.
fn duplicate_packages(loaded: &[LoadedFile]) -> Vec<Diagnostic> {
    let mut first: HashMap<&str, &LoadedFile> = HashMap::new();
    let mut errors = Vec::new();
    for file in loaded {
        let name = file.ast.package.text.as_str();
        if let Some(earlier) = first.insert(name, file) {
            errors.push(
                Diagnostic::error(format!("package `{name}` comes from two Rust files"))
                    .primary(file.file, file.ast.package.span, "this file makes it again")
                    .secondary(earlier.file, earlier.ast.package.span, "first made here")
                    .help("each Rust file is one package: give one of them `#[rpcgen::service(package = \"…\")]`"),
            );
        }
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Compiler, MemoryLoader};

    fn from_rust(text: &str) -> Result<Schema, Diagnostics> {
        compile_rust_with(
            &MemoryLoader::new().with_file("src/shop.rs", text),
            &["src/shop.rs"],
        )
    }

    fn from_rpc(text: &str) -> Schema {
        Compiler::with_loader(MemoryLoader::new().with_file("shop.rpc", text))
            .compile(&["shop.rpc"])
            .unwrap_or_else(|errors| panic!("{errors}"))
    }

    fn messages(text: &str) -> Vec<String> {
        from_rust(text)
            .unwrap_err()
            .list()
            .iter()
            .map(|error| error.message.clone())
            .collect()
    }

    const SHOP_RS: &str = r#"
        //! The support desk.
        //!
        //! Tickets and their service.
        #![allow(missing_docs)]
        #![doc = include_str!("not read")]

        use rpcgen_runtime::{BoxStream, Bytes, RemoteError, Value};
        use std::collections::{BTreeMap, HashMap};

        /// A ticket in the support queue.
        #[rpcgen::data]
        pub struct Ticket {
            pub id: u64,
            pub title: String,
            /// Absent for title-only tickets.
            pub body: Option<String>,
            pub tags: Vec<String>,
            pub fields: BTreeMap<String, Value>,
            pub attachment: Option<Vec<u8>>,
            #[rpcgen(name = "raw")]
            pub blob: Bytes,
            pub counts: HashMap<Priority, i32>,
        }

        mod inner {
            /// Sent as the variant's name.
            #[rpcgen::data]
            pub enum Priority {
                Low,
                #[deprecated = "use High"]
                Normal,
                High,
            }
        }

        #[rpcgen::data]
        pub enum Event {
            Opened(Box<Ticket>),
            Moved(u64, String),
            Closed { id: u64, reason: String },
        }

        /// Raised when a ticket does not exist.
        #[rpcgen::error]
        pub struct NotFound {
            pub id: u64,
        }

        #[rpcgen::error]
        pub struct Denied;

        /// The ticket service.
        #[rpcgen::service(timeout = "30s")]
        pub trait Tickets {
            /// One ticket by id.
            async fn get(&self, id: u64) -> Result<Ticket, NotFound>;
            #[rpcgen(name = "ticket_list", timeout = "1m")]
            fn list(&self, n: u32) -> BoxStream<'static, Ticket>;
            #[deprecated(note = "use get")]
            async fn first(&self) -> Option<Ticket>;
            async fn close(&self, id: u64, reason: String) -> Result<(), (NotFound, Denied)>;
            async fn ping(&self) -> Result<(), RemoteError>;
            async fn events(&self) -> Result<BoxStream<'static, Result<Event, NotFound>>, NotFound>;
            async fn r#type(&self, r#match: bool);
        }
    "#;

    const SHOP_RPC: &str = r#"
        /// The support desk.
        ///
        /// Tickets and their service.
        package shop;

        /// A ticket in the support queue.
        struct Ticket {
            id: u64,
            title: string,
            /// Absent for title-only tickets.
            body: string?,
            tags: list<string>,
            fields: map<string, any>,
            attachment: bytes?,
            @name("raw")
            blob: bytes,
            counts: map<Priority, i32>,
        }

        /// Sent as the variant's name.
        enum Priority {
            Low,
            @deprecated("use High")
            Normal,
            High,
        }

        enum Event {
            Opened(Ticket),
            Moved(u64, string),
            Closed { id: u64, reason: string },
        }

        /// Raised when a ticket does not exist.
        error NotFound { id: u64 }

        error Denied {}

        /// The ticket service.
        @timeout(30s)
        service Tickets {
            /// One ticket by id.
            get(id: u64) -> Ticket throws NotFound;
            @name("ticket_list")
            @timeout(1m)
            list(n: u32) -> stream<Ticket>;
            @deprecated("use get")
            first() -> Ticket?;
            close(id: u64, reason: string) throws NotFound, Denied;
            ping();
            events() -> stream<Event> throws NotFound;
            type(match: bool);
        }
    "#;

    #[test]
    fn a_rust_file_and_an_rpc_file_with_the_same_content_give_the_same_ir() {
        let rust = from_rust(SHOP_RS).unwrap_or_else(|errors| panic!("{errors}"));
        assert_eq!(rust, from_rpc(SHOP_RPC));
    }

    #[test]
    fn the_package_comes_from_the_option_or_the_file() {
        let named =
            from_rust("#[rpcgen::service(package = \"desk\")] trait S { async fn a(&self); }")
                .unwrap();
        assert_eq!(named.packages[0].name, "desk");
        let derived = |path: &str| derived_package(Path::new(path)).text;
        assert_eq!(derived("api/TicketDesk.rs"), "ticket_desk");
        assert_eq!(derived("crates/my-api/src/lib.rs"), "my_api");
        assert_eq!(derived("src/billing/mod.rs"), "billing");
    }

    #[test]
    fn rust_only_mistakes_are_reported_at_once() {
        let errors = messages(
            "#[rpcgen::service]
             trait S {
                 fn sync(&self) -> u8;
                 async fn mutable(&mut self);
                 async fn generic<T>(&self, value: u8);
                 async fn borrowed(&self, name: &str);
                 async fn size(&self) -> usize;
                 async fn unbound(value: u8);
                 async fn body(&self) {}
             }",
        );
        assert_eq!(
            errors,
            [
                "the service method `sync` must be `async`",
                "the service method `mutable` takes `&mut self`",
                "the service method `generic` cannot be generic",
                "a parameter or field cannot be a reference",
                "the type `usize` is not supported",
                "the service method `unbound` has no `&self`",
                "a service method cannot have a default body",
            ]
        );
    }

    #[test]
    fn resolver_checks_apply_to_rust_sources() {
        let errors = messages(
            "#[rpcgen::data] struct A { x: Missing, y: HashMap<u8, String> }
             #[rpcgen::service] trait S {
                 #[rpcgen(timeout = \"3d\")] async fn a(&self);
                 #[rpcgen(name = \"b\")] async fn b2(&self);
                 async fn b(&self);
             }",
        );
        assert_eq!(
            errors,
            [
                "unknown type `Missing`",
                "`u8` cannot be a map key",
                "unknown time unit `d`",
                "methods `b2` and `b` have the same wire name `b`",
            ]
        );
    }

    #[test]
    fn diagnostics_point_into_the_rust_file() {
        let text = "#[rpcgen::data]\nstruct A {\n    size: usize,\n}\n";
        let rendered = from_rust(text).unwrap_err().render(false);
        assert!(rendered.contains("src/shop.rs:3:11"), "{rendered}");
        assert!(rendered.contains("= help: use `u64`"), "{rendered}");
    }

    #[test]
    fn files_without_annotations_and_duplicate_packages_are_errors() {
        let loader = MemoryLoader::new()
            .with_file("a/shop.rs", "#[rpcgen::data] struct A {}")
            .with_file("b/shop.rs", "#[rpcgen::data] struct B {}")
            .with_file("plain.rs", "struct C;");
        let errors =
            compile_rust_with(&loader, &["a/shop.rs", "b/shop.rs", "plain.rs"]).unwrap_err();
        let messages: Vec<&str> = errors.list().iter().map(|e| e.message.as_str()).collect();
        assert_eq!(
            messages,
            [
                "package `shop` comes from two Rust files",
                "`plain.rs` has no `#[rpcgen::service]`, `#[rpcgen::data]` or `#[rpcgen::error]` items",
            ]
        );
    }

    #[test]
    fn a_macro_item_is_lowered_within_its_file_with_its_own_tokens() {
        let file: syn::File = syn::parse_str(
            "//! Levels.
             #[rpcgen::data] enum Level { Low, High }
             #[rpcgen::service] trait S { async fn old(&self, level: Level); }",
        )
        .unwrap();
        let item: syn::Item =
            syn::parse_str("#[rpcgen::service] trait S { async fn new(&self, level: Level); }")
                .unwrap();
        let lowered = compile_macro_item(&item, Some((Path::new("src/levels.rs"), &file))).unwrap();
        let package = &lowered.schema.packages[0];
        assert_eq!(package.name, "levels");
        assert_eq!(
            package.docs,
            ["Levels."],
            "the file's docs, as `rpcgen extract` reads them"
        );
        assert_eq!(package.types[0].name, "Level");
        assert_eq!(package.services[0].methods[0].name, "new");
    }

    #[test]
    fn a_macro_package_says_which_map_types_its_items_wrote() {
        let maps_of = |source: &str| {
            let file: syn::File = syn::parse_str(source).unwrap();
            compile_macro_item(&file.items[0], Some((Path::new("x.rs"), &file)))
                .unwrap()
                .maps
        };
        let hash = maps_of(
            "#[rpcgen::data] struct A { counts: HashMap<String, u64> }
             #[rpcgen::service] trait S { async fn a(&self) -> std::collections::HashMap<String, A>; }",
        );
        assert!(hash.only_hash_maps());
        let mixed = maps_of(
            "#[rpcgen::data] struct A { counts: HashMap<String, u64> }
             #[rpcgen::service] trait S { async fn a(&self) -> BTreeMap<String, A>; }",
        );
        assert!(mixed.hash_map && mixed.btree_map && !mixed.only_hash_maps());
        let none = maps_of("#[rpcgen::data] struct A { count: u64 }");
        assert_eq!(none, MapsWritten::default());
        assert!(!none.only_hash_maps());
    }

    #[test]
    fn macro_errors_are_reported_only_by_the_item_they_are_in() {
        let file: syn::File = syn::parse_str(
            "#[rpcgen::data] struct Broken { size: usize }
             #[rpcgen::service] trait S { async fn get(&self) -> Broken; }",
        )
        .unwrap();
        let service = file.items[1].clone();
        assert!(matches!(
            compile_macro_item(&service, Some((Path::new("x.rs"), &file))),
            Err(MacroError::Elsewhere)
        ));
        let Err(MacroError::Here(error)) =
            compile_macro_item(&file.items[0], Some((Path::new("x.rs"), &file)))
        else {
            panic!("the struct's own error")
        };
        assert!(error
            .to_string()
            .starts_with("the type `usize` is not supported\n= help: use `u64`"));
    }
}
