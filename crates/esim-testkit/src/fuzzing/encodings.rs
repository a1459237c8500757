//! Target `redaction_encodings`: an activation code built from structured input, wrapped in
//! generated layers of encoding and put in a webhook field, through normalise → payload,
//! subject and headers, and through the replay guard as stored text.
//!
//! Property: the code survives nowhere — neither its shape ([`oracle::leaks`]) nor its
//! matching id, in any decoding the oracle undoes (issue 7, findings 4 and 7, as a class).
//!
//! The matching id alone is checked only when every layer can be undone. Lower-casing base64
//! text destroys bits: what survives is whatever base64 groups happened to be lower case
//! already, so a full-width code's id can come through whole while its `$host$` part is
//! garbled beyond any code shape. A bare matching id cannot be told from any other token
//! by a redactor that knows no codes (the replay guard reads messages anybody published), so
//! the promise there is the code's shape, which stays checked on every case (issue 21, the
//! reproducer `corpus/redaction_encodings/lossy-lowercased-base64-leaves-a-bare-id`).

use arbitrary::{Arbitrary, Unstructured};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use serde_json::json;

use super::binary_layers::{apply_binary, Binary};
use super::oracle::{self, MAX_BINARY, MAX_LAYERS};
use super::webhook;
use esim_bridge::tools::guard;
use esim_normalise::normalise::{self, Normalised};

/// Characters of surrounding text kept at most.
const MAX_TEXT: usize = 48;
/// Encoded codes longer than this are skipped (layers multiply the length; a webhook field
/// that long is no different, only slower to fuzz).
const MAX_WRAPPED: usize = 2048;

/// One generated case.
#[derive(Debug, Arbitrary)]
pub struct Input {
    prefix: Prefix,
    host: u8,
    port: Option<u16>,
    id: u64,
    layers: Vec<Layer>,
    before: String,
    after: String,
    field: Field,
    event: u8,
    /// Write the JSON string with `\uXXXX` escapes for every character.
    escape_json: bool,
    /// Binary-to-text encodings (issue 16, row 12) applied over the text layers. Last, so the
    /// inputs of the corpus written before it decode to the same cases as when they were found.
    binary: Vec<Binary>,
}

#[derive(Debug, Clone, Copy, Arbitrary)]
enum Prefix {
    Lpa,
    LowerWithSpace,
    Bare,
    Glued,
}

#[derive(Debug, Clone, Copy, Arbitrary)]
enum Layer {
    Percent,
    PercentEvery,
    HtmlDecimal,
    HtmlHex,
    HtmlNamed,
    FullWidth,
    Invisible,
    SoftHyphen,
    Base64,
    Base64Url,
    EscapedText,
    Lowercase,
}

#[derive(Debug, Clone, Copy, Arbitrary)]
enum Field {
    ClientReference,
    ProductName,
    FailureReason,
    FailureCode,
    Currency,
    CountryCode,
    Iccid,
    Unlisted,
    EventId,
}

const HOSTS: [&str; 4] = [
    "smdp.example.com",
    "rsp.provider.io",
    "a.io",
    "sm-v4-004.prod.example",
];
const EVENTS: [&str; 4] = [
    "esim.delivered",
    "esim.failed",
    "esim.installed",
    "esim.activated",
];

/// Decodes the libFuzzer bytes as `libfuzzer-sys` does, then runs the case.
pub fn run_bytes(data: &[u8]) {
    if let Ok(input) = Input::arbitrary_take_rest(Unstructured::new(data)) {
        run(&input);
    }
}

/// One case.
pub fn run(input: &Input) {
    let id = format!("MID{:016X}", input.id);
    let code = input.code(&id);
    let wrapped = input
        .layers
        .iter()
        .take(MAX_LAYERS)
        .fold(code, |s, l| apply(*l, &s));
    let wrapped = input
        .binary
        .iter()
        .take(MAX_BINARY)
        .fold(wrapped, |s, b| apply_binary(*b, s.as_bytes()));
    if wrapped.len() > MAX_WRAPPED {
        return;
    }
    let before: String = input.before.chars().take(MAX_TEXT).collect();
    let after: String = input.after.chars().take(MAX_TEXT).collect();
    // Text the fuzzer placed around the code may spell the id itself; then only the code's
    // shape is checked.
    let id_planted = oracle::contains_decoded(&format!("{before} {after}"), &id);
    let id_checked = !id_planted && input.lossless();
    let value = format!("{before}{wrapped}{after}");
    // The oracle's views are built once per text for both checks (they are the harness's
    // main cost).
    let check = |what: &str, text: &str| {
        let (code, id_found) = oracle::code_and_needle(text, &id);
        assert!(
            !code,
            "activation code in {what}: {:?}",
            oracle::excerpt(text)
        );
        assert!(
            !id_checked || !id_found,
            "matching id in {what}: {:?}",
            oracle::excerpt(text)
        );
    };

    let body = input.body(&value);
    match normalise::parse_envelope(body.as_bytes()) {
        Err(e) => check("envelope error", &e.to_string()),
        Ok(env) => match normalise::from_webhook(&env) {
            Ok(Normalised::Publish(events)) => {
                webhook::check_events(&events);
                for e in &events {
                    if let Ok(p) = e.to_payload() {
                        check("payload", &String::from_utf8_lossy(&p));
                    }
                    if let Ok(s) = e.subject("esim") {
                        check("subject", &s);
                    }
                }
            }
            Ok(Normalised::Ignored) => {}
            Err(e) => check("normalise error", &e.to_string()),
        },
    }

    // The same text stored in a message someone else published: the replay guard's line.
    let stored = input.json_string(&value);
    let payload = format!("{{\"data\":{{\"note\":{stored}}}}}");
    let line = guard::line(payload.as_bytes());
    check("replay line", &String::from_utf8_lossy(line.bytes()));
}

impl Input {
    /// False when a lower-case layer comes after a base64 layer: that chain cannot be undone
    /// (see the module docs), so only the code's shape is checked.
    fn lossless(&self) -> bool {
        let layers = &self.layers[..self.layers.len().min(MAX_LAYERS)];
        let first_base64 = layers
            .iter()
            .position(|l| matches!(l, Layer::Base64 | Layer::Base64Url));
        match first_base64 {
            Some(at) => !layers[at..].iter().any(|l| matches!(l, Layer::Lowercase)),
            None => true,
        }
    }

    fn code(&self, id: &str) -> String {
        let host = HOSTS[usize::from(self.host) % HOSTS.len()];
        let host = match self.port {
            Some(p) => format!("{host}:{p}"),
            None => host.to_owned(),
        };
        match self.prefix {
            Prefix::Lpa => format!("LPA:1${host}${id}"),
            Prefix::LowerWithSpace => format!("lpa: 1${host}${id}"),
            Prefix::Bare => format!("1${host}${id}"),
            Prefix::Glued => format!("REF_1${host}${id}"),
        }
    }

    /// A JSON string literal for `value`, escaped character by character if asked.
    fn json_string(&self, value: &str) -> String {
        if !self.escape_json {
            return json!(value).to_string();
        }
        let mut out = String::from("\"");
        for unit in value.encode_utf16() {
            out.push_str(&format!("\\u{unit:04x}"));
        }
        out.push('"');
        out
    }

    /// A webhook body with `value` in the chosen field.
    fn body(&self, value: &str) -> String {
        let v = self.json_string(value);
        let field = match self.field {
            Field::ClientReference => "client_reference",
            Field::ProductName => "product_name",
            Field::FailureReason => "failure_reason",
            Field::FailureCode => "failure_code",
            Field::Currency => "currency",
            Field::CountryCode => "country_code",
            Field::Iccid => "iccid",
            Field::Unlisted => "note",
            Field::EventId => "_",
        };
        let event = EVENTS[usize::from(self.event) % EVENTS.len()];
        let id = if matches!(self.field, Field::EventId) {
            v.clone()
        } else {
            "\"evt_1\"".into()
        };
        format!(
            "{{\"id\":{id},\"type\":\"{event}\",\"created_at\":\"2026-05-15T14:30:32Z\",\
             \"data\":{{\"id\":8910,\"status\":\"DELIVERED\",\"iccid\":\"8944000000000000042\",\
             \"installed_at\":\"2026-05-15T14:31:00Z\",\"activated_at\":\"2026-05-15T15:00:00Z\",\
             \"{field}\":{v}}}}}"
        )
    }
}

/// One layer of encoding.
fn apply(layer: Layer, s: &str) -> String {
    match layer {
        Layer::Percent => s
            .chars()
            .map(|c| match c {
                ':' | '$' | '/' | ' ' | '%' => format!("%{:02X}", c as u32),
                c => c.to_string(),
            })
            .collect(),
        Layer::PercentEvery => s.bytes().map(|b| format!("%{b:02X}")).collect(),
        Layer::HtmlDecimal => s.chars().map(|c| format!("&#{};", c as u32)).collect(),
        Layer::HtmlHex => s.chars().map(|c| format!("&#x{:x};", c as u32)).collect(),
        Layer::HtmlNamed => s.replace('$', "&dollar;").replace(':', "&colon;"),
        Layer::FullWidth => s
            .chars()
            .map(|c| match c {
                '!'..='~' => char::from_u32(c as u32 + 0xFEE0).unwrap_or(c),
                c => c,
            })
            .collect(),
        Layer::Invisible => s.chars().flat_map(|c| [c, '\u{200B}']).collect(),
        Layer::SoftHyphen => s.chars().flat_map(|c| [c, '\u{00AD}']).collect(),
        Layer::Base64 => STANDARD.encode(s),
        Layer::Base64Url => URL_SAFE_NO_PAD.encode(s),
        Layer::EscapedText => s
            .chars()
            .map(|c| format!("\\u{:04x}", c as u32 & 0xFFFF))
            .collect(),
        Layer::Lowercase => s.to_lowercase(),
    }
}

#[cfg(test)]
#[path = "encodings_tests.rs"]
mod tests;
