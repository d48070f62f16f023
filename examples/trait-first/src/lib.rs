//! A trait-first rpcgen service: [`board`] defines it with `#[rpcgen::service]`, [`Notes`]
//! implements the generated trait in memory, and `src/bin/server.rs` serves it.

pub mod board;

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use futures::StreamExt;
use rpcgen_runtime::{BoxStream, Bytes, RemoteError};

use board::{
    Board, BoardAttachError, BoardGetError, BoardPinError, BoardRemoveError, Change, Colour,
    NoSuchNote, Note, Refused,
};

/// An in-memory board; handlers run concurrently, each update under one short lock.
#[derive(Debug, Default)]
pub struct Notes {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    last_id: u64,
    notes: BTreeMap<u64, Note>,
    changes: Vec<Change>,
}

impl Notes {
    /// An empty board.
    pub fn new() -> Notes {
        Notes::default()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A stream of `items`, one by one.
fn stream_of<T: Send + 'static>(items: Vec<T>) -> BoxStream<'static, Result<T, RemoteError>> {
    futures::stream::iter(items.into_iter().map(Ok)).boxed()
}

impl Board for Notes {
    async fn pin(
        &self,
        text: String,
        colour: Colour,
        tags: Vec<String>,
    ) -> Result<Note, BoardPinError> {
        if text.trim().is_empty() {
            return Err(Refused {
                message: "a note needs text".to_string(),
            }
            .into());
        }
        let mut state = self.state();
        state.last_id += 1;
        let note = Note {
            id: state.last_id,
            text,
            colour,
            tags,
            attachment: None,
            extra: BTreeMap::new(),
        };
        state.notes.insert(note.id, note.clone());
        state.changes.push(Change::Pinned(note.clone()));
        Ok(note)
    }

    async fn get(&self, id: u64) -> Result<Note, BoardGetError> {
        let found = self.state().notes.get(&id).cloned();
        Ok(found.ok_or(NoSuchNote { id })?)
    }

    async fn attach(&self, id: u64, data: Bytes) -> Result<(), BoardAttachError> {
        let mut state = self.state();
        let note = state.notes.get_mut(&id).ok_or(NoSuchNote { id })?;
        note.attachment = Some(data);
        Ok(())
    }

    async fn remove(&self, id: u64) -> Result<(), BoardRemoveError> {
        let mut state = self.state();
        state.notes.remove(&id).ok_or(NoSuchNote { id })?;
        state.changes.push(Change::Removed(id));
        Ok(())
    }

    async fn notes(&self) -> Result<BoxStream<'static, Result<Note, RemoteError>>, RemoteError> {
        Ok(stream_of(self.state().notes.values().cloned().collect()))
    }

    async fn changes(
        &self,
    ) -> Result<BoxStream<'static, Result<Change, RemoteError>>, RemoteError> {
        Ok(stream_of(self.state().changes.clone()))
    }

    async fn count(&self) -> Result<BTreeMap<Colour, u32>, RemoteError> {
        let mut counts = BTreeMap::new();
        for note in self.state().notes.values() {
            *counts.entry(note.colour).or_insert(0) += 1;
        }
        Ok(counts)
    }

    async fn first(&self) -> Result<Option<Note>, RemoteError> {
        Ok(self.state().notes.values().next().cloned())
    }
}
