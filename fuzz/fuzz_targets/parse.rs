//! `cargo +nightly fuzz run parse`: arbitrary bytes (decoded lossily) into the Python parser.
//!
//! `parse` promises never to panic; on top of that every syntax error must point inside the
//! text, on char boundaries.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let parsed = fledge_core::syntax::parse(&text);
    for e in &parsed.syntax_errors {
        let r = e.range;
        assert!(r.start <= r.end && r.end <= text.len(), "syntax error range {r:?} outside a {}-byte text", text.len());
        assert!(
            text.is_char_boundary(r.start) && text.is_char_boundary(r.end),
            "syntax error range {r:?} splits a character"
        );
    }
});
