//! The redaction_encodings target's cases that must keep decoding as found.
use super::*;

/// The issue-21 crash input still decodes to the case it was found as (the `binary` field
/// came after it), and passes now.
#[test]
fn the_issue_21_input_is_the_case_found() {
    let data = [
        124, 46, 41, 153, 245, 175, 101, 229, 147, 40, 60, 0, 0, 0, 0, 165, 77, 202, 24, 0, 0, 0,
        8, 37, 48, 187, 29,
    ];
    let input = Input::arbitrary_take_rest(Unstructured::new(&data)).expect("input");
    assert!(input.binary.is_empty());
    let id = format!("MID{:016X}", input.id);
    assert_eq!(id, "MIDA5000000003C2893");
    run(&input);
}

/// The stop-24 finding: code → full-width → base64 → lower case ×2 → ascii85 ×2. The chain
/// is lossy, so its bare id is not checked; the code's shape still is, on every case.
#[test]
fn a_lower_case_layer_over_base64_is_lossy_and_the_case_passes_on_its_shape() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fuzz/corpus/redaction_encodings/lossy-lowercased-base64-leaves-a-bare-id"
    );
    let data = std::fs::read(path).expect("corpus file");
    let input = Input::arbitrary_take_rest(Unstructured::new(&data)).expect("input");
    assert!(!input.lossless(), "{:?}", input.layers);
    run(&input);

    let with = |layers: Vec<Layer>| Input {
        layers,
        ..Input::arbitrary_take_rest(Unstructured::new(&data)).expect("input")
    };
    assert!(with(vec![Layer::Lowercase, Layer::Base64]).lossless());
    assert!(with(vec![Layer::Base64, Layer::Percent]).lossless());
    assert!(!with(vec![Layer::Base64Url, Layer::Percent, Layer::Lowercase]).lossless());
}
