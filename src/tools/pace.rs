//! `--rate`: spaces emitted events so that the average stays at or below the rate.
//!
//! Event `k` is due at `start + k / rate`: a slow stretch (a slow consumer, a pause) is not
//! made up by a burst above the rate, because the schedule restarts when it falls behind.

use tokio::time::Instant;

use super::parse::Rate;

/// Paces a sequence of events.
pub struct Pacer {
    rate: Rate,
    start: Option<Instant>,
    sent: u32,
}

impl Pacer {
    pub fn new(rate: Rate) -> Self {
        Self {
            rate,
            start: None,
            sent: 0,
        }
    }

    /// Waits until the next event may go.
    pub async fn wait(&mut self) {
        let now = Instant::now();
        let start = *self.start.get_or_insert(now);
        let due = start + self.rate.interval() * self.sent;
        if due > now {
            tokio::time::sleep_until(due).await;
            self.sent += 1;
        } else if now - due > self.rate.interval() || self.sent == u32::MAX {
            // Behind by more than one slot: start a new schedule rather than burst.
            self.start = Some(now);
            self.sent = 1;
        } else {
            self.sent += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tools::parse::rate;

    #[tokio::test(start_paused = true)]
    async fn events_are_spaced_by_the_rate() {
        let mut pacer = Pacer::new(rate("10/s").unwrap());
        let t0 = Instant::now();
        for _ in 0..21 {
            pacer.wait().await;
        }
        // 21 events at 10/s: the first at once, the last 2 s later.
        assert_eq!(Instant::now() - t0, std::time::Duration::from_secs(2));
    }

    #[tokio::test(start_paused = true)]
    async fn a_pause_is_not_made_up_by_a_burst() {
        let mut pacer = Pacer::new(rate("10/s").unwrap());
        pacer.wait().await;
        tokio::time::sleep(std::time::Duration::from_secs(5)).await;
        let t0 = Instant::now();
        for _ in 0..11 {
            pacer.wait().await;
        }
        assert_eq!(Instant::now() - t0, std::time::Duration::from_secs(1));
    }
}
