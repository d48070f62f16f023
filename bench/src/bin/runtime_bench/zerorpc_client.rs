//! Talking to zerorpc-python's own client (`bench/zerorpc_client.py`), which calls
//! zerorpc-python's server: the command line it reads and the answer it prints.

use std::fmt::Write as _;
use std::time::Duration;

use rpcgen_bench::measure::{Limits, Summary};

/// What each call does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Calls a method that answers once.
    Call,
    /// Calls a streaming method and reads the stream to its end.
    Stream,
}

/// The command that asks for calls of `method` with `arguments` (a MessagePack array) by
/// `callers` greenlets sharing the client, within `limits`.
pub fn command(
    kind: Kind,
    method: &str,
    callers: usize,
    limits: Limits,
    arguments: &[u8],
) -> String {
    let kind = match kind {
        Kind::Call => "call",
        Kind::Stream => "stream",
    };
    let mut line = format!(
        "{kind} {method} {callers} {} {} ",
        limits.calls,
        limits.duration.as_secs_f64()
    );
    for byte in arguments {
        let _ = write!(line, "{byte:02x}");
    }
    line
}

/// Reads the client's answer: `DONE <elapsed ns> <latency ns>...` or `ERROR <reason>`.
pub fn summary(answer: &str) -> Result<Summary, String> {
    if let Some(reason) = answer.strip_prefix("ERROR ") {
        return Err(format!("zerorpc-python's client: {reason}"));
    }
    let mut numbers = answer
        .strip_prefix("DONE ")
        .ok_or_else(|| format!("zerorpc-python's client answered {answer:?}"))?
        .split(' ')
        .map(|number| {
            number
                .parse::<u64>()
                .map(Duration::from_nanos)
                .map_err(|_| format!("zerorpc-python's client answered {number:?}, not a number"))
        });
    let elapsed = numbers.next().unwrap_or(Ok(Duration::ZERO))?;
    let latencies = numbers.collect::<Result<Vec<_>, _>>()?;
    Summary::from_latencies(latencies, elapsed)
        .ok_or_else(|| "zerorpc-python's client made no call within the limits".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_carry_the_limits_and_the_argument_in_hex() {
        let limits = Limits {
            calls: 500,
            duration: Duration::from_millis(1500),
        };
        assert_eq!(
            command(Kind::Call, "echo", 32, limits, &[0x91, 0xa2, b'h', b'i']),
            "call echo 32 500 1.5 91a26869"
        );
        assert!(command(Kind::Stream, "items", 1, limits, &[0x90]).starts_with("stream items 1 "));
    }

    #[test]
    fn answers_become_summaries_or_errors() {
        let summary = summary("DONE 2000000 300 100 200").unwrap();
        assert_eq!(summary.calls, 3);
        assert_eq!(summary.elapsed, Duration::from_millis(2));
        assert_eq!(summary.p50, Duration::from_nanos(200));
        assert_eq!(summary.p99, Duration::from_nanos(300));
        assert_eq!(
            super::summary("ERROR TimeoutExpired: no answer").unwrap_err(),
            "zerorpc-python's client: TimeoutExpired: no answer"
        );
        assert!(super::summary("DONE 5").unwrap_err().contains("no call"));
        assert!(super::summary("DONE 5 x").unwrap_err().contains("\"x\""));
        assert!(super::summary("hello").unwrap_err().contains("\"hello\""));
    }
}
