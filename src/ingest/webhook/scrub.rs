//! What the webhook path may say about a request in logs: categories, positions and lengths,
//! never a value taken from it.
//!
//! serde_json's messages quote the offending value (`invalid type: string "LPA:1$…", expected
//! u64`), and an event id is whatever the sender wrote, so neither is ever logged; the
//! category and line/column of a JSON error locate the problem in the body the provider holds.

use esim_normalise::normalise::NormaliseError;

/// A value-free description of why a verified body was not a valid event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rejection {
    /// Which step failed: `envelope`, `data`, `created_at`, `date_out_of_range`, `schema`.
    pub step: &'static str,
    /// For JSON errors: `syntax`, `data` (wrong type or missing field), `eof`, `io`.
    pub json: Option<&'static str>,
    /// 1-based position of a JSON error in the body (0 when not known).
    pub line: usize,
    pub column: usize,
}

impl Rejection {
    pub fn of(e: &NormaliseError) -> Self {
        let (step, json) = match e {
            NormaliseError::Envelope(j) => ("envelope", Some(j)),
            NormaliseError::Data(j) => ("data", Some(j)),
            NormaliseError::CreatedAt => ("created_at", None),
            NormaliseError::DateOutOfRange(_) => ("date_out_of_range", None),
            NormaliseError::Schema(_) => ("schema", None),
        };
        Self {
            step,
            json: json.map(|j| j.category),
            line: json.map_or(0, |j| j.line),
            column: json.map_or(0, |j| j.column),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use esim_normalise::normalise::{from_webhook, parse_envelope};

    const CODE: &str = "LPA:1$smdp.example.com$SECRET-MATCHING-ID";

    #[test]
    fn broken_json_is_located_by_line_and_column() {
        let body = format!("{{\"id\":\"e\",\n\"data\":\"{CODE}\" oops}}");
        let e = parse_envelope(body.as_bytes()).expect_err("not JSON");
        let r = Rejection::of(&e);
        assert_eq!((r.step, r.json, r.line), ("envelope", Some("syntax"), 2));
        assert!(r.column > CODE.len(), "{r:?}");
        assert!(!format!("{r:?}").contains("LPA"), "{r:?}");
    }

    #[test]
    fn a_code_in_a_wrongly_typed_order_field_never_reaches_the_description() {
        let body = format!(
            r#"{{"id":"e","type":"esim.delivered","created_at":"2026-05-15T14:30:32Z","data":{{"id":"{CODE}"}}}}"#
        );
        let env = parse_envelope(body.as_bytes()).expect("a valid envelope");
        let e = from_webhook(&env).expect_err("order id is not a number");
        assert!(
            !e.to_string().contains("LPA"),
            "the error itself is value-free: {e}"
        );
        let r = Rejection::of(&e);
        assert_eq!((r.step, r.json), ("data", Some("data")));
        assert!(!format!("{r:?}").contains("LPA"), "{r:?}");
    }
}
