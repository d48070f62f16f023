//! A board of notes that people pin, move and remove.

// The `//!` docs above are the package's docs, which every generated client carries.
//
// The notes board is defined only by this trait and its types: `#[rpcgen::service]` generates the
// server trait to implement, the `board_service` function and the typed `BoardClient`, exactly as
// `api/board.rpc` would; `rpcgen generate --from-rust src/board.rs` generates the TypeScript and
// Python clients.
//
// Types are written with their full paths: the macros replace the items with generated code that
// names everything by full path, so imports here would be unused.

/// The colour of a note.
#[rpcgen::data]
pub enum Colour {
    Yellow,
    Blue,
    /// Travels as `"pink"`.
    #[rpcgen(name = "pink")]
    Rose,
}

/// A note pinned on the board.
#[rpcgen::data]
pub struct Note {
    pub id: u64,
    /// The text as written.
    pub text: String,
    pub colour: Colour,
    pub tags: Vec<String>,
    /// Anything the author attached.
    pub attachment: Option<rpcgen_runtime::Bytes>,
    pub extra: std::collections::BTreeMap<String, rpcgen_runtime::Value>,
}

/// Something that happened on the board.
#[rpcgen::data]
pub enum Change {
    Pinned(Note),
    Moved { id: u64, to: String },
    Removed(u64),
}

/// No note has this id.
#[rpcgen::error]
pub struct NoSuchNote {
    pub id: u64,
}

/// The board refuses a note.
#[rpcgen::error]
pub struct Refused {
    pub message: String,
}

/// A shared board of notes.
#[rpcgen::service(package = "board", timeout = "10s")]
pub trait Board {
    /// Pins a note; returns it with its id.
    async fn pin(&self, text: String, colour: Colour, tags: Vec<String>) -> Result<Note, Refused>;
    /// One note by id.
    async fn get(&self, id: u64) -> Result<Note, NoSuchNote>;
    /// Attaches bytes to a note.
    async fn attach(&self, id: u64, data: rpcgen_runtime::Bytes) -> Result<(), NoSuchNote>;
    /// Removes a note.
    #[rpcgen(name = "unpin")]
    async fn remove(&self, id: u64) -> Result<(), (NoSuchNote, Refused)>;
    /// Every note, oldest first.
    fn notes(&self) -> rpcgen_runtime::BoxStream<'static, Note>;
    /// Every change so far.
    fn changes(&self) -> rpcgen_runtime::BoxStream<'static, Change>;
    /// How many notes have each colour.
    async fn count(&self) -> std::collections::BTreeMap<Colour, u32>;
    /// The first note, if any.
    #[deprecated(note = "use notes")]
    async fn first(&self) -> Option<Note>;
}
