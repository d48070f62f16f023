//! Bounded measurement: callers repeat a call until a shared call budget or a deadline runs out,
//! whichever comes first, and the latencies they record are summarised as throughput and
//! percentiles.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long one measurement may run: at most `calls` calls and at most `duration`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The most calls to make, summed over all callers.
    pub calls: u64,
    /// The longest the measurement may take (calls already started are finished).
    pub duration: Duration,
}

/// A call budget shared by concurrent callers: a count and a deadline.
#[derive(Debug)]
pub struct Budget {
    remaining: AtomicU64,
    deadline: Instant,
}

impl Budget {
    /// A budget for `limits`, starting now.
    pub fn new(limits: Limits) -> Self {
        Self {
            remaining: AtomicU64::new(limits.calls),
            deadline: Instant::now() + limits.duration,
        }
    }

    /// Takes one call from the budget; `false` when the count or the time is used up.
    pub fn take(&self) -> bool {
        if Instant::now() >= self.deadline {
            return false;
        }
        self.remaining
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |left| {
                left.checked_sub(1)
            })
            .is_ok()
    }
}

/// What one measurement found.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// Calls completed.
    pub calls: u64,
    /// Wall-clock time from the first call's start to the last call's end.
    pub elapsed: Duration,
    /// Median latency of one call.
    pub p50: Duration,
    /// 99th-percentile latency of one call.
    pub p99: Duration,
    /// CPU time the client and server processes used meanwhile, when it was measured.
    pub cpu: Option<Duration>,
}

impl Summary {
    /// Summarises the latencies of the calls made during `elapsed`; `None` without any call.
    pub fn from_latencies(mut latencies: Vec<Duration>, elapsed: Duration) -> Option<Self> {
        if latencies.is_empty() {
            return None;
        }
        latencies.sort_unstable();
        Some(Self {
            calls: latencies.len() as u64,
            elapsed,
            p50: percentile(&latencies, 50),
            p99: percentile(&latencies, 99),
            cpu: None,
        })
    }

    /// Completed calls per second of wall-clock time.
    pub fn calls_per_second(&self) -> f64 {
        self.calls as f64 / self.elapsed.as_secs_f64().max(f64::MIN_POSITIVE)
    }

    /// The CPU time one call cost, client and server together, when it was measured.
    pub fn cpu_per_call(&self) -> Option<Duration> {
        self.cpu
            .map(|cpu| cpu / u32::try_from(self.calls).unwrap_or(u32::MAX))
    }
}

/// The nearest-rank percentile of sorted, non-empty latencies.
fn percentile(sorted: &[Duration], percent: usize) -> Duration {
    let rank = (sorted.len() * percent).div_ceil(100).max(1);
    sorted[rank - 1]
}

/// Runs `concurrency` callers on the current Tokio runtime, each repeating `call` while the
/// shared budget lasts, and summarises every call's latency. The first failed call ends the
/// measurement with its error.
pub async fn run_callers<F, Fut>(
    concurrency: usize,
    limits: Limits,
    call: F,
) -> Result<Summary, String>
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), String>> + Send + 'static,
{
    let budget = Arc::new(Budget::new(limits));
    let call = Arc::new(call);
    let started = Instant::now();
    let callers: Vec<_> = (0..concurrency)
        .map(|_| {
            let budget = budget.clone();
            let call = call.clone();
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                while budget.take() {
                    let sent = Instant::now();
                    call().await?;
                    latencies.push(sent.elapsed());
                }
                Ok::<_, String>(latencies)
            })
        })
        .collect();
    let mut latencies = Vec::new();
    for caller in callers {
        let caller = caller
            .await
            .map_err(|error| format!("a caller task failed: {error}"))?;
        latencies.extend(caller?);
    }
    Summary::from_latencies(latencies, started.elapsed())
        .ok_or_else(|| "no call completed within the limits".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn millis(values: &[u64]) -> Vec<Duration> {
        values.iter().copied().map(Duration::from_millis).collect()
    }

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let latencies = millis(&(1..=200).rev().collect::<Vec<_>>());
        let summary = Summary::from_latencies(latencies, Duration::from_secs(4)).unwrap();
        assert_eq!(summary.calls, 200);
        assert_eq!(summary.p50, Duration::from_millis(100));
        assert_eq!(summary.p99, Duration::from_millis(198));
        assert_eq!(summary.calls_per_second(), 50.0);
        let measured = Summary {
            cpu: Some(Duration::from_secs(1)),
            ..summary
        };
        assert_eq!(measured.cpu_per_call(), Some(Duration::from_millis(5)));
        let single = Summary::from_latencies(millis(&[7]), Duration::from_secs(1)).unwrap();
        assert_eq!(single.p50, Duration::from_millis(7));
        assert_eq!(single.p99, Duration::from_millis(7));
        assert!(Summary::from_latencies(Vec::new(), Duration::from_secs(1)).is_none());
    }

    #[test]
    fn the_budget_stops_at_its_count() {
        let budget = Budget::new(Limits {
            calls: 3,
            duration: Duration::from_secs(60),
        });
        let taken = (0..10).filter(|_| budget.take()).count();
        assert_eq!(taken, 3);
    }

    #[test]
    fn the_budget_stops_at_its_deadline() {
        let budget = Budget::new(Limits {
            calls: u64::MAX,
            duration: Duration::ZERO,
        });
        assert!(!budget.take());
    }

    #[tokio::test]
    async fn callers_share_one_budget_and_report_errors() {
        let limits = Limits {
            calls: 50,
            duration: Duration::from_secs(60),
        };
        let summary = run_callers(4, limits, || async { Ok(()) }).await.unwrap();
        assert_eq!(summary.calls, 50);
        let failed = run_callers(2, limits, || async { Err("refused".to_string()) }).await;
        assert_eq!(failed, Err("refused".to_string()));
    }
}
