//! CPU time used by processes (user + system, all threads), read from Linux's `/proc`.
//!
//! Throughput on a shared machine moves with the load; the CPU time one call costs moves much
//! less, so the benchmarks report both.

use std::time::Duration;

/// The CPU time process `pid` has used so far; `None` where `/proc` is unavailable.
pub fn process_time(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    Some(ticks_to_duration(
        ticks_in_stat(&stat)?,
        ticks_per_second()?,
    ))
}

/// The CPU time used by `pids` together; `None` when one of them cannot be read.
pub fn total_time(pids: &[u32]) -> Option<Duration> {
    pids.iter().map(|&pid| process_time(pid)).sum()
}

/// `utime + stime` from the text of `/proc/<pid>/stat`. The fields are counted after the
/// command name, which is in parentheses and may itself contain spaces or parentheses.
fn ticks_in_stat(stat: &str) -> Option<u64> {
    let (_, after_name) = stat.rsplit_once(')')?;
    let mut fields = after_name.split_whitespace();
    // After the name come state (field 3) ... utime (field 14) and stime (field 15).
    let user = fields.nth(11)?.parse::<u64>().ok()?;
    let system = fields.next()?.parse::<u64>().ok()?;
    Some(user + system)
}

fn ticks_per_second() -> Option<u64> {
    // SAFETY: sysconf only reads a configuration value.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    u64::try_from(ticks).ok().filter(|&ticks| ticks > 0)
}

fn ticks_to_duration(ticks: u64, per_second: u64) -> Duration {
    Duration::from_secs(ticks / per_second)
        + Duration::from_nanos((ticks % per_second) * 1_000_000_000 / per_second)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_are_read_after_the_command_name() {
        let stat = "4242 (tokio (worker) 1) S 1 4242 4242 0 -1 4194304 1529 0 0 0 250 75 0 0 20 0 \
                    9 0 123456 0 0";
        assert_eq!(ticks_in_stat(stat), Some(325));
        assert_eq!(ticks_in_stat("4242 (truncated) S 1"), None);
        assert_eq!(ticks_to_duration(325, 100), Duration::from_millis(3250));
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn processes_are_read_from_proc() {
        let own = std::process::id();
        assert!(process_time(own).is_some());
        assert!(total_time(&[own, own]).is_some());
        assert_eq!(total_time(&[own, u32::MAX]), None);
    }
}
