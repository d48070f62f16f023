//! A service written as a Rust trait, served and called over 127.0.0.1 through the code the
//! macros generate: values, declared errors, streams, and the types' wire forms.

use std::collections::BTreeMap;

use futures::{StreamExt, TryStreamExt};
use rpcgen_runtime::{BoxStream, RemoteError, Server};

/// A note on the board.
#[rpcgen_macros::data]
pub struct Note {
    pub id: u64,
    /// The text as written.
    pub text: String,
    #[rpcgen(name = "tag_list")]
    pub tags: Vec<String>,
    pub colour: Option<Colour>,
}

#[rpcgen_macros::data]
pub enum Colour {
    Yellow,
    #[rpcgen(name = "pink")]
    Rose,
}

/// No note has this id.
#[rpcgen_macros::error]
pub struct Missing {
    pub id: u64,
}

/// A board of notes.
#[rpcgen_macros::service(timeout = "10s")]
pub trait Board {
    /// Pins a note and returns its id.
    async fn pin(&self, text: String, colour: Option<Colour>) -> u64;
    async fn get(&self, id: u64) -> Result<Note, Missing>;
    #[rpcgen(name = "all_notes")]
    fn all(&self) -> BoxStream<'static, Note>;
    async fn count_by_colour(&self) -> BTreeMap<Colour, u32>;
}

#[derive(Default)]
struct Notes {
    notes: std::sync::Mutex<Vec<Note>>,
}

impl Board for Notes {
    async fn pin(&self, text: String, colour: Option<Colour>) -> Result<u64, RemoteError> {
        let mut notes = self.notes.lock().unwrap();
        let id = notes.len() as u64 + 1;
        notes.push(Note {
            id,
            text,
            tags: vec!["new".to_string()],
            colour,
        });
        Ok(id)
    }

    async fn get(&self, id: u64) -> Result<Note, BoardGetError> {
        let notes = self.notes.lock().unwrap();
        let found = notes.iter().find(|note| note.id == id).cloned();
        Ok(found.ok_or(Missing { id })?)
    }

    async fn all(&self) -> Result<BoxStream<'static, Result<Note, RemoteError>>, RemoteError> {
        let notes = self.notes.lock().unwrap().clone();
        Ok(futures::stream::iter(notes.into_iter().map(Ok)).boxed())
    }

    async fn count_by_colour(&self) -> Result<BTreeMap<Colour, u32>, RemoteError> {
        let mut counts = BTreeMap::new();
        for colour in self
            .notes
            .lock()
            .unwrap()
            .iter()
            .filter_map(|note| note.colour)
        {
            *counts.entry(colour).or_insert(0) += 1;
        }
        Ok(counts)
    }
}

#[tokio::test]
async fn the_generated_client_calls_the_generated_server() {
    let server = Server::bind("tcp://127.0.0.1:0", board_service(Notes::default()))
        .await
        .unwrap();
    let client = BoardClient::connect(server.endpoint()).unwrap();
    assert_eq!(client.pin("milk", Some(Colour::Rose)).await.unwrap(), 1);
    assert_eq!(client.pin("eggs", None).await.unwrap(), 2);
    let note = client.get(1).await.unwrap();
    assert_eq!(
        note,
        Note {
            id: 1,
            text: "milk".to_string(),
            tags: vec!["new".to_string()],
            colour: Some(Colour::Rose),
        }
    );
    match client.get(9).await {
        Err(BoardGetError::Missing(missing)) => assert_eq!(missing, Missing { id: 9 }),
        other => panic!("expected the declared error, got {other:?}"),
    }
    let all: Vec<Note> = client.all().await.unwrap().try_collect().await.unwrap();
    assert_eq!(all.iter().map(|note| note.id).collect::<Vec<_>>(), [1, 2]);
    assert_eq!(
        client.count_by_colour().await.unwrap(),
        BTreeMap::from([(Colour::Rose, 1)])
    );
    server.shutdown().await;
}

#[test]
fn types_travel_in_the_idl_wire_form() {
    let note = Note {
        id: 7,
        text: "hi".to_string(),
        tags: Vec::new(),
        colour: Some(Colour::Rose),
    };
    let value = rpcgen_runtime::value::to_value(&note).unwrap();
    assert_eq!(
        value.to_string(),
        r#"{"id": 7, "text": "hi", "tag_list": [], "colour": "pink"}"#
    );
}
