//! Durations in config: parsed by `humantime` (`500ms`, `30s`, `5m`, `2h`, `90d`), printed in
//! the largest whole unit so `check-config` shows `90d`, not `2months 29days 2h 52m 48s`.
//!
//! Every duration is at most [`MAX_DURATION`] (100 years): far above any sensible setting, and small
//! enough that `Instant + duration`, wall-clock arithmetic and NATS's nanosecond fields cannot
//! overflow (`humantime` alone accepts up to `u64::MAX` seconds, which panics `Instant + d`).

use std::time::Duration;

use serde::{Deserialize, Deserializer, Serializer};

pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format_duration(*d))
}

/// The longest duration any config key accepts: 100 years of 365.25 days.
pub const MAX_DURATION: Duration = Duration::from_secs(100 * 31_557_600);

pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    let text = String::deserialize(d)?;
    let d = humantime::parse_duration(&text).map_err(|e| {
        serde::de::Error::custom(format!(
            "{text:?} is not a duration like 30s, 5m, 2h, 90d ({e})"
        ))
    })?;
    if d > MAX_DURATION {
        return Err(serde::de::Error::custom(format!(
            "{text:?} is longer than 100 years"
        )));
    }
    Ok(d)
}

/// `90d`, `2h`, `30s`, `250ms`.
pub fn format_duration(d: Duration) -> String {
    let ms = d.as_millis();
    for (unit, size) in [
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1_000),
    ] {
        if ms >= size && ms % size == 0 {
            return format!("{}{unit}", ms / size);
        }
    }
    format!("{ms}ms")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_in_the_largest_whole_unit() {
        assert_eq!(format_duration(Duration::from_secs(90 * 86_400)), "90d");
        assert_eq!(format_duration(Duration::from_secs(7200)), "2h");
        assert_eq!(format_duration(Duration::from_secs(90)), "90s");
        assert_eq!(format_duration(Duration::from_millis(250)), "250ms");
        assert_eq!(format_duration(Duration::ZERO), "0ms");
    }

    #[derive(Debug, serde::Deserialize)]
    struct Holder {
        #[serde(with = "super")]
        d: Duration,
    }

    fn parse(text: &str) -> Result<Duration, String> {
        let json = serde_json::json!({ "d": text });
        serde_json::from_value::<Holder>(json)
            .map(|h| h.d)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn durations_past_100_years_are_refused_so_instant_arithmetic_cannot_overflow() {
        assert_eq!(parse("90d"), Ok(Duration::from_secs(90 * 86_400)));
        assert_eq!(parse("100y"), Ok(MAX_DURATION));
        // humantime takes all of these; the last two panicked `Instant::now() + d` in the poller.
        for huge in ["101y", "18446744073709551615s", "300000000000y"] {
            let e = parse(huge).expect_err(huge);
            assert!(e.contains("longer than 100 years"), "{huge}: {e}");
        }
        let at = std::time::Instant::now();
        assert!(at
            .checked_add(MAX_DURATION)
            .is_some_and(|t| t.checked_add(MAX_DURATION).is_some()));
        let nanos = MAX_DURATION.as_nanos().saturating_mul(2);
        assert!(
            i64::try_from(nanos).is_ok(),
            "fits NATS's nanosecond fields"
        );
    }

    #[test]
    fn a_too_long_duration_in_the_environment_names_its_key() {
        for (var, key) in [
            ("ESIM_BRIDGE_UPSTREAM__LEASE_TTL", "upstream.lease_ttl"),
            (
                "ESIM_BRIDGE_UPSTREAM__CADENCE__PENDING",
                "upstream.cadence.pending",
            ),
            ("ESIM_BRIDGE_NATS__MAX_AGE", "nats.max_age"),
        ] {
            let env = [(var.to_owned(), "18446744073709551615s".to_owned())];
            let e = crate::config::Config::load_with_env(None, env).expect_err(var);
            assert_eq!(e.key(), Some(key), "{e}");
            assert!(e.to_string().contains("longer than 100 years"), "{e}");
        }
    }
}
