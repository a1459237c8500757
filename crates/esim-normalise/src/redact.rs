//! Activation-code redaction: the bridge never keeps or forwards an activation code.
//!
//! Two rules, applied anywhere in a JSON tree: values under a secret key (`activation_code`,
//! `lpa`, `qr_code`, `smdp_address`, `matching_id`, any case, `-`/`_` ignored) are removed,
//! and a string in which [`looks_like_lpa`] finds LPA-like text, in any encoding
//! ([`super::scan`]), is dropped as a whole (never partly kept: `LPA:1$host$ MATCHING` does not
//! become `[redacted] MATCHING`). [`OrderData`](esim_events::OrderData) applies the string rule as it
//! parses, the publisher checks every payload with [`find_leak`] before it leaves, and replay
//! output goes through the same check.

use serde_json::Value;

use super::scan;

/// What replaces a whole string that held activation-code material (replay output).
pub const REDACTED: &str = "[redacted]";

/// Key names (lower case, `_`/`-` removed) whose values are secrets wherever they appear.
const SECRET_KEYS: [&str; 5] = [
    "activationcode",
    "lpa",
    "qrcode",
    "smdpaddress",
    "matchingid",
];

/// True if `key` names a field that holds an activation code or part of one.
pub fn is_secret_key(key: &str) -> bool {
    let folded: String = key
        .chars()
        .filter(|c| *c != '_' && *c != '-')
        .map(|c| c.to_ascii_lowercase())
        .collect();
    SECRET_KEYS.contains(&folded.as_str())
}

/// True if `s`, or anything it decodes to (percent, HTML references, JSON escapes, base64,
/// Unicode compatibility forms, invisible characters), holds LPA-like text.
pub fn looks_like_lpa(s: &str) -> bool {
    scan::leaks(s)
}

/// `s` if it is free of activation-code material, else `None`: a hit drops the whole value.
pub fn clean_text(s: &str) -> Option<&str> {
    (!looks_like_lpa(s)).then_some(s)
}

/// Removes secret keys and keys that look like codes, and replaces every string that holds
/// activation-code material with [`REDACTED`] as a whole, anywhere in `v`.
pub fn redact_value(v: &mut Value) {
    match v {
        Value::String(s) => {
            if looks_like_lpa(s) {
                *s = REDACTED.to_owned();
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact_value),
        Value::Object(map) => {
            map.retain(|k, _| !is_secret_key(k) && !looks_like_lpa(k));
            map.values_mut().for_each(redact_value);
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

/// Where in a JSON document a secret was found (a JSON pointer, never the value itself).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("activation code material at {pointer}")]
pub struct Leak {
    pub pointer: String,
}

/// Finds the first secret key or LPA-looking string in `v`, if any.
pub fn find_leak(v: &Value) -> Option<Leak> {
    fn walk(v: &Value, path: &mut String) -> Option<Leak> {
        let leak = |path: &str| {
            Some(Leak {
                pointer: path.to_owned(),
            })
        };
        match v {
            Value::String(s) if looks_like_lpa(s) => leak(path),
            Value::Array(items) => items.iter().enumerate().find_map(|(i, item)| {
                let len = path.len();
                path.push_str(&format!("/{i}"));
                let found = walk(item, path);
                path.truncate(len);
                found
            }),
            Value::Object(map) => map.iter().find_map(|(k, item)| {
                let len = path.len();
                path.push('/');
                path.push_str(&k.replace('~', "~0").replace('/', "~1"));
                let found = if is_secret_key(k) || looks_like_lpa(k) {
                    leak(path)
                } else {
                    walk(item, path)
                };
                path.truncate(len);
                found
            }),
            _ => None,
        }
    }
    walk(v, &mut String::new())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn secret_keys_match_in_any_case_and_spelling() {
        for k in [
            "activation_code",
            "ActivationCode",
            "LPA",
            "qr-code",
            "SMDP_ADDRESS",
            "matchingId",
        ] {
            assert!(is_secret_key(k), "{k}");
        }
        assert!(!is_secret_key("iccid"));
    }

    #[test]
    fn a_hit_drops_the_whole_value() {
        assert_eq!(
            clean_text("code is LPA:1$smdp.example.com$ABC-123 ok"),
            None
        );
        assert_eq!(clean_text("LPA:1$host$ MATCHING"), None);
        assert_eq!(clean_text("1$rsp.example$XYZ"), None);
        assert_eq!(clean_text("Japan eSIM"), Some("Japan eSIM"));
        assert_eq!(clean_text("$4.275"), Some("$4.275"));
    }

    #[test]
    fn redact_value_removes_keys_and_patterns_everywhere() {
        let mut v = json!({
            "a": {"Activation_Code": "x", "notes": ["LPA:1$h$m", {"lpa": 1}]},
            "LPA:1$h$k": true,
            "ok": "fine"
        });
        redact_value(&mut v);
        assert_eq!(v, json!({"a": {"notes": ["[redacted]", {}]}, "ok": "fine"}));
        assert_eq!(find_leak(&v), None);
    }

    #[test]
    fn find_leak_names_the_place_not_the_value() {
        let v = json!({"data": {"x": [0, "LPA:1$h$SECRET"]}});
        let leak = find_leak(&v).expect("leak");
        assert_eq!(leak.pointer, "/data/x/1");
        assert!(!leak.to_string().contains("SECRET"));
        assert_eq!(
            find_leak(&json!({"qr_code": null})).unwrap().pointer,
            "/qr_code"
        );
    }
}
