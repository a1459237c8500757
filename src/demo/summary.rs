//! The one-line summary printed when the demo stops: events by type, which adapter stored them,
//! and how many duplicates exactly-once publishing absorbed.
//!
//! "Duplicates suppressed" is the bridge's own `esim_bridge_events_duplicate_total` (every
//! publish JetStream answered "already stored": duplicate webhooks, a webhook and a poll seeing
//! the same transition, retries), read from the in-process metrics recorder.

use std::time::Duration;

use super::follow::Tally;
use crate::tools::event_line::Style;
use esim_events::EventType;
use esim_sim::CountersSnapshot;

/// The bridge metric counting publishes that found their event already stored.
const DUPLICATE_METRIC: &str = "esim_bridge_events_duplicate_total";

/// Everything the summary line reports.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    pub ran_for: Duration,
    pub tally: Tally,
    /// From the bridge's metrics; `None` if the recorder is not ours.
    pub duplicates_suppressed: Option<u64>,
    /// From the simulator's counters.
    pub sim: CountersSnapshot,
}

impl Summary {
    /// The line, without a trailing newline.
    pub fn line(&self, style: Style) -> String {
        let t = &self.tally;
        let by_type: Vec<String> = EventType::ALL
            .iter()
            .map(|ty| {
                let n = t.by_type.get(ty).copied().unwrap_or(0);
                format!("{} {n}", style.of_type(*ty, ty.token()))
            })
            .collect();
        let secs = self.ran_for.as_secs();
        let mut line = format!(
            "{} after {}m{:02}s: {} events ({}); first seen by webhook {}, by poll {}, inferred {}",
            style.bold("demo stopped"),
            secs / 60,
            secs % 60,
            t.total(),
            by_type.join(", "),
            t.webhook,
            t.poll,
            t.inferred,
        );
        if let Some(dups) = self.duplicates_suppressed {
            line.push_str(&format!("; {dups} duplicates suppressed"));
        }
        let w = &self.sim.webhooks;
        line.push_str(&format!(
            "; simulator: {} orders, {} webhooks (+{} duplicate copies), {} API reads",
            self.sim.orders_created, w.events, w.duplicates, self.sim.reads_served
        ));
        line
    }
}

/// Sums every series of `esim_bridge_events_duplicate_total` in a Prometheus text rendering.
pub fn duplicates_from_metrics(rendered: &str) -> Option<u64> {
    let mut found = false;
    let mut sum = 0.0;
    for line in rendered.lines() {
        let Some(rest) = line.strip_prefix(DUPLICATE_METRIC) else {
            continue;
        };
        if !(rest.starts_with('{') || rest.starts_with(' ')) {
            continue;
        }
        if let Some(value) = rest.rsplit(' ').next().and_then(|v| v.parse::<f64>().ok()) {
            found = true;
            sum += value;
        }
    }
    // Counters are whole numbers well below 2^53, so the conversion is exact.
    found.then_some(sum as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicates_are_summed_over_labels_and_absent_when_never_counted() {
        let text = "# TYPE esim_bridge_events_duplicate_total counter\n\
            esim_bridge_events_duplicate_total{type=\"installed\",source=\"webhook\"} 3\n\
            esim_bridge_events_duplicate_total{type=\"delivered\",source=\"poll\"} 4\n\
            esim_bridge_events_duplicate_totally_else 100\n\
            esim_bridge_events_published_total{type=\"installed\",source=\"webhook\"} 9\n";
        assert_eq!(duplicates_from_metrics(text), Some(7));
        assert_eq!(duplicates_from_metrics("x 1\n"), None);
    }

    #[test]
    fn the_line_names_every_type_and_both_sources() {
        let mut tally = Tally::default();
        tally.by_type.insert(EventType::Delivered, 5);
        tally.by_type.insert(EventType::Installed, 4);
        tally.webhook = 7;
        tally.poll = 2;
        let s = Summary {
            ran_for: Duration::from_secs(75),
            tally,
            duplicates_suppressed: Some(3),
            ..Summary::default()
        };
        let line = s.line(Style { color: false });
        assert!(line.starts_with("demo stopped after 1m15s: 9 events (delivered 5, installed 4, activated 0, depleted 0, failed 0, cancelled 0)"), "{line}");
        assert!(
            line.contains("by webhook 7, by poll 2") && line.contains("3 duplicates suppressed"),
            "{line}"
        );
    }
}
