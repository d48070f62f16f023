//! The commands that call running servers (cargo feature `remote`): `rpcgen call`, `rpcgen pull`,
//! and the old version of `rpcgen breaking --against-server`. Each runs on a Tokio runtime of its
//! own; the library modules `rpcgen::call` and `rpcgen::pull` do the work.

use std::path::Path;
use std::time::Duration;

use rpcgen::call::{argument, method_shape, to_json, to_msgpack};
use rpcgen::output::GeneratedFile;
use rpcgen::pull::{Origin, PullOptions};
use rpcgen_idl::diagnostic::Diagnostic;
use rpcgen_idl::locate::SourceMap;
use rpcgen_idl::Compiler;
use rpcgen_runtime::{CallError, Client, StreamExt, Value};

use crate::cli::{print_or_write, write_stdout, Reporter};

/// `rpcgen call`: makes the call and prints its result; false (after reporting why) when it fails.
pub(crate) fn call(reporter: &Reporter, call: &RemoteCall<'_>) -> bool {
    match block_on(call.run()) {
        Ok(()) => true,
        Err(message) => {
            reporter.error(Diagnostic::error(message));
            false
        }
    }
}

/// The `--timeout` of the commands that call servers: whole seconds from 1 to a day (0 would
/// time out at once; a huge value would overflow the timer).
pub(crate) fn seconds(text: &str) -> Result<Duration, String> {
    let seconds: u64 = text.parse().map_err(|error| format!("{error}"))?;
    if !(1..=86_400).contains(&seconds) {
        return Err(format!("{seconds} is not in 1..=86400"));
    }
    Ok(Duration::from_secs(seconds))
}

/// Runs `future` to its end on a Tokio runtime of its own (the commands that call servers).
fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a Tokio runtime starts")
        .block_on(future)
}

/// `rpcgen call`: one call, its result printed on stdout.
pub(crate) struct RemoteCall<'a> {
    /// The server's endpoint.
    pub endpoint: &'a str,
    /// The method's wire name.
    pub method: &'a str,
    /// The arguments as written on the command line (JSON, or plain strings).
    pub args: &'a [String],
    /// Whether to read the reply as a stream whatever the server says.
    pub stream: bool,
    /// The time limit of each wait.
    pub timeout: Duration,
}

impl RemoteCall<'_> {
    /// Makes the call and prints its result (pretty JSON) or its items (a JSON value per line);
    /// the error message otherwise.
    async fn run(&self) -> Result<(), String> {
        let args = self
            .args
            .iter()
            .map(|text| to_msgpack(&argument(text)?))
            .collect::<Result<Vec<Value>, String>>()?;
        let client = Client::builder(self.endpoint)
            .timeout(self.timeout)
            .connect()
            .map_err(|error| error.to_string())?;
        let shape = match client.call::<Value, _>("_zerorpc_inspect", ()).await {
            Ok(inspected) => method_shape(&inspected, self.method)?,
            // zerorpc-python on Python 3.11+ cannot answer it; call without checking.
            Err(CallError::Remote { .. }) => None,
            Err(error) => return Err(self.failure(error)),
        };
        if let Some(shape) = &shape {
            shape.check_count(self.method, args.len())?;
        }
        if self.stream || shape.is_some_and(|shape| shape.stream) {
            let mut items = client
                .call_stream::<Value, _>(self.method, args)
                .await
                .map_err(|error| self.failure(error))?;
            while let Some(item) = items.next().await {
                let item = item.map_err(|error| self.failure(error))?;
                if !write_stdout(&format!("{}\n", to_json(&item)))? {
                    // Nobody reads any more: dropping the stream ends the call.
                    break;
                }
            }
        } else {
            let value: Value = client
                .call(self.method, args)
                .await
                .map_err(|error| self.failure(error))?;
            let json =
                serde_json::to_string_pretty(&to_json(&value)).expect("JSON values always print");
            write_stdout(&format!("{json}\n"))?;
        }
        Ok(())
    }

    /// The message of a failed call, with the remote traceback (a typed error's fields as JSON
    /// instead of their encoded line, and no line that only repeats the message) or a hint where
    /// there is one.
    fn failure(&self, error: CallError) -> String {
        match &error {
            CallError::Remote { error: remote, .. } => {
                let mut text = error.to_string();
                if let Some(fields) = remote.fields() {
                    text.push_str(&format!("\nfields: {}", to_json(&fields)));
                }
                let repeated = format!("{}: {}", remote.name, remote.message);
                let traceback = remote.readable_traceback();
                if let Some(traceback) = traceback.filter(|text| text.trim() != repeated) {
                    text.push('\n');
                    text.push_str(traceback.trim_end());
                }
                text
            }
            _ if error.answered_with_stream() => {
                format!(
                    "`{}` answered with a stream: add --stream to read its items",
                    self.method
                )
            }
            // Its message already asks whether a zerorpc server runs there.
            CallError::Timeout {
                never_connected: Some(_),
                ..
            } => error.to_string(),
            CallError::Timeout { .. } => format!(
                "{error}: is a zerorpc server listening on `{}`? (a slow method: raise --timeout)",
                self.endpoint
            ),
            _ => error.to_string(),
        }
    }
}

/// The contract the server at `endpoint` publishes, compiled, its files in a folder named after
/// the endpoint (`tcp:127.0.0.1:4242/shop.rpc`: paths keep no `//`) so that diagnostics tell them
/// from local ones. Each wait for the server is bounded by `timeout`.
pub(crate) fn published_contract(
    endpoint: &str,
    timeout: Duration,
) -> Result<(rpcgen_idl::Schema, SourceMap), String> {
    let options = PullOptions {
        timeout,
        ..PullOptions::default()
    };
    let pulled = block_on(rpcgen::pull::pull(endpoint, &options))
        .map_err(|error| format!("cannot pull from `{endpoint}`: {error}"))?;
    if pulled.origin != Origin::Contract {
        return Err(format!(
            "the server at `{endpoint}` publishes no contract (it was not generated by rpcgen); \
             compare with --against and a .rpc file (`rpcgen pull` drafts one)"
        ));
    }
    let folder = endpoint.replace("://", ":");
    let in_endpoint = |file: &GeneratedFile| Path::new(&folder).join(&file.path);
    let mut loader = rpcgen_idl::MemoryLoader::new();
    for file in &pulled.files {
        loader = loader.with_file(in_endpoint(file), &file.contents);
    }
    let root = in_endpoint(pulled.files.last().expect("a contract has its root file"));
    Compiler::with_loader(loader)
        .compile_mapped(&[root])
        .map_err(|diagnostics| diagnostics.render(false))
}

/// Where `rpcgen pull --out` writes.
pub(crate) struct PullInto<'a> {
    /// The folder.
    pub dir: &'a Path,
    /// Whether files already there with other contents may be replaced.
    pub force: bool,
}

/// Prints (or writes into `into`) the `.rpc` definition of the server at `endpoint`, and says
/// on stderr what it is.
pub(crate) fn pull(
    reporter: &Reporter,
    endpoint: &str,
    options: &PullOptions,
    into: Option<PullInto<'_>>,
) -> bool {
    let pulled = match block_on(rpcgen::pull::pull(endpoint, options)) {
        Ok(pulled) => pulled,
        Err(error) => {
            reporter.error(Diagnostic::error(format!(
                "cannot pull from `{endpoint}`: {error}"
            )));
            return false;
        }
    };
    if let Some(into) = into.as_ref().filter(|into| !into.force) {
        let changed = pulled.files.iter().find_map(|file| {
            let path = into.dir.join(&file.path);
            let old = std::fs::read(&path).ok()?;
            (old != file.contents.as_bytes()).then_some(path)
        });
        if let Some(path) = changed {
            reporter.error(Diagnostic::error(format!(
                "`{}` exists with other contents: pull into another folder, or add --force to \
                 replace it",
                path.display()
            )));
            return false;
        }
    }
    let out = into.as_ref().map(|into| into.dir);
    if !print_or_write(reporter, &pulled.files, out) {
        return false;
    }
    let names: Vec<String> = pulled
        .files
        .iter()
        .map(|file| match out {
            Some(out) => out.join(&file.path).display().to_string(),
            None => file.path.display().to_string(),
        })
        .collect();
    let verb = if out.is_some() { "wrote" } else { "printed" };
    match pulled.origin {
        Origin::Contract => {
            let renamed = options.package.is_some() || options.service.is_some();
            eprintln!(
                "{verb} {}: the contract the server publishes{}",
                names.join(", "),
                if renamed {
                    " (--package and --service ignored: they only name a draft)"
                } else {
                    ""
                }
            );
        }
        Origin::Draft { source, methods } => eprintln!(
            "{verb} {}: a draft of {methods} methods from the server's {}; every type is `any`, \
             see the comment at its top",
            names.join(", "),
            source.introspection_methods()
        ),
    }
    true
}
