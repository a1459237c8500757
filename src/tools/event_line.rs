//! How `tail` on a terminal (and the demo) shows one stored event: a compact line, coloured per
//! event type on a terminal, plain otherwise.
//!
//! ```text
//!    7  09:12:44  installed  8910846311203750041  order 9300003  webhook  Japan eSIM  inferred
//!    8  09:12:44  activated  8910846311203750041  order 9300003  poll     Japan eSIM
//!    9  09:12:45  failed     order-9300004        order 9300004  webhook  Global eSIM  OUT_OF_STOCK
//! ```
//!
//! Columns: stream sequence, when JetStream stored it (UTC), type, subject key (ICCID, or
//! `order-<id>` before an ICCID exists), order id, which adapter stored it first, product, and
//! the inferred marker or failure code.
//!
//! The time shown is the real one the event was stored at, not the payload's `created_at`:
//! the simulator's clock runs many times faster than the bridge's, so webhook-sourced events
//! carry simulated times while a poll that cannot tell when a PENDING order resolved stamps its
//! own (real) observation time; side by side those would look out of order. `replay`, and
//! `tail` with `--json` or piped, show the payloads themselves. Only these fields are read from the event,
//! and the finished line is scrubbed of anything LPA-like once more, so an activation code can
//! never be printed (none is ever stored either).

use std::io::IsTerminal;

use time::macros::format_description;
use time::OffsetDateTime;

use esim_events::{Event, EventType};
use esim_normalise::redact;

/// Width of the key column: ICCIDs are 19–20 digits.
const KEY_WIDTH: usize = 19;

/// Plain text or ANSI colours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style {
    pub color: bool,
}

impl Style {
    /// Colour only on a terminal, and never with `--no-color`, `NO_COLOR` or `TERM=dumb`.
    pub fn detect(no_color_flag: bool) -> Self {
        let env_says_no = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
            || std::env::var_os("TERM").is_some_and(|t| t == "dumb");
        Self {
            color: !no_color_flag && !env_says_no && std::io::stdout().is_terminal(),
        }
    }

    /// `text` in bold.
    pub fn bold(self, text: &str) -> String {
        self.paint("1", text)
    }

    /// `text` dimmed (secondary information).
    pub fn dim(self, text: &str) -> String {
        self.paint("2", text)
    }

    /// `text` in the colour of `event_type`.
    pub fn of_type(self, event_type: EventType, text: &str) -> String {
        let code = match event_type {
            EventType::Delivered => "32",   // green
            EventType::Installed => "36",   // cyan
            EventType::Activated => "34;1", // bold blue
            EventType::Depleted => "35",    // magenta
            EventType::Failed => "31;1",    // bold red
            EventType::Cancelled => "33",   // yellow
        };
        self.paint(code, text)
    }

    fn paint(self, sgr: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{sgr}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }
}

/// The line for `event`, stored at stream sequence `sequence` at `stored_at` (no newline).
pub fn event_line(sequence: u64, stored_at: OffsetDateTime, event: &Event, style: Style) -> String {
    let d = &event.data;
    let key = event
        .key()
        .map_or_else(|_| format!("order-{}", d.id), |k| k.as_str().to_owned());
    let t = event.event_type;
    let mut line = format!(
        "{:>5}  {}  {}  {}  {}  {}  {}",
        sequence,
        style.dim(&clock_time(stored_at)),
        style.of_type(t, &format!("{:<9}", t.token())),
        style.bold(&format!("{key:<KEY_WIDTH$}")),
        format_args!("order {:<7}", d.id),
        style.dim(&format!("{:<7}", event.source.as_str())),
        d.product_name.as_deref().unwrap_or("-"),
    );
    if d.inferred == Some(true) {
        line.push_str("  ");
        line.push_str(&style.dim("inferred"));
    }
    if matches!(t, EventType::Failed | EventType::Cancelled) {
        if let Some(code) = &d.failure_code {
            line.push_str("  ");
            line.push_str(&style.of_type(t, code));
        }
    }
    match redact::clean_text(&line) {
        Some(_) => line,
        None => redact::REDACTED.to_owned(),
    }
}

/// `09:12:44` (UTC).
fn clock_time(t: OffsetDateTime) -> String {
    let hms = format_description!("[hour]:[minute]:[second]");
    t.to_offset(time::UtcOffset::UTC)
        .format(&hms)
        .unwrap_or_else(|_| t.to_string())
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;
    use esim_events::Source;

    const AT: OffsetDateTime = datetime!(2026-05-16 11:15:02 +02:00);

    fn event(t: EventType, iccid: Option<&str>, extra: serde_json::Value) -> Event {
        let mut data =
            serde_json::json!({"id": 9300004, "iccid": iccid, "product_name": "Global eSIM"});
        if let (Some(d), Some(x)) = (data.as_object_mut(), extra.as_object()) {
            d.extend(x.clone());
        }
        let data = serde_json::from_value(data).unwrap();
        let at = esim_events::Timestamp::parse("2026-05-16T09:15:02Z").unwrap();
        Event::new(t, data, at, Source::Webhook).unwrap()
    }

    #[test]
    fn plain_lines_show_every_column_and_the_markers() {
        let plain = Style { color: false };
        let failed = event(
            EventType::Failed,
            None,
            serde_json::json!({"failure_code": "OUT_OF_STOCK"}),
        );
        assert_eq!(
            event_line(9, AT, &failed, plain),
            "    9  09:15:02  failed     order-9300004        order 9300004  webhook  \
             Global eSIM  OUT_OF_STOCK"
        );
        let inferred = event(
            EventType::Installed,
            Some("8910846311203750041"),
            serde_json::json!({"inferred": true}),
        );
        let line = event_line(10, AT, &inferred, plain);
        assert!(
            line.contains("installed  8910846311203750041  order 9300004"),
            "{line}"
        );
        assert!(line.ends_with("Global eSIM  inferred"), "{line}");
        assert!(!line.contains('\x1b'));
    }

    #[test]
    fn colour_wraps_the_type_and_never_the_plain_text_of_a_code() {
        let colour = Style { color: true };
        let e = event(
            EventType::Delivered,
            Some("8910846311203750041"),
            serde_json::json!({}),
        );
        let line = event_line(1, AT, &e, colour);
        assert!(line.contains("\x1b[32mdelivered"), "{line:?}");
        let sneaky = event(
            EventType::Delivered,
            Some("8910846311203750041"),
            serde_json::json!({"product_name": "LPA:1$smdp.example$MATCH-1"}),
        );
        let line = event_line(2, AT, &sneaky, Style { color: false });
        assert!(!line.to_lowercase().contains("lpa:"), "{line}");
    }
}
