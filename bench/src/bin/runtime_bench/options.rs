//! The command line of `runtime-bench`.

use std::time::Duration;

use rpcgen_bench::measure::Limits;

/// The cases `--case` accepts, in the order they run.
pub const CASES: [&str; 5] = ["echo", "echo-32", "dict", "bytes", "stream"];

const USAGE: &str = "\
usage: runtime-bench [--quick] [--rounds N] [--seconds S] [--calls N] [--threads N] [--spin]
                     [--case echo|echo-32|dict|bytes|stream]
                     [--target raw|raw-typed|rpcgen|python|python-both|node]

  --quick      one short round per target (a smoke run, not numbers to publish)
  --rounds N   rounds per case and target; the table shows the median round (default 3)
  --seconds S  time limit of one round (default 2)
  --calls N    call limit of one round (default 200000)
  --threads N  worker threads of the server runtime and of the client runtime (default 1)
  --spin       while raw, raw-typed or rpcgen is measured, keep both runtimes' workers polling
               instead of sleeping between messages (busy polling: a core per side; use with
               --threads 1)
  --case C     run only this case
  --target T   run only this target

zerorpc-python (its server, and its client for python-both) runs with $RPCGEN_PYTHON, else
<repository>/.venv/bin/python; zerorpc-node's server with `node` and <repository>/node_modules.";

/// Something a case is measured against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// A raw DEALER/ROUTER round trip with the same bytes.
    Raw,
    /// The raw round trip plus rmp-serde encoding and decoding the value on both sides.
    RawTyped,
    /// The rpcgen runtime's server, called by its client.
    Rpcgen,
    /// zerorpc-python's server, called by the rpcgen client.
    Python,
    /// zerorpc-python's server, called by zerorpc-python's client: the stack rpcgen replaces.
    PythonBoth,
    /// zerorpc-node's server, called by the rpcgen client.
    Node,
}

impl Target {
    /// Whether the target runs entirely inside the bench process (its two runtimes).
    pub fn in_process(self) -> bool {
        matches!(self, Target::Raw | Target::RawTyped | Target::Rpcgen)
    }

    const ALL: [Target; 6] = [
        Target::Raw,
        Target::RawTyped,
        Target::Rpcgen,
        Target::Python,
        Target::PythonBoth,
        Target::Node,
    ];

    /// The name `--target` accepts.
    fn id(self) -> &'static str {
        match self {
            Target::Raw => "raw",
            Target::RawTyped => "raw-typed",
            Target::Rpcgen => "rpcgen",
            Target::Python => "python",
            Target::PythonBoth => "python-both",
            Target::Node => "node",
        }
    }

    /// The name shown in the table.
    pub fn label(self) -> &'static str {
        match self {
            Target::Raw => "raw zeromq DEALER/ROUTER",
            Target::RawTyped => "raw + rmp-serde both sides",
            Target::Rpcgen => "rpcgen runtime",
            Target::Python => "zerorpc-python server",
            Target::PythonBoth => "zerorpc-python client + server",
            Target::Node => "zerorpc-node server",
        }
    }
}

/// What to run, and for how long.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// Rounds per case and target.
    pub rounds: usize,
    /// The limits of one measured round.
    pub limits: Limits,
    /// The limits of the warm-up before the rounds.
    pub warm_up: Limits,
    /// Worker threads per Tokio runtime.
    pub threads: usize,
    /// Whether the in-process targets are measured with busy-polling workers.
    pub spin: bool,
    case: Option<String>,
    target: Option<Target>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            rounds: 3,
            limits: Limits {
                calls: 200_000,
                duration: Duration::from_secs(2),
            },
            warm_up: Limits {
                calls: 500,
                duration: Duration::from_millis(300),
            },
            threads: 1,
            spin: false,
            case: None,
            target: None,
        }
    }
}

impl Options {
    /// One short round per target: a smoke run.
    fn quick() -> Self {
        Self {
            rounds: 1,
            limits: Limits {
                calls: 5_000,
                duration: Duration::from_millis(250),
            },
            warm_up: Limits {
                calls: 20,
                duration: Duration::from_millis(100),
            },
            ..Self::default()
        }
    }

    /// Reads the arguments (without the program name); the error is a message for the user.
    pub fn parse(arguments: impl IntoIterator<Item = String>) -> Result<Self, String> {
        let arguments: Vec<String> = arguments.into_iter().collect();
        // `--quick` sets the starting point; the other flags override it wherever they are.
        let mut options = if arguments.iter().any(|argument| argument == "--quick") {
            Self::quick()
        } else {
            Self::default()
        };
        let mut arguments = arguments.into_iter();
        while let Some(flag) = arguments.next() {
            let mut value = || {
                arguments
                    .next()
                    .ok_or_else(|| format!("{flag} needs a value\n\n{USAGE}"))
            };
            match flag.as_str() {
                "--quick" => {}
                "--spin" => options.spin = true,
                "--rounds" => options.rounds = whole(&flag, &value()?, 64)?,
                "--threads" => options.threads = whole(&flag, &value()?, 64)?,
                "--calls" => options.limits.calls = whole(&flag, &value()?, 100_000_000)? as u64,
                "--seconds" => {
                    let text = value()?;
                    let seconds = text
                        .parse::<f64>()
                        .ok()
                        .filter(|seconds| {
                            seconds.is_finite() && *seconds > 0.0 && *seconds <= 600.0
                        })
                        .ok_or_else(|| {
                            format!("--seconds wants a number of seconds in (0, 600], not `{text}`")
                        })?;
                    options.limits.duration = Duration::from_secs_f64(seconds);
                }
                "--case" => {
                    let case = value()?;
                    if !CASES.contains(&case.as_str()) {
                        return Err(format!(
                            "unknown case `{case}`; cases: {}",
                            CASES.join(", ")
                        ));
                    }
                    options.case = Some(case);
                }
                "--target" => {
                    let name = value()?;
                    let target = Target::ALL
                        .into_iter()
                        .find(|target| target.id() == name)
                        .ok_or_else(|| {
                            format!(
                                "unknown target `{name}`; targets: {}",
                                Target::ALL.map(Target::id).join(", ")
                            )
                        })?;
                    options.target = Some(target);
                }
                "-h" | "--help" => return Err(USAGE.to_string()),
                other => return Err(format!("unknown argument `{other}`\n\n{USAGE}")),
            }
        }
        Ok(options)
    }

    /// The targets to measure, in the order they take turns.
    pub fn targets(&self) -> Vec<Target> {
        Target::ALL
            .into_iter()
            .filter(|&target| self.wants(target))
            .collect()
    }

    /// Whether `target` is selected.
    pub fn wants(&self, target: Target) -> bool {
        self.target.is_none_or(|selected| selected == target)
    }

    /// Whether the case named `id` is selected.
    pub fn wants_case(&self, id: &str) -> bool {
        self.case.as_deref().is_none_or(|selected| selected == id)
    }

    /// One line saying how the run is set up.
    pub fn describe(&self) -> String {
        let cpus = std::thread::available_parallelism().map_or(0, usize::from);
        format!(
            "runtime-bench: {} round(s) per case and target, each at most {} calls or {:?}; \
             {} worker thread(s) per runtime (server, client){}; {cpus} CPU(s)",
            self.rounds,
            self.limits.calls,
            self.limits.duration,
            self.threads,
            if self.spin {
                ", busy polling for raw, raw-typed and rpcgen"
            } else {
                ""
            }
        )
    }
}

fn whole(flag: &str, text: &str, most: usize) -> Result<usize, String> {
    text.parse::<usize>()
        .ok()
        .filter(|&number| (1..=most).contains(&number))
        .ok_or_else(|| format!("{flag} wants a whole number from 1 to {most}, not `{text}`"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(arguments: &[&str]) -> Result<Options, String> {
        Options::parse(arguments.iter().map(|argument| argument.to_string()))
    }

    #[test]
    fn defaults_and_quick_mode() {
        let defaults = parse(&[]).unwrap();
        assert_eq!(defaults, Options::default());
        assert_eq!(defaults.targets(), Target::ALL);
        let quick = parse(&["--quick"]).unwrap();
        assert_eq!(quick.rounds, 1);
        assert!(quick.limits.duration < defaults.limits.duration);
        let quick_but_longer = parse(&["--seconds", "3", "--quick"]).unwrap();
        assert_eq!(quick_but_longer.limits.duration, Duration::from_secs(3));
        assert_eq!(quick_but_longer.rounds, 1);
    }

    #[test]
    fn filters_select_one_case_and_one_target() {
        let options = parse(&[
            "--case", "dict", "--target", "rpcgen", "--rounds", "5", "--calls", "300",
        ])
        .unwrap();
        assert_eq!(options.limits.calls, 300);
        assert!(options.wants_case("dict"));
        assert!(!options.wants_case("echo"));
        assert_eq!(options.targets(), [Target::Rpcgen]);
        assert_eq!(options.rounds, 5);
        assert!(!options.spin);
        assert!(parse(&["--spin"]).unwrap().spin);
    }

    #[test]
    fn bad_arguments_are_explained() {
        assert!(parse(&["--case", "ping"])
            .unwrap_err()
            .starts_with("unknown case `ping`"));
        assert!(parse(&["--target", "grpc"])
            .unwrap_err()
            .starts_with("unknown target `grpc`"));
        assert!(parse(&["--rounds", "0"])
            .unwrap_err()
            .contains("from 1 to 64"));
        assert!(parse(&["--seconds", "-1"])
            .unwrap_err()
            .contains("(0, 600]"));
        assert!(parse(&["--threads"])
            .unwrap_err()
            .starts_with("--threads needs a value"));
        assert!(parse(&["--fast"])
            .unwrap_err()
            .starts_with("unknown argument `--fast`"));
    }
}
