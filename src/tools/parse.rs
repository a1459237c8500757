//! Operator arguments to typed values: times (`--since`, `--until`), rates and event types.
//! Every failure is an [`ArgError`], which the CLI reports with exit code 64.

use std::time::Duration;

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use esim_events::EventType;

/// A command-line value the command cannot use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("--{flag}: {reason}")]
pub struct ArgError {
    pub flag: &'static str,
    pub reason: String,
}

impl ArgError {
    pub fn new(flag: &'static str, reason: impl Into<String>) -> Self {
        Self {
            flag,
            reason: reason.into(),
        }
    }
}

/// An RFC 3339 time, or an age (`2h`, `30m`, `7d`, `1h 30m`) meaning that long before `now`.
pub fn instant(
    flag: &'static str,
    text: &str,
    now: OffsetDateTime,
) -> Result<OffsetDateTime, ArgError> {
    let text = text.trim();
    if let Ok(t) = OffsetDateTime::parse(text, &Rfc3339) {
        return Ok(t);
    }
    let age = humantime::parse_duration(text).map_err(|_| {
        ArgError::new(
            flag,
            format!("{text:?} is neither an RFC 3339 time (2026-05-15T14:00:00Z) nor an age like 2h, 30m, 7d"),
        )
    })?;
    time::Duration::try_from(age)
        .ok()
        .and_then(|age| now.checked_sub(age))
        .ok_or_else(|| {
            ArgError::new(
                flag,
                format!("{text:?} reaches before any representable time"),
            )
        })
}

/// A maximum emission rate, in events per second.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    per_second: f64,
}

impl Rate {
    pub fn per_second(self) -> f64 {
        self.per_second
    }

    /// The time between two events at this rate.
    pub fn interval(self) -> Duration {
        Duration::from_secs_f64(1.0 / self.per_second)
    }
}

/// `500`, `500/s`, `6000/m` or `36000/h`; must be positive.
pub fn rate(text: &str) -> Result<Rate, ArgError> {
    let bad = || {
        ArgError::new(
            "rate",
            format!("{text:?} is not a rate like 500/s or 6000/m"),
        )
    };
    let (count, unit) = text.trim().split_once('/').unwrap_or((text.trim(), "s"));
    let seconds = match unit.trim() {
        "s" | "sec" => 1.0,
        "m" | "min" => 60.0,
        "h" => 3600.0,
        _ => return Err(bad()),
    };
    let count: f64 = count.trim().parse().map_err(|_| bad())?;
    let per_second = count / seconds;
    // Below one per day is certainly a typo; the bound also keeps `interval` finite.
    if !per_second.is_finite() || per_second < 1.0 / 86_400.0 {
        return Err(ArgError::new(
            "rate",
            format!("{text:?} must be a positive rate"),
        ));
    }
    Ok(Rate { per_second })
}

/// `delivered` or `esim.delivered`.
pub fn event_type(text: &str) -> Result<EventType, ArgError> {
    EventType::parse_loose(text.trim()).ok_or_else(|| {
        let known: Vec<&str> = EventType::ALL.iter().map(|t| t.token()).collect();
        ArgError::new(
            "type",
            format!("{text:?} is not one of {}", known.join(", ")),
        )
    })
}

/// `--since` and `--until`, either absent.
pub type Span = (Option<OffsetDateTime>, Option<OffsetDateTime>);

/// Parses `--since` and `--until` and checks that they are in order.
pub fn span(
    since: Option<&str>,
    until: Option<&str>,
    now: OffsetDateTime,
) -> Result<Span, ArgError> {
    let since = since.map(|t| instant("since", t, now)).transpose()?;
    let until = until.map(|t| instant("until", t, now)).transpose()?;
    window(since, until)?;
    Ok((since, until))
}

/// Checks that `since` is not after `until`.
pub fn window(
    since: Option<OffsetDateTime>,
    until: Option<OffsetDateTime>,
) -> Result<(), ArgError> {
    match (since, until) {
        (Some(s), Some(u)) if s > u => Err(ArgError::new("until", "is before --since")),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-05-15 14:00:00 UTC);

    #[test]
    fn times_are_rfc3339_or_ages_before_now() {
        let t = instant("since", "2026-05-15T12:30:00+02:00", NOW).unwrap();
        assert_eq!(t, datetime!(2026-05-15 10:30:00 UTC));
        assert_eq!(
            instant("since", "2h", NOW).unwrap(),
            datetime!(2026-05-15 12:00:00 UTC)
        );
        assert_eq!(
            instant("since", "30m", NOW).unwrap(),
            datetime!(2026-05-15 13:30:00 UTC)
        );
        assert_eq!(
            instant("since", "7d", NOW).unwrap(),
            datetime!(2026-05-08 14:00:00 UTC)
        );
        for bad in ["yesterday", "", "2h ago", "2026-05-15", "-2h"] {
            let e = instant("since", bad, NOW).unwrap_err();
            assert_eq!(e.flag, "since", "{bad:?}");
        }
    }

    #[test]
    fn rates_take_a_unit() {
        assert_eq!(rate("500").unwrap().per_second(), 500.0);
        assert_eq!(rate("500/s").unwrap().per_second(), 500.0);
        assert_eq!(rate("6000/m").unwrap().per_second(), 100.0);
        assert_eq!(rate("0.5/s").unwrap().interval(), Duration::from_secs(2));
        for bad in ["0", "-1", "abc", "5/x", "inf", "NaN/s"] {
            assert!(rate(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn types_accept_tokens_and_full_names() {
        assert_eq!(event_type("delivered"), Ok(EventType::Delivered));
        assert_eq!(event_type("esim.failed"), Ok(EventType::Failed));
        assert!(event_type("esim.nope")
            .unwrap_err()
            .reason
            .contains("delivered"));
    }

    #[test]
    fn since_after_until_is_refused() {
        let (a, b) = (
            datetime!(2026-01-01 0:00 UTC),
            datetime!(2026-01-02 0:00 UTC),
        );
        assert!(window(Some(a), Some(b)).is_ok());
        assert!(window(Some(b), Some(a)).is_err());
    }
}
