//! Where the Rust front end's syntax-tree spans point.
//!
//! The `.rpc` syntax tree and its diagnostics use byte [`Span`]s into a registered file. Rust source
//! comes with `proc_macro2` spans instead, so each lowering goes through a [`SpanMap`]:
//! - [`FileOffsets`] for a `.rs` file read from disk (`rpcgen extract`, `--from-rust`, the builder):
//!   a token's span becomes its byte range in that file, so diagnostics render like rustc's with the
//!   file's own lines;
//! - [`SpanTable`] for a proc macro: each token's span is stored in a table and the syntax tree gets
//!   the table index, so a diagnostic can be turned back into a compiler error at the very token.

use crate::source::Span;

/// Turns the span of a Rust token into a span of the `.rpc` syntax tree.
pub(crate) trait SpanMap {
    /// The syntax-tree span for a token's span.
    fn map(&mut self, span: proc_macro2::Span) -> Span;

    /// Marks the spans mapped from now on as the macro's own item's (or not); only a
    /// [`SpanTable`] keeps track.
    fn record_own(&mut self, _own: bool) {}
}

/// Byte offsets into the file the tokens were parsed from (outside a proc macro only).
pub(crate) struct FileOffsets;

impl SpanMap for FileOffsets {
    fn map(&mut self, span: proc_macro2::Span) -> Span {
        let range = span.byte_range();
        Span::new(range.start, range.end)
    }
}

/// Compiler spans kept aside; syntax-tree spans are indices into the table.
#[derive(Default)]
pub(crate) struct SpanTable {
    /// Each recorded span, with whether it belongs to the item the macro was called on.
    entries: Vec<(proc_macro2::Span, bool)>,
    /// Whether spans recorded now belong to the macro's own item.
    recording_own: bool,
}

impl SpanTable {
    /// The compiler span behind a syntax-tree span, when it lies in the macro's own item.
    pub(crate) fn own_span(&self, span: Span) -> Option<proc_macro2::Span> {
        self.entries
            .get(span.start)
            .filter(|(_, own)| *own)
            .map(|(span, _)| *span)
    }
}

impl SpanMap for SpanTable {
    fn map(&mut self, span: proc_macro2::Span) -> Span {
        self.entries.push((span, self.recording_own));
        let index = self.entries.len() - 1;
        Span::new(index, index + 1)
    }

    fn record_own(&mut self, own: bool) {
        self.recording_own = own;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_spans_are_indices_that_remember_ownership() {
        let mut table = SpanTable::default();
        let foreign = table.map(proc_macro2::Span::call_site());
        table.record_own(true);
        let own = table.map(proc_macro2::Span::call_site());
        assert_eq!((foreign, own), (Span::new(0, 1), Span::new(1, 2)));
        assert!(table.own_span(foreign).is_none());
        assert!(table.own_span(own).is_some());
        assert!(table.own_span(Span::new(7, 8)).is_none());
    }

    #[test]
    fn file_offsets_are_byte_ranges() {
        let file: syn::File = syn::parse_str("// é\nstruct Ticket;").unwrap();
        let syn::Item::Struct(item) = &file.items[0] else {
            panic!("a struct")
        };
        assert_eq!(FileOffsets.map(item.ident.span()), Span::new(13, 19));
    }
}
