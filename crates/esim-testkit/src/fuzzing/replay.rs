//! Target `replay_guard`: any stored message payload through the guard every `replay`/`tail`
//! line passes ([`esim_bridge::tools::guard::line`]).
//!
//! Properties: no panic; the line is one line (no CR/LF); valid JSON stays valid JSON; no
//! activation code in the line, in any encoding the oracle undoes (JSON-escaped codes
//! included, finding 7); the line is at most a small multiple of the payload's size.

use super::oracle;
use esim_bridge::tools::guard;

/// One fuzz input: the payload of one stored message.
pub fn run(payload: &[u8]) {
    let out = guard::line(payload);
    let bytes = out.bytes();
    assert!(
        !bytes.iter().any(|b| *b == b'\n' || *b == b'\r'),
        "a line break in a replay line"
    );
    // Lossy UTF-8 triples an invalid byte, a float like `9e15` re-serialises as
    // `9000000000000000.0`; nothing else grows the line.
    let bound = payload.len().saturating_mul(6).saturating_add(64);
    assert!(
        bytes.len() <= bound,
        "replay line of {} bytes for {}",
        bytes.len(),
        payload.len()
    );
    // `Value`, not `IgnoredAny`: the latter skips strings without checking their UTF-8.
    if serde_json::from_slice::<serde_json::Value>(payload).is_ok() {
        assert!(
            serde_json::from_slice::<serde_json::Value>(bytes).is_ok(),
            "valid JSON became invalid"
        );
    }
    oracle::assert_clean_json("replay line", bytes);
}
