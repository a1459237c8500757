//! The summary an audit ends with: orders and findings per class, reads spent against the
//! budget, what a repair wrote. Printed as a table on stderr; the exit code follows from it.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use super::finding::{Class, Finding};
use super::repair::Written;
use super::upstream::Reads;
use crate::exit::Exit;

/// Counts of one audit.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// The window, as given (for the header line).
    pub window: String,
    /// Orders compared.
    pub orders: u64,
    /// Listed orders the list answer could not parse (placed anywhere: their `created_at`
    /// is unreadable too); not compared, but they make the exit code 2.
    pub unfit: u64,
    /// Stream messages read, and how many of them belong to the audited orders.
    pub scanned: u64,
    pub held: u64,
    /// Orders per class they have a finding of (`ok` if none).
    pub orders_by_class: BTreeMap<Class, u64>,
    pub findings_by_class: BTreeMap<Class, u64>,
    pub reads: Reads,
    pub reads_per_minute: u32,
    pub took: Duration,
    pub repair: Option<Written>,
    pub interrupted: bool,
}

impl Report {
    /// Counts one compared order and its findings.
    pub fn count(&mut self, findings: &[Finding]) {
        self.orders += 1;
        let mut classes: Vec<Class> = findings.iter().map(|f| f.class).collect();
        if classes.is_empty() {
            classes.push(Class::Ok);
        }
        for f in findings {
            *self.findings_by_class.entry(f.class).or_default() += 1;
        }
        classes.sort();
        classes.dedup();
        for c in classes {
            *self.orders_by_class.entry(c).or_default() += 1;
        }
    }

    /// Findings of every class but `ok` and `pending`.
    pub fn findings(&self) -> u64 {
        self.findings_by_class
            .iter()
            .filter(|(c, _)| !matches!(c, Class::Ok | Class::Pending))
            .map(|(_, n)| n)
            .sum()
    }

    /// Clean, findings (also for an interrupted run that found some), or interrupted.
    pub fn exit(&self) -> Exit {
        match (self.findings() > 0 || self.unfit > 0, self.interrupted) {
            (true, _) => Exit::Findings,
            (false, true) => Exit::Interrupted,
            (false, false) => Exit::Ok,
        }
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let partial = if self.interrupted {
            " (interrupted: partial)"
        } else {
            ""
        };
        writeln!(
            f,
            "audit {}: {} orders, {} stream events of theirs ({} scanned){partial}",
            self.window, self.orders, self.held, self.scanned
        )?;
        writeln!(f, "  {:<14} {:>8} {:>9}", "class", "orders", "findings")?;
        for c in Class::ALL {
            let orders = self.orders_by_class.get(&c).copied().unwrap_or(0);
            let found = self.findings_by_class.get(&c).copied().unwrap_or(0);
            let found = match c {
                Class::Ok => "-".to_owned(),
                _ => found.to_string(),
            };
            writeln!(f, "  {:<14} {orders:>8} {found:>9}", c.as_str())?;
        }
        if self.unfit > 0 {
            writeln!(
                f,
                "  {:<14} {:>8} {:>9}",
                "unparsable", self.unfit, self.unfit
            )?;
        }
        let r = &self.reads;
        writeln!(
            f,
            "reads: {} list + {} detail at most {}/min; {} throttled (429), {} retried; took {}",
            r.list,
            r.detail,
            self.reads_per_minute,
            r.throttled,
            r.retried,
            humantime::format_duration(Duration::from_secs(self.took.as_secs()))
        )?;
        if let Some(w) = &self.repair {
            writeln!(
                f,
                "repair: {} written, {} already present, {} not repairable",
                w.written, w.already_present, w.not_repairable
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use esim_events::OrderData;

    #[test]
    fn orders_count_once_per_class_and_findings_each() {
        let mut r = Report::default();
        r.count(&[]);
        let o = OrderData::new(7);
        let m = Finding::new(Class::Missing, &o, true, String::new());
        r.count(&[m.clone(), m]);
        assert_eq!(r.orders, 2);
        assert_eq!(r.orders_by_class[&Class::Ok], 1);
        assert_eq!(r.orders_by_class[&Class::Missing], 1);
        assert_eq!(r.findings(), 2);
        assert_eq!(r.exit(), Exit::Findings);
        let text = r.to_string();
        assert!(text.contains("missing               1         2"), "{text}");
    }
}
