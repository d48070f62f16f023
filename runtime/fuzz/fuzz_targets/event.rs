//! Any frame given to `Event::decode` (the same layout check the server and client run on every
//! frame) ends in an event or an error, and a decoded event encodes to a frame that decodes to
//! an event with the same name and the same encoding.
//!
//! "The same encoding", not "the same frame": a `str` that is not UTF-8 (in the header or the
//! arguments) is written back as `bin` by rmpv, the one normalisation found so far.

#![no_main]

use libfuzzer_sys::fuzz_target;
use rpcgen_runtime::event::Event;

fuzz_target!(|frame: &[u8]| {
    let Ok(event) = Event::decode(frame) else {
        return;
    };
    let encoded = event.encode();
    let again = Event::decode(&encoded).expect("an encoded event decodes");
    assert_eq!(again.name, event.name);
    assert_eq!(again.encode(), encoded);
});
