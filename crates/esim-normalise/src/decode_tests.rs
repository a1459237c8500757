//! Tests of [`super`]: every encoding undone one layer at a time, and the readings that
//! catch codes hidden by ambiguous encodings.

use super::*;
use crate::text::{canonical, squeezed};

#[test]
fn a_digit_eaten_by_an_unterminated_reference_is_still_seen() {
    // `&#7` glued before `1$host$id`: read as `&#71` (`G`) the `1` is gone.
    let value = "LX&#71&dollar;rsp.provider.io&colon;30062&dollar;MID421BB115CF4765AF";
    assert!(crate::scan::leaks(value), "{value}");
}

#[test]
fn text_after_binary_in_one_base64_run_is_decoded_further() {
    use base64::engine::general_purpose::STANDARD;
    // A binary prefix glued to the base64 of an HTML-encoded code (a fuzzer's find).
    let mut bytes = vec![0x41, 0x04, 0x10, 0x41, 0x04, 0x10];
    bytes.extend_from_slice(b"&#x4c;&#x50;&#x41;&#x3a;1$smdp.example$ID");
    let run = STANDARD.encode(&bytes);
    let texts: Vec<String> = layers(&run)
        .into_iter()
        .filter_map(|l| match l {
            Layer::Text(t) => Some(t),
            Layer::Opaque(_) => None,
        })
        .collect();
    assert!(texts.iter().any(|t| t.starts_with("&#x4c;")), "{texts:?}");
    assert!(crate::scan::leaks(&format!("note {run}")));
}

fn texts(s: &str) -> Vec<String> {
    layers(s)
        .into_iter()
        .filter_map(|l| match l {
            Layer::Text(t) => Some(t),
            Layer::Opaque(_) => None,
        })
        .collect()
}

#[test]
fn compatibility_forms_and_invisible_characters_fold_away() {
    assert_eq!(canonical("ＬＰＡ：１＄ｈ＄ｉ"), "LPA:1$h$i");
    assert_eq!(canonical("L\u{200B}P\u{2060}A\u{FEFF}:\u{00AD}1"), "LPA:1");
    assert_eq!(canonical("Café ☕"), "Café ☕");
    assert_eq!(squeezed("L P\tA :\n1"), "LPA:1");
}

#[test]
fn each_encoding_is_undone_one_layer_at_a_time() {
    assert!(texts("LPA%3A1%24h%24i").contains(&"LPA:1$h$i".to_owned()));
    assert!(texts("&#76;&#x50;&#X41&colon;1&dollar;h").contains(&"LPA:1$h".to_owned()));
    assert!(texts(r"\u004c\u{50}\x41\:1\$").contains(&"LPA:1$".to_owned()));
    // "LPA:1$h$i" in base64 and base64url, unpadded, after a word.
    assert!(texts("ref TFBBOjEkaCRp").contains(&"LPA:1$h$i".to_owned()));
    assert!(texts("REFTFBBOjEkaCRp")
        .iter()
        .any(|t| t.contains("LPA:1$h$i")));
}

#[test]
fn plain_text_has_no_layers() {
    for s in [
        "Japan eSIM",
        "100% data",
        "Fish & Chips",
        "8910300000123456789",
    ] {
        assert!(texts(s).is_empty(), "{s}: {:?}", texts(s));
    }
}
