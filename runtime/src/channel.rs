//! What the ends of a zerorpc channel keep: the heartbeat clock of a server's call and the
//! stream credit window.
//!
//! A channel is one call: it opens with the request and closes with `OK`, `ERR` or
//! `STREAM_DONE`. While it is open each side sends `_zpc_hb` every interval and declares the peer
//! lost when it has heard no beat for two intervals (three for a peer never heard), like
//! zerorpc-python. (The client keeps the same rule for all its channels with one clock per
//! connection.) Streams are flow-controlled with `_zpc_more` credits: the receiver keeps a
//! window of 100 events and grants more when fewer than 50 are reserved.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::time::{Instant, Interval, MissedTickBehavior};

/// The number of events a stream receiver lets the sender have in flight.
pub(crate) const STREAM_WINDOW: u64 = 100;

/// What a heartbeat tick asks the channel to do.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Beat {
    /// Send `_zpc_hb` now.
    Send,
    /// The peer has been silent for too long.
    Lost,
}

/// The heartbeat of one channel, or nothing when heartbeats are disabled.
pub(crate) struct HeartbeatClock {
    state: Option<Running>,
}

struct Running {
    interval: Duration,
    first_beat: Instant,
    /// Made when the clock is first waited on, so a call that ends at once never arms a timer.
    ticker: Option<Interval>,
    last_heard: Option<Instant>,
}

impl HeartbeatClock {
    /// Starts the clock now; the first beat is due one interval from now.
    pub fn start(interval: Option<Duration>) -> Self {
        let state = interval.map(|interval| Running {
            interval,
            first_beat: Instant::now() + interval,
            ticker: None,
            last_heard: None,
        });
        Self { state }
    }

    /// The interval, when the clock runs.
    pub fn interval(&self) -> Option<Duration> {
        self.state.as_ref().map(|state| state.interval)
    }

    /// Waits for the next tick; never resolves when heartbeats are disabled. `heard` tells
    /// whether the peer has beaten since the previous tick (the tick clears it): a beat counts
    /// as heard at the tick that reads it.
    pub async fn tick(&mut self, heard: &AtomicBool) -> Beat {
        let Some(state) = &mut self.state else {
            return futures::future::pending().await;
        };
        let ticker = state.ticker.get_or_insert_with(|| {
            let mut ticker = tokio::time::interval_at(state.first_beat, state.interval);
            ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
            ticker
        });
        let now = ticker.tick().await;
        if heard.swap(false, Ordering::Relaxed) {
            state.last_heard = Some(now);
        }
        // A peer never heard is treated as heard at the first tick, as zerorpc-python does.
        let last_heard = *state.last_heard.get_or_insert(now);
        if now.saturating_duration_since(last_heard) >= state.interval * 2 {
            Beat::Lost
        } else {
            Beat::Send
        }
    }
}

/// The receiver's side of stream flow control, with zerorpc-python's exact rule.
#[derive(Debug)]
pub(crate) struct CreditWindow {
    reserved: u64,
    started: bool,
}

impl Default for CreditWindow {
    fn default() -> Self {
        // The sender may send one event before any credit.
        Self {
            reserved: 1,
            started: false,
        }
    }
}

impl CreditWindow {
    /// Called before taking the next event; returns the credit to grant with `_zpc_more`.
    pub fn before_take(&mut self) -> Option<u64> {
        if !self.started {
            self.started = true;
            return None;
        }
        if self.reserved < STREAM_WINDOW / 2 {
            let open = STREAM_WINDOW - self.reserved;
            self.reserved += open;
            Some(open)
        } else {
            None
        }
    }

    /// Called after an event was taken.
    pub fn taken(&mut self) {
        self.reserved = self.reserved.saturating_sub(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credit_grants_follow_zerorpc_python() {
        let mut window = CreditWindow::default();
        let mut grants = Vec::new();
        for _ in 0..250 {
            if let Some(grant) = window.before_take() {
                grants.push(grant);
            }
            window.taken();
        }
        // First grant when the second event is taken, then 51 each time the reserve drops
        // under half the window.
        assert_eq!(grants, [100, 51, 51, 51, 51]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_silent_peer_is_lost_after_three_intervals() {
        let interval = Duration::from_secs(5);
        let start = Instant::now();
        let mut clock = HeartbeatClock::start(Some(interval));
        let silent = AtomicBool::new(false);
        assert_eq!(clock.tick(&silent).await, Beat::Send);
        assert_eq!(clock.tick(&silent).await, Beat::Send);
        assert_eq!(clock.tick(&silent).await, Beat::Lost);
        assert_eq!(Instant::now() - start, interval * 3);
    }

    #[tokio::test(start_paused = true)]
    async fn a_beating_peer_is_never_lost() {
        let mut clock = HeartbeatClock::start(Some(Duration::from_secs(1)));
        let heard = AtomicBool::new(false);
        for _ in 0..10 {
            heard.store(true, Ordering::Relaxed);
            assert_eq!(clock.tick(&heard).await, Beat::Send);
        }
        // Silent from now on: lost two intervals after the last beat.
        assert_eq!(clock.tick(&heard).await, Beat::Send);
        assert_eq!(clock.tick(&heard).await, Beat::Lost);
    }

    #[tokio::test(start_paused = true)]
    async fn a_disabled_clock_never_ticks() {
        let mut clock = HeartbeatClock::start(None);
        let heard = AtomicBool::new(false);
        let waited = tokio::time::timeout(Duration::from_secs(3600), clock.tick(&heard)).await;
        assert!(waited.is_err());
        assert!(clock.interval().is_none());
    }
}
