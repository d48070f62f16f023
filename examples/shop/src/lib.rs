//! The example's service: an in-memory ticket shop implementing the `shop::Tickets` trait that
//! rpcgen generated from `api/shop.rpc` (see `build.rs`). `src/bin/server.rs` serves it and
//! `src/bin/client.rs` calls every method.

// The generated modules, one per package; `shop` refers to `common` as a sibling module.
rpcgen_runtime::include_rpc!("common");
rpcgen_runtime::include_rpc!("shop");

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use futures::StreamExt;
use rpcgen_runtime::{BoxStream, Bytes, RemoteError, Value};
use shop::{
    Event, NewTicket, NotFound, Priority, Rejected, Ticket, Tickets, TicketsAttachError,
    TicketsCloseError, TicketsGetError, TicketsMoveToError, TicketsOpenError,
};

/// The longest `report` the shop agrees to compute.
const LONGEST_REPORT: Duration = Duration::from_secs(60);

/// An in-memory ticket shop. Handlers run concurrently; the state is behind a mutex that is never
/// held across an `.await`.
#[derive(Debug, Default)]
pub struct Shop {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    last_id: u64,
    tickets: BTreeMap<u64, Ticket>,
    history: Vec<Event>,
}

impl Shop {
    /// An empty shop.
    pub fn new() -> Self {
        Self::default()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A handler that panicked cannot leave the state half-updated: every update is one call.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `change` on the ticket `id`, or fails with `NotFound`.
    fn with_ticket<T>(
        &self,
        id: u64,
        change: impl FnOnce(&mut Ticket) -> T,
    ) -> Result<T, NotFound> {
        let mut state = self.state();
        let ticket = state.tickets.get_mut(&id).ok_or(NotFound { id })?;
        Ok(change(ticket))
    }
}

/// A stream that yields `items` one by one.
fn stream_of<T: Send + 'static>(items: Vec<T>) -> BoxStream<'static, Result<T, RemoteError>> {
    futures::stream::iter(items.into_iter().map(Ok)).boxed()
}

impl Tickets for Shop {
    async fn open(&self, ticket: NewTicket) -> Result<Ticket, TicketsOpenError> {
        if ticket.title.trim().is_empty() {
            return Err(Rejected {
                message: "a ticket needs a title".to_string(),
                field: "title".to_string(),
            }
            .into());
        }
        let mut state = self.state();
        state.last_id += 1;
        let opened = Ticket {
            id: state.last_id,
            title: ticket.title,
            body: ticket.body,
            tags: ticket.tags,
            priority: ticket.priority,
            attachment: None,
            extra: BTreeMap::from([("source".to_string(), Value::from("rpcgen example"))]),
            price: ticket.price,
        };
        state.tickets.insert(opened.id, opened.clone());
        state.history.push(Event::Opened(opened.clone()));
        Ok(opened)
    }

    async fn get(&self, id: u64) -> Result<Ticket, TicketsGetError> {
        Ok(self.with_ticket(id, |ticket| ticket.clone())?)
    }

    async fn attach(&self, id: u64, file: Bytes) -> Result<(), TicketsAttachError> {
        Ok(self.with_ticket(id, |ticket| ticket.attachment = Some(file))?)
    }

    async fn move_to(&self, id: u64, queue: String) -> Result<(), TicketsMoveToError> {
        self.with_ticket(id, |_| ())?;
        self.state().history.push(Event::Moved(id, queue));
        Ok(())
    }

    async fn close(&self, id: u64, reason: String) -> Result<(), TicketsCloseError> {
        let mut state = self.state();
        state.tickets.remove(&id).ok_or(NotFound { id })?;
        state.history.push(Event::Closed { id, reason });
        Ok(())
    }

    async fn list(
        &self,
        min_priority: Option<Priority>,
    ) -> Result<BoxStream<'static, Result<Ticket, RemoteError>>, RemoteError> {
        let mut tickets: Vec<Ticket> = self
            .state()
            .tickets
            .values()
            .filter(|ticket| min_priority.is_none_or(|least| ticket.priority >= least))
            .cloned()
            .collect();
        tickets.sort_by_key(|ticket| (std::cmp::Reverse(ticket.priority), ticket.id));
        Ok(stream_of(tickets))
    }

    async fn history(&self) -> Result<BoxStream<'static, Result<Event, RemoteError>>, RemoteError> {
        Ok(stream_of(self.state().history.clone()))
    }

    async fn stats(&self) -> Result<BTreeMap<Priority, u64>, RemoteError> {
        let mut counts = BTreeMap::new();
        for ticket in self.state().tickets.values() {
            *counts.entry(ticket.priority).or_insert(0) += 1;
        }
        Ok(counts)
    }

    async fn report(&self, seconds: f64) -> Result<String, RemoteError> {
        let duration = Duration::try_from_secs_f64(seconds)
            .ok()
            .filter(|duration| *duration <= LONGEST_REPORT)
            .ok_or_else(|| {
                RemoteError::new(
                    "ValueError",
                    format!(
                        "a report takes 0 to {} seconds, not {seconds}",
                        LONGEST_REPORT.as_secs()
                    ),
                )
            })?;
        tokio::time::sleep(duration).await;
        let open = self.state().tickets.len();
        Ok(format!("{open} open tickets"))
    }

    async fn first(&self) -> Result<Option<Ticket>, RemoteError> {
        Ok(self.state().tickets.values().next().cloned())
    }
}
