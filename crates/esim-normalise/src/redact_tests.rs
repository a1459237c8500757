//! Redaction as a class (issue 7, finding 4): generated activation codes wrapped in random
//! stacks of encodings never survive, in the scanner or in a normalised event; ordinary values
//! with `$`, `%` and `&` in them do.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
use proptest::prelude::*;
use serde_json::{json, Value};

use super::normalise::{from_webhook, parse_envelope, Normalised};
use super::redact::looks_like_lpa;
use super::test_oracle;
use super::tests::assert_schema_valid;

/// One way to wrap text.
#[derive(Debug, Clone, Copy)]
enum Encoding {
    Percent,
    PercentLowerHex,
    Base64,
    Base64Url,
    /// Base64 wrapped in lines, as MIME does (decoders skip the whitespace).
    Base64Wrapped,
    HtmlNamed,
    HtmlDecimal,
    HtmlHex,
    FullWidth,
    ZeroWidth,
    JsonEscape,
    MixedCase,
}

fn encode(e: Encoding, s: &str, seed: u64) -> String {
    let pick = |i: usize| (seed >> (i % 64)) & 1 == 1;
    match e {
        Encoding::Percent => utf8_percent_encode(s, NON_ALPHANUMERIC).to_string(),
        Encoding::PercentLowerHex => {
            let upper = utf8_percent_encode(s, NON_ALPHANUMERIC).to_string();
            let mut out = String::new();
            let mut hex_left = 0;
            for c in upper.chars() {
                if c == '%' {
                    hex_left = 2;
                    out.push(c);
                } else if hex_left > 0 {
                    hex_left -= 1;
                    out.push(c.to_ascii_lowercase());
                } else {
                    out.push(c);
                }
            }
            out
        }
        Encoding::Base64 => STANDARD.encode(s),
        Encoding::Base64Url => URL_SAFE_NO_PAD.encode(s),
        Encoding::Base64Wrapped => {
            let b = STANDARD.encode(s);
            let width = 4 + (seed % 12) as usize;
            let lines: Vec<&str> = b
                .as_bytes()
                .chunks(width)
                .map(|c| std::str::from_utf8(c).unwrap_or_default())
                .collect();
            lines.join(if seed % 2 == 0 { "\n" } else { " " })
        }
        Encoding::HtmlNamed => s
            .replace('&', "&amp;")
            .replace(':', "&colon;")
            .replace('$', "&dollar;")
            .replace('.', "&period;"),
        Encoding::HtmlDecimal => s
            .chars()
            .enumerate()
            .map(|(i, c)| match pick(i) {
                true => format!("&#{};", u32::from(c)),
                false if c == '&' => "&amp;".to_owned(),
                false => c.to_string(),
            })
            .collect(),
        Encoding::HtmlHex => s
            .chars()
            .enumerate()
            .map(|(i, c)| match (pick(i), pick(i + 1)) {
                (true, true) => format!("&#X{:X};", u32::from(c)),
                (true, false) => format!("&#x{:x};", u32::from(c)),
                (false, _) if c == '&' => "&amp;".to_owned(),
                (false, _) => c.to_string(),
            })
            .collect(),
        Encoding::FullWidth => s
            .chars()
            .map(|c| match c {
                '!'..='~' => char::from_u32(u32::from(c) - 0x21 + 0xFF01).unwrap_or(c),
                c => c,
            })
            .collect(),
        Encoding::ZeroWidth => {
            const INVISIBLE: [char; 6] = [
                '\u{200B}', '\u{200C}', '\u{200D}', '\u{2060}', '\u{FEFF}', '\u{00AD}',
            ];
            let mut out = String::new();
            for (i, c) in s.chars().enumerate() {
                out.push(c);
                if pick(i) {
                    out.push(INVISIBLE[(seed as usize + i) % INVISIBLE.len()]);
                }
            }
            out
        }
        Encoding::JsonEscape => s
            .chars()
            .enumerate()
            .map(|(i, c)| match (pick(i), u32::from(c)) {
                (true, n) if n <= 0xFFFF => format!("\\u{n:04x}"),
                _ if c == '\\' => "\\\\".to_owned(),
                _ => c.to_string(),
            })
            .collect(),
        Encoding::MixedCase => s
            .chars()
            .enumerate()
            .map(|(i, c)| match pick(i) {
                true => c.to_ascii_lowercase(),
                false => c.to_ascii_uppercase(),
            })
            .collect(),
    }
}

fn arb_encoding() -> impl Strategy<Value = Encoding> {
    prop_oneof![
        Just(Encoding::Percent),
        Just(Encoding::PercentLowerHex),
        Just(Encoding::Base64),
        Just(Encoding::Base64Url),
        Just(Encoding::Base64Wrapped),
        Just(Encoding::HtmlNamed),
        Just(Encoding::HtmlDecimal),
        Just(Encoding::HtmlHex),
        Just(Encoding::FullWidth),
        Just(Encoding::ZeroWidth),
        Just(Encoding::JsonEscape),
    ]
}

/// An activation code: `LPA:1$<host>$<matching id>` (or bare `1$host$id`), in some context;
/// and its matching id.
fn arb_code() -> impl Strategy<Value = (String, String)> {
    // A domain name of 4 characters at least (`a.io`, `smdp`): shorter is no code.
    let host =
        "([a-z][a-z0-9-]{3,9}|[a-z][a-z0-9-]{0,9}\\.[a-z]{2,8})(\\.[a-z]{2,8}){0,2}(:[0-9]{2,5})?";
    let mid = "[A-Z0-9][A-Z0-9-]{3,23}";
    (
        prop_oneof![Just("LPA:"), Just("lpa:"), Just("Lpa:"), Just("")],
        host,
        mid,
        "([A-Za-z_]{0,8}[ _]?)?",
        "( [A-Za-z]{1,8}){0,2}",
    )
        .prop_map(|(lpa, host, mid, before, after)| {
            (format!("{before}{lpa}1${host}${mid}{after}"), mid)
        })
}

/// A planted code: the code, its matching id, and every form it took on the way to the value
/// a test sends (the last one), so a check can compare literally with each.
#[derive(Debug, Clone)]
struct Planted {
    code: String,
    mid: String,
    forms: Vec<String>,
}

impl Planted {
    fn wrapped(&self) -> &str {
        self.forms.last().map_or(&self.code, String::as_str)
    }
}

/// A code, its case mixed or not, under a stack of one to four encodings. (Mixed case comes
/// first only: on top of base64 or an entity name it would destroy what it wraps.)
fn arb_wrapped() -> impl Strategy<Value = Planted> {
    (
        arb_code(),
        any::<bool>(),
        prop::collection::vec(arb_encoding(), 1..=4),
        any::<u64>(),
    )
        .prop_map(|((code, mid), mixed, stack, seed)| {
            let start = match mixed {
                true => encode(Encoding::MixedCase, &code, seed),
                false => code.clone(),
            };
            let mut forms = vec![start];
            for (i, e) in stack.iter().enumerate() {
                let last = forms.last().map_or("", String::as_str);
                let next = encode(*e, last, seed.rotate_left(i as u32 * 7 + 3));
                forms.push(next);
            }
            Planted { code, mid, forms }
        })
}

const FIELDS: [&str; 6] = [
    "client_reference",
    "product_name",
    "failure_reason",
    "failure_code",
    "currency",
    "country_code",
];

fn webhook_events(field: &str, value: &str) -> Vec<esim_events::Event> {
    let mut body = json!({"id": "evt_1", "type": "esim.failed", "created_at": "2026-01-01T00:00:00Z",
        "data": {"id": 1, "status": "FAILED", "iccid": "8910300000123456789",
            "currency": "USD", "country_code": "JPN", "failure_code": "OUT_OF_STOCK"}});
    body["data"][field] = json!(value);
    let env = parse_envelope(body.to_string().as_bytes()).expect("envelope");
    match from_webhook(&env).expect("normalise") {
        Normalised::Publish(events) => events,
        Normalised::Ignored => panic!("esim.failed is published"),
    }
}

/// The six fields a test may plant in, weighted to the free-text ones: the other three are
/// refused by their format check before the scanner sees them.
fn arb_field() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        5 => Just(FIELDS[0]), 5 => Just(FIELDS[1]), 5 => Just(FIELDS[2]),
        1 => Just(FIELDS[3]), 1 => Just(FIELDS[4]), 1 => Just(FIELDS[5]),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn no_wrapped_code_gets_past_the_scanner(planted in arb_wrapped()) {
        let (code, wrapped) = (&planted.code, planted.wrapped());
        prop_assert!(looks_like_lpa(code), "plain: {code}");
        prop_assert!(looks_like_lpa(wrapped), "{code} wrapped as {wrapped}");
        // The independent oracle decodes every stack the tests build (so its "clean" below
        // means something).
        prop_assert!(test_oracle::has_code(wrapped), "oracle too shallow: {wrapped}");
        prop_assert!(test_oracle::reveals(wrapped, &planted.mid), "oracle too shallow: {wrapped}");
    }

    #[test]
    fn no_wrapped_code_survives_into_an_event(
        planted in arb_wrapped(),
        field in arb_field(),
    ) {
        // A matching id the clean event already spells (`0000` in the ICCID) proves nothing.
        let clean: Vec<String> = webhook_events(field, "x")
            .iter()
            .flat_map(|e| test_oracle::strings(&serde_json::to_value(e).unwrap()))
            .collect();
        prop_assume!(clean.iter().all(|s| !test_oracle::reveals(s, &planted.mid)));
        let events = webhook_events(field, planted.wrapped());
        assert_schema_valid(&events);
        for e in &events {
            let payload = String::from_utf8(e.to_payload().unwrap()).unwrap();
            let v: Value = serde_json::from_str(&payload).unwrap();
            prop_assert!(v["data"][field].is_null(), "{field} kept: {payload}");
            for form in &planted.forms {
                prop_assert!(!payload.contains(form.as_str()), "{form:?} in {payload}");
            }
            let mid = planted.mid.to_lowercase();
            prop_assert!(!payload.to_lowercase().contains(&mid), "{payload}");
            for s in test_oracle::strings(&v) {
                prop_assert!(!test_oracle::reveals(&s, &planted.mid), "{s:?} in {payload}");
                prop_assert!(!test_oracle::has_code(&s), "{s:?} in {payload}");
            }
        }
        prop_assert_eq!(events[0].data.rejected.fields().collect::<Vec<_>>(), [field]);
    }
}

#[test]
fn the_reported_cases_are_dropped_from_events() {
    for value in crate::scan::tests::REPORTED {
        for field in FIELDS {
            let events = webhook_events(field, value);
            let payload = String::from_utf8(events[0].to_payload().unwrap()).unwrap();
            assert!(
                !payload.contains("MATCHING") && !payload.contains("ID\""),
                "{payload}"
            );
            let v: Value = serde_json::from_str(&payload).unwrap();
            assert!(v["data"][field].is_null(), "{field} = {value:?} kept");
        }
    }
}
