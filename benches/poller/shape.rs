//! Install-delay shapes of the accounts the poller may run against, applied to the day's
//! drawn orders: the simulator's own mix (most installs within minutes, a quarter hours
//! later), a slow account (a travel app whose customers install hours to days later), and a
//! bimodal one (a kiosk that installs within a minute, or a buyer who installs a day later).
//! About 10% never install in each. Activation delays stay as drawn.

use esim_sim::{lognormal, OrderPlan, Outcome};
use rand::rngs::StdRng;
use rand::Rng;

/// One install-delay shape.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Shape {
    Today,
    Slow,
    Bimodal,
}

impl Shape {
    pub const ALL: [Shape; 3] = [Shape::Today, Shape::Slow, Shape::Bimodal];

    pub fn label(self) -> &'static str {
        match self {
            Shape::Today => "today",
            Shape::Slow => "slow",
            Shape::Bimodal => "bimodal",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.label() == s.trim())
    }

    /// What the shape is, for the report.
    pub fn describe(self) -> &'static str {
        match self {
            Shape::Today => "the simulator's mix: 65% within minutes (median 3 min), 25% hours later (median 3 h), 10% never",
            Shape::Slow => "90% hours to days later (median 10 h, log-normal σ 1.0, 15 min to 6 days), 10% never",
            Shape::Bimodal => "45% within a minute or two (median 60 s), 45% a day later (median 24 h), 10% never",
        }
    }

    /// Redraws the install delay of a plan that delivers (`Today` keeps it as drawn).
    pub fn apply(self, plan: &mut OrderPlan, rng: &mut StdRng) {
        if self == Shape::Today || !matches!(plan.outcome, Outcome::Delivered) {
            return;
        }
        let u: f64 = rng.random();
        plan.install_after = match self {
            Shape::Today => plan.install_after,
            _ if u < 0.10 => None,
            Shape::Slow => Some(lognormal(rng, 10.0 * 3600.0, 1.0, 900.0, 6.0 * 86_400.0)),
            Shape::Bimodal if u < 0.55 => Some(lognormal(rng, 60.0, 0.4, 15.0, 300.0)),
            Shape::Bimodal => Some(lognormal(
                rng,
                86_400.0,
                0.25,
                12.0 * 3600.0,
                2.0 * 86_400.0,
            )),
        };
    }
}
