//! Validation of settings: each refusal names the setting and its variable.
//! An issuer is https (http only on loopback), without query, fragment or
//! trailing slash (RFC 8414 §2).

use super::Settings;
use crate::secret::Secret;
use crate::store::Backend;
use crate::tokens::kek::decode_key;
use std::net::SocketAddr;

/// A file descriptor each: far past any process's limit.
const MAX_CONNECTIONS: usize = 1 << 20;

impl Settings {
    pub(super) fn validate(&self) -> Result<(), String> {
        let backend = self.backend()?;
        self.listen_addr()?;
        self.metrics_listen_addr()?;
        if let Some(issuer) = &self.issuer {
            validate_issuer(issuer).map_err(|e| format!("issuer (BEHALF_ISSUER): {e}"))?;
        }
        let kek = self.key_encryption_key_bytes()?;
        if backend.is_postgres() && kek.is_none() {
            return Err(
                "key_encryption_key (BEHALF_KEY_ENCRYPTION_KEY) is required with \
                 PostgreSQL: every instance must share it"
                    .into(),
            );
        }
        let positive = [
            ("access_token_ttl_seconds", self.access_token_ttl_seconds),
            ("key_refresh_seconds", self.key_refresh_seconds as i64),
            (
                "header_read_timeout_seconds",
                self.header_read_timeout_seconds as i64,
            ),
            ("idle_timeout_seconds", self.idle_timeout_seconds as i64),
            ("session_ttl_seconds", self.session_ttl_seconds),
            (
                "refresh_token_idle_seconds",
                self.refresh_token_idle_seconds,
            ),
            (
                "refresh_token_absolute_seconds",
                self.refresh_token_absolute_seconds,
            ),
            ("policy.min_grant_seconds", self.policy.min_grant_seconds),
            ("policy.max_grant_seconds", self.policy.max_grant_seconds),
            (
                "policy.delegated_token_ttl_seconds",
                self.policy.delegated_token_ttl_seconds,
            ),
            (
                "policy.request_ttl_seconds",
                self.policy.request_ttl_seconds,
            ),
        ];
        for (name, value) in positive {
            if value <= 0 {
                return Err(format!("{name}: must be a positive number of seconds"));
            }
        }
        self.sign_in.validate()?;
        self.email.validate()?;
        self.trusted_proxy_addrs()?;
        if !(1..=MAX_CONNECTIONS).contains(&self.max_connections) {
            return Err(format!(
                "max_connections (BEHALF_MAX_CONNECTIONS): must be between 1 and {MAX_CONNECTIONS}"
            ));
        }
        if self.key_rotation_lead_seconds < 0 {
            return Err("key_rotation_lead_seconds: must not be negative".into());
        }
        if self.policy.max_pending_requests_per_agent <= 0 {
            return Err("policy.max_pending_requests_per_agent: must be a positive number".into());
        }
        if self.policy.min_grant_seconds > self.policy.max_grant_seconds {
            return Err(
                "policy.min_grant_seconds: must not exceed policy.max_grant_seconds".into(),
            );
        }
        if let Some(aud) = &self.policy.default_audience
            && aud.trim().is_empty()
        {
            return Err("policy.default_audience: must not be empty".into());
        }
        Ok(())
    }

    pub fn backend(&self) -> Result<Backend, String> {
        Backend::from_url(&self.database_url)
            .map_err(|e| format!("database_url (BEHALF_DATABASE_URL): {e}"))
    }

    pub fn trusted_proxy_addrs(&self) -> Result<Vec<std::net::IpAddr>, String> {
        self.trusted_proxies
            .iter()
            .map(|p| {
                p.parse().map_err(|_| {
                    format!("trusted_proxies (BEHALF_TRUSTED_PROXIES): {p:?} is not an IP address")
                })
            })
            .collect()
    }

    pub fn listen_addr(&self) -> Result<SocketAddr, String> {
        socket_addr(&self.listen).ok_or_else(|| {
            format!(
                "listen (BEHALF_LISTEN): {:?} is not an address like 127.0.0.1:8080 or localhost:8080",
                self.listen
            )
        })
    }

    /// Where `/metrics` is served apart from the main listener, if anywhere.
    pub fn metrics_listen_addr(&self) -> Result<Option<SocketAddr>, String> {
        let Some(listen) = &self.metrics_listen else {
            return Ok(None);
        };
        let address = socket_addr(listen).ok_or_else(|| {
            format!(
                "metrics_listen (BEHALF_METRICS_LISTEN): {listen:?} is not an address like 127.0.0.1:9090 or localhost:9090"
            )
        })?;
        if address.port() != 0 && Ok(address) == self.listen_addr() {
            return Err(
                "metrics_listen (BEHALF_METRICS_LISTEN): must differ from listen (BEHALF_LISTEN)"
                    .into(),
            );
        }
        Ok(Some(address))
    }

    /// The decoded key-encryption key, when one is configured.
    pub fn key_encryption_key_bytes(&self) -> Result<Option<Secret<[u8; 32]>>, String> {
        let Some(encoded) = &self.key_encryption_key else {
            return Ok(None);
        };
        decode_key(encoded.expose().trim()).map(|k| Some(Secret::new(k))).ok_or_else(|| {
            "key_encryption_key (BEHALF_KEY_ENCRYPTION_KEY): must be 32 random bytes in base64, \
             e.g. from `openssl rand -base64 32`"
                .to_string()
        })
    }
}

/// `IP:PORT`, or `localhost:PORT` for the IPv4 loopback (no name lookup: `localhost`
/// is loopback by definition, RFC 6761 §6.3).
fn socket_addr(listen: &str) -> Option<SocketAddr> {
    if let Some(port) = listen.strip_prefix("localhost:") {
        return port
            .parse::<u16>()
            .ok()
            .map(|port| SocketAddr::from((std::net::Ipv4Addr::LOCALHOST, port)));
    }
    listen.parse().ok()
}

/// An issuer is an https URL (or http on a loopback host) with no query or fragment.
pub fn validate_issuer(issuer: &str) -> Result<(), String> {
    let uri: axum::http::Uri = issuer.parse().map_err(|_| "not a URL".to_string())?;
    let host = uri.host().ok_or("not an absolute URL")?;
    match uri.scheme_str() {
        Some("https") => {}
        Some("http") if is_loopback_host(host) => {}
        Some("http") => return Err("http is allowed only on a loopback host; use https".into()),
        _ => return Err("must start with https://".into()),
    }
    if issuer.contains('?') || issuer.contains('#') {
        return Err("must not have a query or fragment".into());
    }
    if issuer.ends_with('/') {
        return Err("must not end with a slash".into());
    }
    Ok(())
}

pub fn is_loopback_host(host: &str) -> bool {
    matches!(host, "localhost" | "127.0.0.1" | "[::1]" | "::1")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn localhost_listens_on_the_ipv4_loopback() {
        let settings = |listen: &str| Settings {
            listen: listen.into(),
            ..Settings::default()
        };
        assert_eq!(
            settings("localhost:8080").listen_addr(),
            Ok(SocketAddr::from(([127, 0, 0, 1], 8080)))
        );
        assert!(
            settings("localhost:http")
                .listen_addr()
                .unwrap_err()
                .contains("BEHALF_LISTEN")
        );
        assert!(settings("example.com:80").listen_addr().is_err());
    }

    #[test]
    fn issuers_must_be_https_or_loopback() {
        assert!(validate_issuer("https://id.example.com").is_ok());
        assert!(validate_issuer("http://127.0.0.1:8080").is_ok());
        assert!(validate_issuer("http://id.example.com").is_err());
        assert!(validate_issuer("https://id.example.com/").is_err());
        assert!(validate_issuer("https://id.example.com?x=1").is_err());
        assert!(validate_issuer("ftp://id.example.com").is_err());
    }
}
