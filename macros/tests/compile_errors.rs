//! Mistakes in annotated items are compile errors at the offending token, with a clear message.
//! Each case is a file in `tests/ui/` with the expected compiler output beside it (`.stderr`);
//! `TRYBUILD=overwrite` rewrites them after an intended change.

#[test]
fn mistakes_are_compile_errors_at_the_offending_token() {
    trybuild::TestCases::new().compile_fail("tests/ui/*.rs");
}
