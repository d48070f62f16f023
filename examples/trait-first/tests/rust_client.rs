//! The macro-generated Rust client calls the macro-generated server over 127.0.0.1.

use futures::TryStreamExt;
use rpcgen_example_trait_first::board::{
    BoardClient, BoardGetError, BoardPinError, BoardRemoveError, Change, Colour, NoSuchNote, Note,
};
use rpcgen_example_trait_first::{board, Notes};
use rpcgen_runtime::Server;

#[tokio::test]
async fn every_method_answers_with_typed_values_and_errors() {
    let server = Server::bind("tcp://127.0.0.1:0", board::board_service(Notes::new()))
        .await
        .unwrap();
    let client = BoardClient::connect(server.endpoint()).unwrap();
    let milk = client
        .pin("milk", Colour::Rose, &["shopping".to_string()])
        .await
        .unwrap();
    assert_eq!((milk.id, milk.colour), (1, Colour::Rose));
    match client.pin(" ", Colour::Blue, &[]).await {
        Err(BoardPinError::Refused(refused)) => assert_eq!(refused.message, "a note needs text"),
        other => panic!("expected Refused, got {other:?}"),
    }
    client.attach(milk.id, &[0, 255]).await.unwrap();
    let fetched: Note = client.get(milk.id).await.unwrap();
    assert_eq!(fetched.attachment.as_deref(), Some(&[0u8, 255][..]));
    assert!(matches!(
        client.get(42).await,
        Err(BoardGetError::NoSuchNote(NoSuchNote { id: 42 }))
    ));
    let notes: Vec<Note> = client.notes().await.unwrap().try_collect().await.unwrap();
    assert_eq!(notes, [fetched]);
    assert_eq!(client.count().await.unwrap().get(&Colour::Rose), Some(&1));
    client.remove(milk.id).await.unwrap();
    assert!(matches!(
        client.remove(milk.id).await,
        Err(BoardRemoveError::NoSuchNote(_))
    ));
    let changes: Vec<Change> = client.changes().await.unwrap().try_collect().await.unwrap();
    assert_eq!(changes.len(), 2);
    assert_eq!(changes[1], Change::Removed(milk.id));
    server.shutdown().await;
}
