//! Ordinary values survive redaction: product names and references that carry no code keep
//! their bytes, and the known false positives are pinned (see `known_false_positives…`).

use proptest::prelude::*;
use serde_json::json;

use crate::redact::clean_text;

/// Cases of the property; `ESIM_ORDINARY_CASES` asks for more (a long run, not CI's).
fn property_cases() -> u32 {
    std::env::var("ESIM_ORDINARY_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256)
}

/// Words of eSIM product names.
const PRODUCT_WORDS: &[&str] = &[
    "Japan",
    "Europe",
    "Global",
    "Asia",
    "Americas",
    "Africa",
    "Tokyo",
    "Paris",
    "USA",
    "UK",
    "Thailand",
    "Unlimited",
    "Data",
    "Travel",
    "Plan",
    "Pass",
    "Lite",
    "Max",
    "Plus",
    "Pro",
    "Day",
    "Days",
    "Week",
    "Month",
    "eSIM",
    "Regional",
    "Premium",
    "Basic",
    "Starter",
    "Explorer",
    "Business",
    "Roaming",
    "Local",
    "Discover",
    "Go",
    "Connect",
    "Mobile",
    "Internet",
    "Hotspot",
    "Voice",
    "10GB",
    "5GB",
    "1GB",
    "30",
    "7",
    "Top-up",
    "and",
    "with",
];

/// Product names random cases found dropped before the pattern was narrowed (a base32 or
/// base64 reading of their letters took a code's loose shape: `EmsDcLSB` reads `#$1.A`, next
/// to the literal `$5`; `gAsdhru`, across the space, `0$3\u{19d}`, next to `5$`; `ERESIMJA`
/// `$I$1`). Each reading is one character short of a code's narrow shape now
/// ([`crate::pattern`]), so the names keep their bytes.
#[test]
fn names_that_read_as_short_code_shapes_survive() {
    for name in ["Aaa EmsDcLSB $5", "Aaa ag Asdhru 5$", "Starter eSIM Japan"] {
        assert_eq!(clean_text(name), Some(name), "{name}");
    }
}

proptest! {
    // Fixed cases, so CI cannot flip on a name no run has met yet: 20,000 random names of
    // these words survived once the pattern was narrowed (see the module's note), and a
    // change that drops one of the seed's names fails here every time.
    #![proptest_config(ProptestConfig {
        cases: property_cases(),
        rng_seed: proptest::test_runner::RngSeed::Fixed(0x5eed_2612),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn ordinary_values_survive(
        // Product names made of the words product names have, with what follows them.
        words in proptest::collection::vec(proptest::sample::select(PRODUCT_WORDS), 1..=4),
        extra in prop_oneof![
            Just(""), Just(" $5"), Just(" 100% data"), Just(" 5$"), Just(" (US$ 10)"),
            Just(" & more"), Just(" 50%-off"), Just(" #1"), Just(" 1GB/7d"), Just(": Tokyo"),
        ],
        reference in "[A-Z][A-Z0-9_]{2,30}",
    ) {
        let name = words.join(" ");
        let product = format!("{name}{extra}");
        prop_assert_eq!(clean_text(&product), Some(product.as_str()));
        prop_assert_eq!(clean_text(&reference), Some(reference.as_str()));
        let body = json!({"id": 1, "product_name": product, "client_reference": reference,
            "failure_reason": format!("{name}{extra}")});
        let o: esim_events::OrderData = crate::parse_order(&body.to_string()).unwrap();
        prop_assert_eq!(o.product_name.as_deref(), Some(product.as_str()));
        prop_assert_eq!(o.client_reference.as_deref(), Some(reference.as_str()));
        prop_assert!(o.rejected.is_empty());
    }
}
