//! One order judged against what the stream holds for it ([`check_order`]: the comparison, the
//! settle window, the repair), and the `unreadable` findings for ids the provider does not know.

use std::time::Duration;

use time::OffsetDateTime;

use super::compare::{compare, iccid_changed, keys_of, Settle};
use super::finding::{emit, Class, Finding};
use super::held::Holdings;
use super::repair::repair_order;
use super::report::Report;
use crate::publish::{PublishError, Publisher};
use crate::tools::output::{NdjsonWriter, OutputError};
use esim_events::OrderData;

/// What one order is checked against.
pub(super) struct Checked<'a> {
    pub holdings: &'a Holdings,
    pub prefix: &'a str,
    /// Given with `--repair`.
    pub publisher: Option<&'a Publisher>,
    /// The settle window ([`Settle`]).
    pub settle: Duration,
}

/// One order against what the stream holds for it: its findings, repaired when `--repair`.
pub(super) async fn check_order(
    order: &OrderData,
    fresh: bool,
    against: &Checked<'_>,
    report: &mut Report,
) -> Result<Vec<Finding>, PublishError> {
    let Checked {
        holdings,
        prefix,
        publisher,
        settle,
    } = *against;
    let settle = Settle {
        now: OffsetDateTime::now_utc(),
        window: settle,
    };
    let held = holdings.of_order(order.id, &keys_of(order));
    report.held += held.len() as u64;
    let taken = order
        .iccid
        .as_ref()
        .is_some_and(|i| holdings.holds_other(i.as_str(), order.id));
    let mut findings = match iccid_changed(order, fresh, &held, taken) {
        Some(changed) => vec![changed],
        None => compare(order, fresh, &held, prefix, settle),
    };
    if let (Some(publisher), Some(tally)) = (publisher, &mut report.repair) {
        let now = OffsetDateTime::now_utc();
        repair_order(publisher, order, &mut findings, now, tally).await?;
    }
    Ok(findings)
}

/// An `--order` id the provider does not know: one `unreadable` finding each.
pub(super) async fn report_unknown(
    unknown: &[u64],
    writer: &mut Option<NdjsonWriter>,
    report: &mut Report,
) -> Result<(), OutputError> {
    for &id in unknown {
        let detail = "the provider does not know this order (or cannot return it)".to_owned();
        let f = Finding::new(Class::Unreadable, &OrderData::new(id), true, detail);
        emit(writer, std::slice::from_ref(&f)).await?;
        report.count(&[f]);
    }
    Ok(())
}
