//! Settings shared by servers and clients.

use std::time::Duration;

use crate::SetupError;

/// Settings of a server or a client. The defaults match zerorpc-python and zerorpc-node.
///
/// One value can configure both sides, so that their heartbeats agree:
///
/// ```
/// use std::time::Duration;
///
/// use rpcgen_runtime::{Client, Config, Server, Service};
///
/// # #[tokio::main]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let config = Config::default()
///     .heartbeat(Some(Duration::from_secs(2)))
///     .timeout(Duration::from_secs(5))
///     .max_message_size(8 * 1024 * 1024);
/// let server = Server::builder(Service::new("Empty"))
///     .bind("tcp://127.0.0.1:0")
///     .config(config.clone())
///     .start()
///     .await?;
/// let client = Client::builder(server.endpoint()).config(config).connect()?;
/// let pong: (String, String) = client.call("_zerorpc_ping", ()).await?;
/// assert_eq!(pong, ("pong".to_string(), "Empty".to_string()));
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Interval of the per-channel heartbeats; `None` disables heartbeats and lost-remote
    /// detection. The peer declares us lost after about three of its own intervals without a
    /// beat, so both sides should use the same value: a client without heartbeats cannot make
    /// calls longer than about three of its server's intervals (the server drops a call whose
    /// caller it does not hear). Default 5 s.
    pub heartbeat: Option<Duration>,
    /// Client only: how long a call waits for its first reply. Default 30 s.
    pub timeout: Duration,
    /// The largest event, in bytes, that is sent or accepted. A server answers a larger request
    /// with `ERR MessageTooLarge` and replaces a larger reply by that error; a client refuses to
    /// send a larger request. Default 100 MiB, the limit of zerorpc-python's receiver. A peer whose
    /// message would be more than twice as large (and more than 16 MiB over the limit) is
    /// disconnected as soon as a frame header says so, before the message is read (as libzmq's
    /// `ZMQ_MAXMSGSIZE` does).
    pub max_message_size: usize,
}

/// The default [`Config::max_message_size`]: 100 MiB.
pub(crate) const DEFAULT_MAX_MESSAGE_SIZE: usize = 100 * 1024 * 1024;

impl Default for Config {
    fn default() -> Self {
        Self {
            heartbeat: Some(Duration::from_secs(5)),
            timeout: Duration::from_secs(30),
            max_message_size: DEFAULT_MAX_MESSAGE_SIZE,
        }
    }
}

impl Config {
    /// Refuses what the runtime cannot run with: a heartbeat interval of zero.
    pub(crate) fn check(&self) -> Result<(), SetupError> {
        if self.heartbeat == Some(Duration::ZERO) {
            return Err(SetupError::ZeroHeartbeat);
        }
        Ok(())
    }

    /// Sets the heartbeat interval (`None` disables heartbeats).
    pub fn heartbeat(mut self, interval: Option<Duration>) -> Self {
        self.heartbeat = interval;
        self
    }

    /// Sets the default call timeout.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets the maximum message size in bytes.
    pub fn max_message_size(mut self, bytes: usize) -> Self {
        self.max_message_size = bytes;
        self
    }
}
