//! Masking credentials embedded in URLs (`nats://user:pass@host`, `nats://token@host`), for
//! `check-config` and any error that names a server.

use super::secret::MASK;

/// Masks the userinfo of every comma-separated URL: `user:pass@h` → `user:***@h`,
/// `token@h` → `***@h`. Everything else, separators included, is kept.
pub fn mask_urls(urls: &str) -> String {
    urls.split(',').map(mask_url).collect::<Vec<_>>().join(",")
}

/// Masks the userinfo of one URL (with or without a scheme).
pub fn mask_url(url: &str) -> String {
    let start = url.find("://").map_or(0, |i| i + 3);
    let rest = &url[start..];
    let authority_len = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let Some(at) = rest[..authority_len].rfind('@') else {
        return url.to_owned();
    };
    let userinfo = &rest[..at];
    let masked = match userinfo.split_once(':') {
        Some((user, _)) => format!("{user}:{MASK}"),
        None => MASK.to_owned(),
    };
    format!("{}{masked}{}", &url[..start], &rest[at..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn userinfo_is_masked_in_every_server() {
        assert_eq!(
            mask_urls("nats://u:p@a:4222, tls://t0k3n@b:4222,c:4222,u2:p:w@d/x@y"),
            "nats://u:***@a:4222, tls://***@b:4222,c:4222,u2:***@d/x@y"
        );
        assert_eq!(mask_url("http://h/p?q=a@b"), "http://h/p?q=a@b");
        assert_eq!(mask_url("nats://a@b@c:1"), "nats://***@c:1");
        assert_eq!(mask_url(""), "");
    }
}
