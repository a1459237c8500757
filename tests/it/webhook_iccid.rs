//! The ICCID of a webhook: one validated value for subject, headers and payload (issue 7,
//! finding 2), and one key per eSIM whatever an observation lacks (finding 5).

use crate::support::bridge::{esim_webhook, signed, Scenario};

const ICCID: &str = "8910300000123456789";

async fn status(s: &Scenario, body: &str) -> u16 {
    let res = signed(&s.http, &s.bridge.url(), body).send().await;
    res.expect("an answer, not a dropped connection")
        .status()
        .as_u16()
}

#[tokio::test]
async fn control_characters_and_junk_in_an_iccid_get_400_and_the_listener_keeps_answering() {
    let s = Scenario::start(|_| {}).await;
    let hostile = [
        format!("{ICCID}\n"),
        format!("{ICCID}\r\n"),
        format!("{ICCID}\u{0}"),
        format!("\t{ICCID}"),
        format!(" {ICCID}"),
        format!("{ICCID}\u{85}"),
        format!("{ICCID}\u{2028}"),
        "８９10300000123456789".to_owned(),
        "89103000001234567.>".to_owned(),
        "LPA:1$smdp.example$X".to_owned(),
    ];
    for (i, iccid) in hostile.iter().enumerate() {
        for t in ["esim.delivered", "esim.failed"] {
            let body = esim_webhook(&format!("evt_bad_{i}"), t, 100 + i as u64, Some(iccid));
            assert_eq!(status(&s, &body).await, 400, "{t} with ICCID {iccid:?}");
        }
    }
    // A number is not an ICCID either (it would lose leading zeros and has no fixed form).
    let numeric = esim_webhook("evt_num", "esim.delivered", 3, None)
        .replace(r#""iccid":null"#, &format!(r#""iccid":{ICCID}"#));
    assert!(numeric.contains(&format!(r#""iccid":{ICCID}"#)));
    assert_eq!(status(&s, &numeric).await, 400, "numeric ICCID");
    assert!(s.stored().await.is_empty(), "nothing may be published");

    // The listener is alive and the valid ICCID goes to subject and header unchanged.
    let ok = esim_webhook("evt_ok", "esim.delivered", 1, Some(ICCID));
    assert_eq!(status(&s, &ok).await, 200);
    let stored = s.stored().await;
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].subject, format!("esim.events.{ICCID}.delivered"));
    let header = stored[0].headers.get("Esim-Iccid").map(|v| v.as_str());
    assert_eq!(header, Some(ICCID));
    s.finish().await;
}

#[tokio::test]
async fn a_lifecycle_webhook_without_its_iccid_is_refused_and_never_creates_a_second_key() {
    let s = Scenario::start(|_| {}).await;
    for (i, t) in [
        "esim.delivered",
        "esim.installed",
        "esim.activated",
        "esim.depleted",
    ]
    .into_iter()
    .enumerate()
    {
        let body = esim_webhook(&format!("evt_no_iccid_{i}"), t, 7, None);
        assert_eq!(status(&s, &body).await, 400, "{t} without an ICCID");
        let absent = body.replace(r#","iccid":null"#, "");
        assert!(!absent.contains(r#""iccid""#));
        assert_eq!(status(&s, &absent).await, 400, "{t} with no iccid field");
    }
    assert!(s.stored().await.is_empty());

    // The same installation with its ICCID, sent twice: one key, each step once.
    let with = esim_webhook("evt_with", "esim.installed", 7, Some(ICCID));
    assert_eq!(status(&s, &with).await, 200);
    assert_eq!(status(&s, &with).await, 200);
    let subjects: Vec<String> = s.stored().await.into_iter().map(|m| m.subject).collect();
    assert_eq!(
        subjects,
        [
            format!("esim.events.{ICCID}.delivered"),
            format!("esim.events.{ICCID}.installed"),
        ]
    );

    // A failure before issue has no ICCID: keyed by the order, as documented.
    let failed = esim_webhook("evt_failed", "esim.failed", 8, None);
    assert_eq!(status(&s, &failed).await, 200);
    let last = s.stored().await.pop().expect("stored");
    assert_eq!(last.subject, "esim.events.order-8.failed");
    assert!(last.headers.get("Esim-Iccid").is_none());
    s.finish().await;
}
