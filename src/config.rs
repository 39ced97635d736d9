//! Settings: defaults, then a TOML file (`--config`), then `BEHALF_*` environment
//! variables, then command-line flags; later layers win. A bad setting stops the
//! start with a message that names it.

use crate::secret::Secret;
use crate::store::Backend;
use crate::tokens::signing_key::Algorithm;
use base64::Engine;
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Deserializer, Serialize};
use std::net::SocketAddr;
use std::path::Path;

/// Environment variables that belong to the `[policy]` table of the TOML file.
const POLICY_KEYS: &[&str] = &[
    "min_grant_seconds",
    "max_grant_seconds",
    "delegated_token_ttl_seconds",
    "request_ttl_seconds",
    "non_delegable_scopes",
    "default_audience",
    "scope_descriptions",
];

const TOP_LEVEL_KEYS: &[&str] = &[
    "database_url",
    "listen",
    "issuer",
    "key_encryption_key",
    "log",
    "log_format",
    "access_token_ttl_seconds",
    "key_rotation_lead_seconds",
    "key_refresh_seconds",
    "session_ttl_seconds",
    "refresh_token_idle_seconds",
    "refresh_token_absolute_seconds",
    "access_token_algorithm",
    "trusted_proxies",
];

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// `sqlite://path` or `postgres://...`.
    pub database_url: String,
    /// Address to listen on; port 0 picks a free port.
    pub listen: String,
    /// The `iss` of every token; defaults to `http://<bound address>`.
    pub issuer: Option<String>,
    /// 32 bytes, base64; encrypts private signing keys at rest.
    pub key_encryption_key: Option<Secret<String>>,
    /// Log filter, e.g. `info` or `behalf=debug,tower_http=info`.
    pub log: String,
    pub log_format: LogFormat,
    /// Lifetime of access tokens issued by the code, refresh and client-credentials grants.
    pub access_token_ttl_seconds: i64,
    /// `ES256` (default, fast) or `RS256` (RFC 9068 §2.1 asks that it be available)
    /// for new access-token keys; `behalf keys rotate` switches.
    pub access_token_algorithm: Algorithm,
    /// How long a new signing key is published in the JWKS before it signs.
    pub key_rotation_lead_seconds: i64,
    /// How often each instance re-reads signing keys from the database.
    pub key_refresh_seconds: u64,
    /// Lifetime of a signed-in browser session.
    pub session_ttl_seconds: i64,
    /// A refresh token unused this long expires (each rotation starts it again).
    pub refresh_token_idle_seconds: i64,
    /// A refresh-token family ends this long after the sign-in that began it.
    pub refresh_token_absolute_seconds: i64,
    /// IP addresses of reverse proxies in front of behalf whose `X-Forwarded-For`
    /// entries name the client (for sign-in throttling); none by default.
    #[serde(deserialize_with = "space_or_list")]
    pub trusted_proxies: Vec<String>,
    pub policy: Policy,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            database_url: "sqlite://./behalf.db".into(),
            listen: "127.0.0.1:8080".into(),
            issuer: None,
            key_encryption_key: None,
            log: "info".into(),
            log_format: LogFormat::Text,
            access_token_ttl_seconds: 3600,
            access_token_algorithm: Algorithm::ES256,
            key_rotation_lead_seconds: 600,
            key_refresh_seconds: 60,
            session_ttl_seconds: 8 * 3600,
            refresh_token_idle_seconds: 14 * 24 * 3600,
            refresh_token_absolute_seconds: 30 * 24 * 3600,
            trusted_proxies: Vec::new(),
            policy: Policy::default(),
        }
    }
}

/// Delegation policy (DESIGN.md "Details clients rely on").
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Policy {
    pub min_grant_seconds: i64,
    pub max_grant_seconds: i64,
    pub delegated_token_ttl_seconds: i64,
    pub request_ttl_seconds: i64,
    #[serde(deserialize_with = "space_or_list")]
    pub non_delegable_scopes: Vec<String>,
    /// The `aud` of tokens and grants when none is asked for; the issuer when unset.
    pub default_audience: Option<String>,
    /// Plain words for scopes on the consent pages, e.g. `read = "See your orders"`.
    pub scope_descriptions: std::collections::HashMap<String, String>,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            min_grant_seconds: 60,
            max_grant_seconds: 7 * 24 * 3600,
            delegated_token_ttl_seconds: 300,
            request_ttl_seconds: 24 * 3600,
            non_delegable_scopes: Vec::new(),
            default_audience: None,
            scope_descriptions: Default::default(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

/// Flags that override the other layers when given.
#[derive(Debug, Default, Clone, Serialize)]
pub struct Overrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_format: Option<LogFormat>,
}

/// A list given as `"a b"`, `"a,b"` (handy in environment variables) or as a TOML array.
fn space_or_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either {
        One(String),
        Many(Vec<String>),
    }
    Ok(match Either::deserialize(d)? {
        Either::One(s) => s
            .split([' ', ','])
            .filter(|p| !p.is_empty())
            .map(str::to_string)
            .collect(),
        Either::Many(v) => v,
    })
}

impl Settings {
    /// Reads every layer and validates the result.
    pub fn load(config_file: Option<&Path>, overrides: &Overrides) -> Result<Self, String> {
        let mut figment = Figment::new();
        if let Some(path) = config_file {
            if !path.exists() {
                return Err(format!("config file {} does not exist", path.display()));
            }
            figment = figment.merge(Toml::file(path));
        }
        // Other BEHALF_* variables (e.g. a test's BEHALF_BIN) are not settings.
        let env = Env::prefixed("BEHALF_")
            .filter(|key| {
                let key = key.as_str().to_ascii_lowercase();
                TOP_LEVEL_KEYS.contains(&key.as_str()) || POLICY_KEYS.contains(&key.as_str())
            })
            .map(|key| {
                let key = key.as_str().to_ascii_lowercase();
                if POLICY_KEYS.contains(&key.as_str()) {
                    format!("policy.{key}").into()
                } else {
                    key.into()
                }
            });
        let settings: Settings = figment
            .merge(env)
            .merge(Serialized::defaults(overrides))
            .extract()
            .map_err(|e| format!("invalid setting: {e}"))?;
        settings.validate()?;
        Ok(settings)
    }

    fn validate(&self) -> Result<(), String> {
        let backend = self.backend()?;
        self.listen_addr()?;
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
        self.trusted_proxy_addrs()?;
        if self.key_rotation_lead_seconds < 0 {
            return Err("key_rotation_lead_seconds: must not be negative".into());
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
        self.listen.parse().map_err(|_| {
            format!(
                "listen (BEHALF_LISTEN): {:?} is not an address like 127.0.0.1:8080",
                self.listen
            )
        })
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

/// Base64, standard or URL-safe, padding optional.
pub fn decode_key(encoded: &str) -> Option<[u8; 32]> {
    use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
    let unpadded = encoded.trim_end_matches('=');
    let bytes = STANDARD_NO_PAD
        .decode(unpadded)
        .or_else(|_| URL_SAFE_NO_PAD.decode(unpadded))
        .ok()?;
    bytes.try_into().ok()
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
    fn keys_decode_in_every_base64_flavour() {
        let std = "q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=";
        assert!(decode_key(std).is_some());
        assert!(decode_key(std.trim_end_matches('=')).is_some());
        assert!(decode_key("q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA").is_some());
        assert!(decode_key("too-short").is_none());
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

    #[test]
    fn scope_descriptions_come_from_the_policy_table() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("behalf.toml");
        std::fs::write(
            &file,
            "[policy]\nnon_delegable_scopes = [\"admin\"]\n\n[policy.scope_descriptions]\nread = \"See your orders\"\n",
        )
        .unwrap();
        let settings = Settings::load(Some(&file), &Overrides::default()).unwrap();
        assert_eq!(
            settings.policy.scope_descriptions["read"],
            "See your orders"
        );
        assert_eq!(settings.policy.non_delegable_scopes, vec!["admin"]);
    }

    #[test]
    fn secrets_in_settings_print_redacted() {
        let settings = Settings {
            key_encryption_key: Some(Secret::new("c2VjcmV0".into())),
            ..Settings::default()
        };
        assert!(!format!("{settings:?}").contains("c2VjcmV0"));
    }
}
