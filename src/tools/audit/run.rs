//! One audit, start to end: select the orders (list, or `--order` details) → read what the
//! stream holds for them → per order, refresh install state where the list cannot be trusted
//! (a detail read), compare, write its findings, repair if asked → the report.
//!
//! Ctrl-C stops at the next read; the orders compared so far are reported (and their findings
//! written) as a partial audit.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use async_nats::jetstream;
use tokio_util::sync::CancellationToken;

use super::check::{check_order, report_unknown, Checked};
use super::compare::keys_of;
use super::finding::{emit, Class, Finding};
use super::held::{self, Holdings, Wanted};
use super::repair::Written;
use super::report::Report;
use super::upstream::{Provider, ReadError};
use super::window::{self, Selected, Window};
use crate::config::Config;
use crate::publish::{PublishError, Publisher};
use crate::tools::output::{self, NdjsonWriter, OutputError, Sink};
use crate::tools::progress::{Progress, ProgressMode, Units};
use crate::tools::source::SourceError;
use esim_events::order::{ActivationStatus, OrderStatus};
use esim_events::{EventType, OrderData};

/// The audit's progress words.
const UNITS: Units = Units {
    done: "orders checked",
    found: "findings",
    rate: "orders/s",
};

/// Why an audit could not finish.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("reading the provider: {0}")]
    Read(#[from] ReadError),
    #[error("reading the events stream: {0}")]
    Stream(#[from] SourceError),
    #[error(transparent)]
    Output(#[from] OutputError),
    #[error("publishing a repair: {0}")]
    Repair(#[from] PublishError),
}

/// An audit that could not finish, with the report of what it compared until then.
#[derive(Debug, thiserror::Error)]
#[error("the audit stopped early")]
pub struct Failed {
    #[source]
    pub error: AuditError,
    pub report: Box<Report>,
}

/// What to audit and how.
#[derive(Debug, Clone)]
pub struct Plan {
    pub window: Window,
    /// Exactly these orders (by detail read) instead of the window's list.
    pub orders: Vec<u64>,
    pub reads_per_minute: u32,
    pub repair: bool,
    pub progress: ProgressMode,
    /// How the report names the window.
    pub label: String,
    /// `--settle`: steps that may be younger than this are pending, not missing; `None`:
    /// the poller's longest cadence (`upstream.cadence.lifecycle`) plus [`SETTLE_MARGIN`].
    pub settle: Option<Duration>,
}

/// Added to the poller's longest cadence for the default settle window: a read that was due
/// is made within minutes even under load.
pub const SETTLE_MARGIN: Duration = Duration::from_secs(10 * 60);

/// Audits and returns the report (partial if `shutdown` fired); findings go to `output`.
/// On failure, the report so far comes with the error.
pub async fn audit(
    config: &Config,
    nats: &async_nats::Client,
    plan: Plan,
    output: Option<Sink>,
    shutdown: &CancellationToken,
) -> Result<Report, Failed> {
    let started = Instant::now();
    let mut report = Report {
        window: plan.label.clone(),
        reads_per_minute: plan.reads_per_minute,
        repair: plan.repair.then(Written::default),
        ..Report::default()
    };
    let mut provider = match Provider::new(&config.upstream, plan.reads_per_minute) {
        Ok(provider) => provider,
        Err(e) => return Err(failed(e.into(), report)),
    };
    // Flushed per line: findings are few, and a watcher (or Ctrl-C) sees each as it is found.
    let mut writer = output.map(|sink| NdjsonWriter::new(sink, true));
    let run = Run {
        config,
        nats,
        plan: &plan,
        shutdown,
    };
    let outcome = run.go(&mut provider, &mut report, &mut writer).await;
    report.reads = provider.reads;
    report.took = started.elapsed();
    let flushed = match &mut writer {
        Some(w) => match w.finish().await {
            Err(e) if !output::is_closed(&e) => Err(e),
            _ => Ok(()),
        },
        None => Ok(()),
    };
    match outcome.and(flushed.map_err(AuditError::from)) {
        Ok(()) => Ok(report),
        Err(e) => Err(failed(e, report)),
    }
}

fn failed(error: AuditError, report: Report) -> Failed {
    Failed {
        error,
        report: Box::new(report),
    }
}

/// What one audit reads from.
struct Run<'a> {
    config: &'a Config,
    nats: &'a async_nats::Client,
    plan: &'a Plan,
    shutdown: &'a CancellationToken,
}

impl Run<'_> {
    async fn go(
        &self,
        provider: &mut Provider,
        report: &mut Report,
        writer: &mut Option<NdjsonWriter>,
    ) -> Result<(), AuditError> {
        let Run {
            config,
            nats,
            plan,
            shutdown,
        } = *self;
        let selected = match plan.orders.is_empty() {
            true => window::list(provider, plan.window, shutdown).await?,
            false => window::exactly(provider, &plan.orders, shutdown).await?,
        };
        let Selected {
            orders,
            unfit,
            unknown,
            interrupted,
        } = selected;
        report.unfit = unfit;
        let prefix = config.nats.subject_prefix.as_str();
        report_unknown(&unknown, writer, report).await?;
        if interrupted {
            report.interrupted = true;
            return Ok(());
        }
        let holdings = self.read_held(&orders).await?;
        report.scanned = holdings.scanned;
        if holdings.interrupted {
            report.interrupted = true;
            return Ok(());
        }
        let publisher = plan
            .repair
            .then(|| Publisher::new(nats.clone(), &config.nats));
        let against = Checked {
            holdings: &holdings,
            prefix,
            publisher: publisher.as_ref(),
            settle: plan.settle.unwrap_or(
                config
                    .upstream
                    .cadence
                    .lifecycle
                    .saturating_add(SETTLE_MARGIN),
            ),
        };
        let total = orders.len() as u64;
        let mut progress = Progress::start_with("audit", total, plan.progress, UNITS);
        let mut checked = 0u64;
        for (listed, fresh) in orders {
            let (order, fresh) = match refresh(provider, listed, fresh, &holdings, shutdown).await {
                Refreshed::Order(order, fresh) => (order, fresh),
                Refreshed::Gone(order) => {
                    let detail = "listed, but its detail could not be read or processed".to_owned();
                    let f = vec![Finding::new(Class::Unreadable, &order, false, detail)];
                    emit(writer, &f).await?;
                    report.count(&f);
                    continue;
                }
                Refreshed::Failed(e) => {
                    progress.finish();
                    return Err(e.into());
                }
                Refreshed::Interrupted => {
                    report.interrupted = true;
                    break;
                }
            };
            let findings = check_order(&order, fresh, &against, report).await?;
            emit(writer, &findings).await?;
            report.count(&findings);
            checked += 1;
            progress.update(checked, report.findings());
        }
        progress.finish();
        Ok(())
    }
}

impl Run<'_> {
    /// What the stream holds for `orders` (under any of their keys).
    async fn read_held(&self, orders: &[(OrderData, bool)]) -> Result<Holdings, AuditError> {
        let mut js = jetstream::new(self.nats.clone());
        js.set_timeout(self.config.nats.ack_timeout);
        let keys: HashSet<String> = orders.iter().flat_map(|(o, _)| keys_of(o)).collect();
        let ids: HashSet<u64> = orders.iter().map(|(o, _)| o.id).collect();
        let wanted = Wanted {
            stream: &self.config.nats.stream,
            prefix: &self.config.nats.subject_prefix,
            keys: &keys,
            orders: &ids,
            progress: self.plan.progress,
        };
        Ok(held::read(&js, wanted, self.shutdown).await?)
    }
}

enum Refreshed {
    Order(OrderData, bool),
    Gone(OrderData),
    Failed(ReadError),
    Interrupted,
}

/// The order's snapshot to judge by: the listed one when the list can be trusted (not
/// delivered, or expired: nothing left to refresh), or when the stream already holds the
/// last step (`depleted`) so nothing newer can be missing; otherwise a detail read, the only
/// call that refreshes install state.
async fn refresh(
    provider: &mut Provider,
    listed: OrderData,
    fresh: bool,
    holdings: &Holdings,
    shutdown: &CancellationToken,
) -> Refreshed {
    let settled = listed.status != Some(OrderStatus::Delivered)
        || listed.activation_status == Some(ActivationStatus::Expired);
    let finished = listed
        .iccid
        .as_ref()
        .is_some_and(|i| holdings.has(i.as_str(), EventType::Depleted));
    if fresh || settled || finished {
        return Refreshed::Order(listed, fresh);
    }
    let Some(got) = shutdown
        .run_until_cancelled(provider.detail(listed.id))
        .await
    else {
        return Refreshed::Interrupted;
    };
    match got {
        Ok(Some(order)) => Refreshed::Order(order, true),
        Ok(None) => Refreshed::Gone(listed),
        Err(e) => Refreshed::Failed(e),
    }
}
