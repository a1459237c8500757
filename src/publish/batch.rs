//! Hands publishes to the NATS client in batches, so that concurrent webhooks share one write.
//!
//! Each publish is a command to async-nats's connection task, which writes what it has queued
//! and flushes. A webhook's publish usually reached it alone (0.4 NATS writes per webhook), and
//! every write on loopback wakes nats-server, which then also handles that message alone. The
//! batcher takes the publishes that arrive while it runs, yields once so that requests already
//! ready on this worker can add theirs, and only then passes them all on: one write for many.
//! It never waits on a timer, so a lone publish goes out after one scheduler turn.
//!
//! Acks are not its business: each caller awaits its own [`PublishAckFuture`], so the
//! guarantees (2xx after the PubAck, retries with the same msg-id) stay in [`super::Publisher`].

use async_nats::header::HeaderMap;
use async_nats::jetstream::context::{PublishAckFuture, PublishError};
use async_nats::jetstream::Context;
use bytes::Bytes;
use tokio::sync::{mpsc, oneshot};

/// Most publishes passed on in one turn.
const MAX_BATCH: usize = 256;

/// One message to publish, owned (async-nats takes subject, headers and payload by value).
pub(super) struct Message {
    pub subject: String,
    pub headers: HeaderMap,
    pub payload: Bytes,
}

impl Message {
    /// Hands it to the NATS client directly.
    pub async fn publish(self, js: &Context) -> Result<PublishAckFuture, PublishError> {
        js.publish_with_headers(self.subject, self.headers, self.payload)
            .await
    }
}

/// One publish waiting for its turn.
pub(super) struct Job {
    message: Message,
    sent: oneshot::Sender<Result<PublishAckFuture, PublishError>>,
}

/// The batcher's task is gone; the message comes back if it was never taken.
pub(super) struct Stopped(pub Option<Message>);

/// Starts the batcher on the current runtime; `None` outside one (the caller then publishes
/// directly). The task ends when every sender is dropped.
pub(super) fn spawn(js: Context) -> Option<mpsc::Sender<Job>> {
    let runtime = tokio::runtime::Handle::try_current().ok()?;
    let (tx, rx) = mpsc::channel(MAX_BATCH * 4);
    runtime.spawn(pass_on(js, rx));
    Some(tx)
}

/// Queues `message` and waits until the batcher has passed it to the NATS client.
pub(super) async fn submit(
    batcher: &mpsc::Sender<Job>,
    message: Message,
) -> Result<Result<PublishAckFuture, PublishError>, Stopped> {
    let (sent, answer) = oneshot::channel();
    if let Err(mpsc::error::SendError(job)) = batcher.send(Job { message, sent }).await {
        return Err(Stopped(Some(job.message)));
    }
    answer.await.map_err(|_| Stopped(None))
}

/// Takes what is queued, lets requests ready on this worker add theirs, passes them all on.
async fn pass_on(js: Context, mut rx: mpsc::Receiver<Job>) {
    let mut jobs = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut jobs, MAX_BATCH).await > 0 {
        tokio::task::yield_now().await;
        while jobs.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        for job in jobs.drain(..) {
            let sent = job.message.publish(&js).await;
            // The caller may have given up (deadline); its ack future is dropped with this.
            let _ = job.sent.send(sent);
        }
    }
}
