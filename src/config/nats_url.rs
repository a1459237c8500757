//! `nats.url`: every comma-separated server must be an address the NATS client can dial, so a
//! typo is refused by `check-config` (exit 64, naming the key) instead of `serve` retrying a
//! name that can never resolve. The value is never echoed: it may carry a user and password.

use async_nats::ServerAddr;

/// Why the `n`-th (1-based) server of `nats.url` is refused, or `Ok`.
pub fn check_servers(url: &str) -> Result<(), String> {
    let servers: Vec<&str> = url.split(',').map(str::trim).collect();
    if servers.iter().all(|s| s.is_empty()) {
        return Err("at least one server URL is required".into());
    }
    for (i, s) in servers.iter().enumerate() {
        let n = i + 1;
        let why = match s.parse::<ServerAddr>() {
            _ if s.is_empty() => Some("is empty".to_owned()),
            Err(e) => Some(e.to_string()),
            Ok(addr) => {
                let u = addr.into_inner();
                if u.host_str().is_none_or(str::is_empty) {
                    Some("has no host".to_owned())
                } else if !matches!(u.path(), "" | "/") || u.query().is_some() {
                    Some("has a path or query (a typo in the scheme or port?)".to_owned())
                } else {
                    None
                }
            }
        };
        if let Some(why) = why {
            return Err(format!(
                "server {n} {why}; expected nats://host:port (or tls://, ws://, wss://), \
                 comma-separated"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::check_servers;

    #[test]
    fn dialable_servers_are_accepted() {
        for ok in [
            "nats://127.0.0.1:4222",
            "127.0.0.1:4222",
            "tls://nats.internal:4222, nats://b:4222",
            "nats://user:pw@a:4222",
            "nats-0.nats",
        ] {
            assert_eq!(check_servers(ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn typos_are_refused_naming_the_server_not_its_value() {
        for (bad, n) in [
            ("htp:/127.0.0.1::14222", 1),
            ("http://127.0.0.1:4222", 1),
            ("nats://a:4222,nats://b:99999", 2),
            ("nats://a:4222,,nats://b:4222", 2),
            ("nats://:4222", 1),
            ("nats://secret-pw@host:4222/x", 1),
        ] {
            let e = check_servers(bad).expect_err(bad);
            assert!(e.starts_with(&format!("server {n} ")), "{bad}: {e}");
            assert!(!e.contains("secret-pw"), "{e}");
        }
    }
}
