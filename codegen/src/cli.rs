//! The `rpcgen` command line: `check`, `ir`, `fmt`, `generate` and `breaking` over `.rpc` files,
//! and `extract` (or `generate --from-rust`) over Rust files with `#[rpcgen::service]` traits.
//!
//! Diagnostics go to stderr, coloured only when stderr is a terminal (or with `--color always`);
//! results (the IR) go to stdout. The exit code is 0 on success and 1 when any file has an error,
//! for `fmt --check`, is not formatted, or for `breaking`, a change breaks (2 for a command-line
//! usage error).

use std::collections::HashSet;
use std::io::{IsTerminal, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};
use rpcgen_idl::compat::{breaking_changes, Incompatibility, Side};
use rpcgen_idl::diagnostic::{Diagnostic, Diagnostics};
use rpcgen_idl::locate::SourceMap;
use rpcgen_idl::rust_front::compile_rust_mapped_with;
use rpcgen_idl::source::SourceFiles;
use rpcgen_idl::source::SourceLoader as _;
use rpcgen_idl::{format_source, Compiler, FsLoader};

use rpcgen::output::GeneratedFile;
use rpcgen::problems::GenerateError;

use crate::git_revision::GitRevisionLoader;
#[cfg(feature = "remote")]
use crate::remote;

/// Typed RPC for zerorpc: checks, formats and compiles `.rpc` service definitions.
#[derive(Debug, Parser)]
#[command(name = "rpcgen", version, after_help = EXAMPLES)]
struct Cli {
    #[command(subcommand)]
    command: Command,

    /// When to colour diagnostics.
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = ColorWhen::Auto, global = true)]
    color: ColorWhen,
}

/// Shown after `rpcgen --help`: the commands a newcomer needs first.
const EXAMPLES: &str = "\
Examples:
  rpcgen check api/shop.rpc                 report every error in a file and its imports
  rpcgen generate --lang rust,ts,python --out gen api/shop.rpc
                                            Rust modules, TypeScript and Python clients in gen/
  rpcgen generate --lang ts,python --from-rust --out gen src/board.rs
                                            clients from a #[rpcgen::service] Rust trait
  rpcgen fmt --check api/*.rpc              exit 1 when a file is not formatted
  rpcgen breaking --against-rev main api/shop.rpc
                                            exit 1 when clients generated from the file as it
                                            is on main fail against servers generated from it now
  rpcgen pull --out api tcp://127.0.0.1:4242
                                            the .rpc files of a running server: its contract if
                                            rpcgen generated it, else a draft with `any` types
  rpcgen call tcp://127.0.0.1:4242 get 7    call a method of a running server (arguments and
                                            result in JSON; a stream prints a line per item)
  rpcgen ir api/shop.rpc                    the resolved schema as JSON
  rpcgen extract src/board.rs               the .rpc equivalent of annotated Rust traits

From build.rs: rpcgen::Builder::new().include_dir(\"api\").compile(&[\"api/shop.rpc\"]);
Each command has its own --help.";

/// The subcommands.
#[derive(Debug, Subcommand)]
enum Command {
    /// Checks .rpc files and everything they import; reports every error.
    ///
    /// Reports what `rpcgen generate` would for the same files: each file is checked with its
    /// imports, then all of them together, as generate compiles them (two files declaring one
    /// package is an error there). Each error is shown once.
    Check {
        #[command(flatten)]
        includes: Includes,
        /// Checks each file alone, as separate generate runs would: for unrelated files, which
        /// may declare the same package (two versions of one API, say).
        #[arg(long)]
        separately: bool,
        /// The files to check, each with its imports (an error in a shared import is shown once).
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
    },
    /// Prints the IR of a .rpc file and its imports as JSON on stdout.
    Ir {
        #[command(flatten)]
        includes: Includes,
        /// The root file.
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
    /// Generates code for .rpc files and everything they import into a folder.
    Generate {
        #[command(flatten)]
        includes: Includes,
        /// The languages to generate, comma-separated.
        #[arg(
            long,
            value_enum,
            value_delimiter = ',',
            required = true,
            value_name = "LANG"
        )]
        lang: Vec<Language>,
        /// The folder to write into (created if needed).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// The Rust type of `map<K, V>`: `btree` (BTreeMap: ordered, deterministic bytes, types
        /// derive Hash and Ord) or `hash` (HashMap: faster).
        #[arg(long, value_enum, value_name = "TYPE", default_value_t = RustMaps::Btree)]
        rust_maps: RustMaps,
        /// Generated Rust servers do not publish their contract (the `.rpc` text of the service
        /// and its types) in `_zerorpc_inspect`, so `rpcgen pull` cannot get it from them.
        #[arg(long)]
        rust_no_contract: bool,
        /// The files are Rust sources with `#[rpcgen::service]` traits and their types, each file
        /// one package (see docs/trait-first.md), instead of .rpc files.
        #[arg(long, conflicts_with = "dirs")]
        from_rust: bool,
        /// The root files (compiled together, with their imports).
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
    },
    /// Writes the .rpc equivalent of the annotated traits and types of Rust files.
    Extract {
        /// Writes `<package>.rpc` files into DIR instead of printing them on stdout.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// The Rust files; each is one package.
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
    },
    /// Reports the changes from an old version of a schema that break its deployed clients.
    ///
    /// Compares the schema that running clients were generated from (--against) with the new one,
    /// method by method and value by value, as the wire sees them: every change that makes a call
    /// of such a client to a server generated from the new schema fail is an error (exit 1).
    /// docs/compatibility.md lists the rules.
    Breaking {
        #[command(flatten)]
        includes: Includes,
        #[command(flatten)]
        old: OldSource,
        /// Also checks clients generated from the new version calling servers of the old one (for
        /// deploying clients first, or rolling a server back).
        #[arg(long)]
        both_ways: bool,
        /// Both versions are Rust files with `#[rpcgen::service]` traits and their types (each
        /// file one package, see docs/trait-first.md), instead of .rpc files.
        #[arg(long, conflicts_with = "dirs")]
        from_rust: bool,
        /// With --against-server: how long to wait for each answer of the server.
        #[cfg(feature = "remote")]
        #[arg(
            long,
            value_name = "SECONDS",
            default_value = "5",
            value_parser = remote::seconds,
            conflicts_with_all = ["against", "against_rev"]
        )]
        timeout: std::time::Duration,
        /// The new version's root file.
        #[arg(value_name = "NEW")]
        file: PathBuf,
    },
    /// Writes the .rpc definition of a running zerorpc server.
    ///
    /// A server generated by rpcgen publishes its contract (the service and every type it uses)
    /// in `_zerorpc_inspect`: pull writes those files as they are. From any other zerorpc server
    /// (zerorpc-python, zerorpc-node) it writes a draft with the server's methods, docs and
    /// parameter names, every type `any`, and a comment on top saying what is left to do.
    #[cfg(feature = "remote")]
    Pull {
        /// Writes the files into DIR instead of printing them on stdout (a file already there
        /// with other contents is an error, unless --force).
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Replaces files in DIR that have other contents (your own .rpc sources, say).
        #[arg(long, requires = "out")]
        force: bool,
        /// The package name of a draft (by default the service's name in snake_case).
        #[arg(long, value_name = "NAME")]
        package: Option<String>,
        /// The service name of a draft (by default the name the server gives: zerorpc-node
        /// gives `Object` for a plain object).
        #[arg(long, value_name = "NAME")]
        service: Option<String>,
        /// How long to wait for each answer of the server.
        #[arg(long, value_name = "SECONDS", default_value = "5", value_parser = remote::seconds)]
        timeout: std::time::Duration,
        /// The server's endpoint, for example tcp://127.0.0.1:4242.
        #[arg(value_name = "ENDPOINT")]
        endpoint: String,
    },
    /// Calls a method of a running zerorpc server and prints the result as JSON.
    ///
    /// Each argument is JSON (`7`, `"7"`, `[1, 2]`, `{"title": "x"}`); one that is not JSON is a
    /// string (`hello`). Bytes are `{"$bytes": "<base64>"}`, both ways. First the server's
    /// `_zerorpc_inspect` (when it answers) says whether the method exists, how many arguments it
    /// takes and whether it streams; a stream prints one JSON value per line, as items arrive.
    #[cfg(feature = "remote")]
    Call {
        /// Reads the reply as a stream even when the server does not say that the method streams
        /// (zerorpc-python and zerorpc-node do not say).
        #[arg(long)]
        stream: bool,
        /// The time limit of each wait, in seconds: for the result, or for each item of a stream.
        #[arg(long, value_name = "SECONDS", default_value = "30", value_parser = remote::seconds)]
        timeout: std::time::Duration,
        /// The server's endpoint, for example tcp://127.0.0.1:4242.
        #[arg(value_name = "ENDPOINT")]
        endpoint: String,
        /// The method's name on the wire.
        #[arg(value_name = "METHOD")]
        method: String,
        /// The arguments, in order (after `--` when one starts with `-` and is not a number).
        #[arg(value_name = "ARG", allow_negative_numbers = true)]
        args: Vec<String>,
    },
    /// Formats .rpc files in place, canonically, keeping every comment.
    Fmt {
        /// Changes nothing; exits with 1 if a file is not formatted.
        #[arg(long)]
        check: bool,
        /// The files to format.
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
    },
}

/// Where `rpcgen breaking` reads the old version: exactly one of these.
#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
struct OldSource {
    /// The old version's root file (imports are looked for beside it, then in the -I dirs).
    #[arg(long, value_name = "OLD")]
    against: Option<PathBuf>,
    /// The old version is NEW, with its imports, as committed at this git revision (a branch,
    /// tag or commit of the repository of the current directory).
    #[arg(long, value_name = "REV")]
    against_rev: Option<String>,
    /// The old version is the contract that the server at this endpoint publishes (a server
    /// generated by rpcgen; see `rpcgen pull`): what is deployed there now.
    #[cfg(feature = "remote")]
    #[arg(long, value_name = "ENDPOINT")]
    against_server: Option<String>,
}

/// Where imports are looked for.
#[derive(Debug, Args)]
struct Includes {
    /// Also looks for imports in DIR, after the importing file's directory (repeatable).
    #[arg(short = 'I', long = "include", value_name = "DIR", value_parser = existing_folder)]
    dirs: Vec<PathBuf>,
}

/// An include folder, which must exist: a mistyped one would only show as imports not found.
fn existing_folder(text: &str) -> Result<PathBuf, String> {
    let path = PathBuf::from(text);
    if path.is_dir() {
        Ok(path)
    } else {
        Err("no such folder".to_string())
    }
}

impl Includes {
    fn compiler(&self) -> Compiler {
        self.searched_by(Compiler::new())
    }

    /// `compiler`, looking for imports in these folders too.
    fn searched_by(&self, mut compiler: Compiler) -> Compiler {
        for dir in &self.dirs {
            compiler.include_dir(dir);
        }
        compiler
    }
}

/// A language `generate` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Language {
    /// Rust types, server traits and typed clients (one `<package>.rs` module per IDL package,
    /// for `rpcgen_runtime::include_rpc!`).
    Rust,
    /// Typed Python clients (a package: one module per IDL package, plus the runtime).
    Python,
    /// Typed TypeScript clients (one ES module per IDL package, plus the runtime).
    #[value(name = "ts")]
    TypeScript,
}

/// The choices of `--rust-maps`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum RustMaps {
    /// `std::collections::BTreeMap`.
    Btree,
    /// `std::collections::HashMap`.
    Hash,
}

/// When diagnostics are coloured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ColorWhen {
    /// When stderr is a terminal and NO_COLOR is not set.
    Auto,
    /// Always, even into a file or a pipe.
    Always,
    /// Never.
    Never,
}

impl ColorWhen {
    fn enabled(self) -> bool {
        match self {
            ColorWhen::Always => true,
            ColorWhen::Never => false,
            ColorWhen::Auto => {
                std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none()
            }
        }
    }
}

/// Runs the command line and returns the process's exit code.
pub fn run() -> ExitCode {
    let cli = Cli::parse();
    let reporter = Reporter {
        colored: cli.color.enabled(),
    };
    let succeeded = match &cli.command {
        Command::Check {
            includes,
            separately,
            files,
        } => check(&reporter, includes, files, *separately),
        Command::Ir { includes, file } => ir(&reporter, includes, file),
        Command::Generate {
            includes,
            lang,
            out,
            rust_maps,
            rust_no_contract,
            from_rust,
            files,
        } => {
            let compiled = if *from_rust {
                compile_rust_mapped_with(&FsLoader, files)
            } else {
                includes.compiler().compile_mapped(files)
            };
            let options = rpcgen::rust::Options {
                map_type: match rust_maps {
                    RustMaps::Btree => rpcgen::rust::MapType::BTreeMap,
                    RustMaps::Hash => rpcgen::rust::MapType::HashMap,
                },
                publish_contract: !rust_no_contract,
            };
            generate(&reporter, compiled, lang, out, options)
        }
        Command::Extract { out, files } => extract(&reporter, out.as_deref(), files),
        Command::Fmt { check, files } => fmt(&reporter, *check, files),
        #[cfg(feature = "remote")]
        Command::Call {
            stream,
            timeout,
            endpoint,
            method,
            args,
        } => {
            let call = remote::RemoteCall {
                endpoint,
                method,
                args,
                stream: *stream,
                timeout: *timeout,
            };
            remote::call(&reporter, &call)
        }
        #[cfg(feature = "remote")]
        Command::Pull {
            out,
            force,
            package,
            service,
            timeout,
            endpoint,
        } => {
            let options = rpcgen::pull::PullOptions {
                timeout: *timeout,
                package: package.clone(),
                service: service.clone(),
            };
            let out = out
                .as_deref()
                .map(|dir| remote::PullInto { dir, force: *force });
            remote::pull(&reporter, endpoint, &options, out)
        }
        Command::Breaking {
            includes,
            old,
            both_ways,
            from_rust,
            file,
            #[cfg(feature = "remote")]
            timeout,
        } => {
            let old = old.version(
                #[cfg(feature = "remote")]
                *timeout,
            );
            let versions = Versions {
                includes,
                from_rust: *from_rust,
            };
            breaking(&reporter, &versions, old, file, *both_ways)
        }
    };
    if succeeded {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Prints diagnostics to stderr.
pub(crate) struct Reporter {
    colored: bool,
}

impl Reporter {
    pub(crate) fn report(&self, diagnostics: &Diagnostics) {
        eprint!("{}", diagnostics.render(self.colored));
    }

    /// Reports an error that is not about a place in a source file.
    pub(crate) fn error(&self, diagnostic: Diagnostic) {
        self.report(&Diagnostics::new(SourceFiles::new(), vec![diagnostic]));
    }
}

/// Compiles each file alone with its imports and, unless `separately`, all of them together as
/// `generate` does, running every backend's checks on each schema; prints each distinct error
/// once. Checking each file alone too means that an error which stops one file's loading (a
/// syntax error) does not hide the other files' errors.
fn check(reporter: &Reporter, includes: &Includes, files: &[PathBuf], separately: bool) -> bool {
    let mut printed = HashSet::new();
    let mut succeeded = true;
    let alone = files.chunks(1);
    let together = (!separately && files.len() > 1).then_some(files);
    for group in alone.chain(together) {
        let compiled = includes.compiler().compile_mapped(group);
        let problems = compiled.and_then(|(schema, map)| {
            let problems = rpcgen::problems::check_all(&schema);
            GenerateError::check(problems).map_err(|error| error.diagnostics(&map))
        });
        if let Err(diagnostics) = problems {
            for rendered in diagnostics.render_each(reporter.colored) {
                if printed.insert(rendered.clone()) {
                    eprint!("{rendered}");
                }
            }
            succeeded = false;
        }
    }
    succeeded
}

fn ir(reporter: &Reporter, includes: &Includes, file: &Path) -> bool {
    match includes.compiler().compile(&[file]) {
        Ok(schema) => {
            let json = serde_json::to_string_pretty(&schema).expect("the IR always serializes");
            println!("{json}");
            true
        }
        Err(diagnostics) => {
            reporter.report(&diagnostics);
            false
        }
    }
}

/// Generates every language asked for, and writes the files only when all of them could be
/// generated: a schema that one backend cannot name leaves the output folder as it was.
fn generate(
    reporter: &Reporter,
    compiled: Result<(rpcgen_idl::Schema, SourceMap), Diagnostics>,
    languages: &[Language],
    out: &Path,
    rust_options: rpcgen::rust::Options,
) -> bool {
    let (schema, map) = match compiled {
        Ok(compiled) => compiled,
        Err(diagnostics) => {
            reporter.report(&diagnostics);
            return false;
        }
    };
    let mut files = Vec::new();
    let mut problems = Vec::new();
    for language in languages {
        let generated = match language {
            Language::Rust => rpcgen::rust::generate_with(&schema, rust_options),
            Language::Python => rpcgen::python::generate(&schema),
            Language::TypeScript => rpcgen::typescript::generate(&schema),
        };
        match generated {
            Ok(generated) => files.extend(generated),
            Err(error) => problems.extend(error.problems),
        }
    }
    if let Err(error) = GenerateError::check(problems) {
        reporter.report(&error.diagnostics(&map));
        return false;
    }
    print_or_write(reporter, &files, Some(out))
}

/// Prints (or writes into `out`) the `.rpc` text of each Rust file's package.
fn extract(reporter: &Reporter, out: Option<&Path>, files: &[PathBuf]) -> bool {
    if let Some(file) = files
        .iter()
        .find(|file| file.extension() == Some("rpc".as_ref()))
    {
        reporter.error(
            Diagnostic::error(format!("`{}` is an `.rpc` file already", file.display())).help(
                "`rpcgen extract` reads Rust files with `#[rpcgen::service]` traits and prints \
                 their `.rpc`; `rpcgen fmt` formats an `.rpc` file",
            ),
        );
        return false;
    }
    let schema = match rpcgen_idl::rust_front::compile_rust(files) {
        Ok(schema) => schema,
        Err(diagnostics) => {
            reporter.report(&diagnostics);
            return false;
        }
    };
    print_or_write(reporter, &rpcgen::rpc_printer::print(&schema), out)
}

/// Writes `text` on stdout; `Ok(false)` when nobody reads it any more (a pipe into `head` that
/// closed), which ends a command quietly instead of in a panic.
pub(crate) fn write_stdout(text: &str) -> Result<bool, String> {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Ok(()) => Ok(true),
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => Ok(false),
        Err(error) => Err(format!("cannot write to stdout: {error}")),
    }
}

/// Prints `.rpc` files on stdout, one after the other, or writes them into `out`.
pub(crate) fn print_or_write(
    reporter: &Reporter,
    files: &[GeneratedFile],
    out: Option<&Path>,
) -> bool {
    let Some(out) = out else {
        let texts: Vec<&str> = files.iter().map(|file| file.contents.as_str()).collect();
        return match write_stdout(&texts.join("\n")) {
            Ok(_) => true,
            Err(message) => {
                reporter.error(Diagnostic::error(message));
                false
            }
        };
    };
    match rpcgen::output::write_files(out, files) {
        Ok(()) => true,
        Err(error) => {
            reporter.error(Diagnostic::error(format!(
                "cannot write into `{}`: {error}",
                out.display()
            )));
            false
        }
    }
}

impl OldSource {
    /// The old version; `timeout` bounds each wait for the server of --against-server.
    fn version(&self, #[cfg(feature = "remote")] timeout: std::time::Duration) -> OldVersion<'_> {
        #[cfg(feature = "remote")]
        if let Some(endpoint) = &self.against_server {
            return OldVersion::Server { endpoint, timeout };
        }
        match (&self.against, &self.against_rev) {
            (Some(path), _) => OldVersion::File(path),
            (None, Some(revision)) => OldVersion::Revision(revision),
            (None, None) => unreachable!("clap requires one of the --against options"),
        }
    }
}

/// Where `rpcgen breaking` finds the old version of a schema.
enum OldVersion<'a> {
    /// In its own root file.
    File(&'a Path),
    /// In the new version's files, as committed at a git revision.
    Revision(&'a str),
    /// In the contract a running server publishes.
    #[cfg(feature = "remote")]
    Server {
        /// The server's endpoint.
        endpoint: &'a str,
        /// How long to wait for each answer of the server.
        timeout: std::time::Duration,
    },
}

/// How `rpcgen breaking` compiles a version of a schema.
struct Versions<'a> {
    /// Where `.rpc` imports are looked for.
    includes: &'a Includes,
    /// Whether the versions are annotated Rust files rather than `.rpc` files.
    from_rust: bool,
}

impl Versions<'_> {
    /// Compiles the version whose root is `root`, read from disk or by `loader`.
    fn compile(
        &self,
        loader: Option<GitRevisionLoader>,
        root: &Path,
    ) -> Result<(rpcgen_idl::Schema, SourceMap), Diagnostics> {
        match (self.from_rust, loader) {
            (false, None) => self.includes.compiler().compile_mapped(&[root]),
            (false, Some(loader)) => self
                .includes
                .searched_by(Compiler::with_loader(loader))
                .compile_mapped(&[root]),
            (true, None) => compile_rust_mapped_with(&FsLoader, &[root]),
            (true, Some(loader)) => compile_rust_mapped_with(&loader, &[root]),
        }
    }
}

/// Reports, as errors, the changes from the old version to `new` that break clients of the old one
/// calling servers of `new` (and, with `both_ways`, clients of `new` calling servers of the old).
fn breaking(
    reporter: &Reporter,
    versions: &Versions<'_>,
    old: OldVersion<'_>,
    new: &Path,
    both_ways: bool,
) -> bool {
    let (old_compiled, old_name) = match old {
        OldVersion::File(path) => (versions.compile(None, path), path.display().to_string()),
        OldVersion::Revision(revision) => match GitRevisionLoader::new(revision) {
            Ok(loader) => (
                versions.compile(Some(loader), new),
                format!("{revision}:{}", new.display()),
            ),
            Err(error) => {
                reporter.error(Diagnostic::error(format!(
                    "cannot read the old version from git: {error}"
                )));
                return false;
            }
        },
        #[cfg(feature = "remote")]
        OldVersion::Server { endpoint, timeout } => {
            match remote::published_contract(endpoint, timeout) {
                Ok(compiled) => (Ok(compiled), format!("the contract of {endpoint}")),
                Err(message) => {
                    reporter.error(Diagnostic::error(message));
                    return false;
                }
            }
        }
    };
    let new_compiled = versions.compile(None, new);
    let ((old_schema, old_map), (new_schema, new_map)) = match (old_compiled, new_compiled) {
        (Ok(old), Ok(new)) => (old, new),
        (old_result, new_result) => {
            // The paths of both versions may be the same (--against-rev): say which one is wrong.
            let failures = [
                (old_result.err(), "old", old_name),
                (new_result.err(), "new", new.display().to_string()),
            ];
            for (diagnostics, which, name) in failures {
                if let Some(diagnostics) = diagnostics {
                    eprintln!("the {which} version, `{name}`, does not compile:");
                    reporter.report(&diagnostics);
                }
            }
            return false;
        }
    };
    let side = |schema, called| Side { schema, called };
    let mut found: Vec<(Incompatibility, Clients)> = breaking_changes(
        side(&old_schema, "old clients"),
        side(&new_schema, "new servers"),
    )
    .into_iter()
    .map(|change| (change, Clients::Old))
    .collect();
    if both_ways {
        let changes = breaking_changes(
            side(&new_schema, "new clients"),
            side(&old_schema, "old servers"),
        );
        found.extend(changes.into_iter().map(|change| (change, Clients::New)));
    }
    for (change, clients) in &found {
        reporter.report(&located(change, *clients, &old_map, &new_map));
    }
    if !found.is_empty() {
        let count = found.len();
        eprintln!(
            "{count} breaking change{} from `{old_name}` to `{}`",
            if count == 1 { "" } else { "s" },
            new.display()
        );
    }
    found.is_empty()
}

/// Which version the clients of a compatibility check were generated from.
#[derive(Debug, Clone, Copy)]
enum Clients {
    /// Old clients of new servers.
    Old,
    /// New clients of old servers (`--both-ways`).
    New,
}

/// A breaking change as an error that points at it in the new version, or at what is gone in the
/// old one.
fn located(
    change: &Incompatibility,
    clients: Clients,
    old_map: &SourceMap,
    new_map: &SourceMap,
) -> Diagnostics {
    let (in_old, in_new) = match clients {
        Clients::Old => (&change.in_clients, &change.in_servers),
        Clients::New => (&change.in_servers, &change.in_clients),
    };
    let place_in = |map: &SourceMap, declaration: &Option<_>| {
        declaration
            .as_ref()
            .and_then(|declaration| map.place(declaration))
    };
    let place = place_in(new_map, in_new)
        .map(|place| (new_map, place, "in the new version"))
        .or_else(|| place_in(old_map, in_old).map(|place| (old_map, place, "in the old version")));
    let mut error = Diagnostic::error(change.to_string());
    let mut files = SourceFiles::new();
    if let Some((map, (file, span), label)) = place {
        error = error.primary(file, span, label);
        files = map.files().clone();
    }
    if let Some(hint) = &change.hint {
        error = error.help(hint.clone());
    }
    Diagnostics::new(files, vec![error])
}

/// Where `text` first differs from its formatted version, for `fmt --check`.
fn first_difference(text: &str, formatted: &str) -> String {
    let mut lines = text.split_inclusive('\n');
    let mut expected = formatted.split_inclusive('\n');
    let mut number = 1;
    loop {
        match (lines.next(), expected.next()) {
            (Some(line), Some(wanted)) if line == wanted => number += 1,
            (_, Some(wanted)) => {
                let wanted = wanted.trim_end_matches(['\r', '\n']);
                let shown: String = wanted.chars().take(80).collect();
                let cut = if shown.len() < wanted.len() {
                    "…"
                } else {
                    ""
                };
                return format!(
                    "from line {number} on; the formatted line {number} is `{shown}{cut}`"
                );
            }
            _ => return format!("from line {number} on; the formatted file ends before it"),
        }
    }
}

fn fmt(reporter: &Reporter, check_only: bool, files: &[PathBuf]) -> bool {
    let mut succeeded = true;
    for path in files {
        let shown = path.display();
        let text = match FsLoader.read(path) {
            Ok(text) => text,
            Err(error) => {
                reporter.error(Diagnostic::error(format!("cannot read `{shown}`: {error}")));
                succeeded = false;
                continue;
            }
        };
        let formatted = match format_source(path, &text) {
            Ok(formatted) => formatted,
            Err(diagnostics) => {
                reporter.report(&diagnostics);
                succeeded = false;
                continue;
            }
        };
        if formatted == text {
            continue;
        }
        if check_only {
            reporter.error(
                Diagnostic::error(format!("`{shown}` is not formatted"))
                    .note(first_difference(&text, &formatted))
                    .help(format!("run `rpcgen fmt {shown}` to format it")),
            );
            succeeded = false;
        } else if let Err(error) = std::fs::write(path, formatted) {
            reporter.error(Diagnostic::error(format!(
                "cannot write `{shown}`: {error}"
            )));
            succeeded = false;
        }
    }
    succeeded
}
