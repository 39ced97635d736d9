//! Settings: defaults, then a TOML file (`--config`), then `BEHALF_*` environment
//! variables, then command-line flags; later layers win. A bad setting stops the
//! start with a message that names it.

mod email;
mod load_error;
mod policy;
mod sign_in;
mod upstream;
mod validate;

pub use email::{EmailSettings, Security, SmtpServer, SmtpUrl};
pub use policy::{AGENT_SCOPE, Policy};
pub use sign_in::SignInLimits;
pub use upstream::{AgentClaim, TrustedIssuerSettings, UpstreamSettings};
pub use validate::{is_loopback_host, validate_issuer};

pub use crate::telemetry::LogFormat;

use crate::secret::Secret;
use crate::tokens::signing_key::Algorithm;
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Deserializer, Serialize};
use std::path::Path;

/// Environment variables that belong to the `[policy]` table of the TOML file.
const POLICY_KEYS: &[&str] = &[
    "min_grant_seconds",
    "max_grant_seconds",
    "delegated_token_ttl_seconds",
    "request_ttl_seconds",
    "max_pending_requests_per_agent",
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
    "metrics_listen",
    "header_read_timeout_seconds",
    "idle_timeout_seconds",
    "max_connections",
    "password_login",
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
    /// Serve `/metrics` on this address instead of the main listener; none by
    /// default (then `/metrics` is on `listen`, as every other path).
    pub metrics_listen: Option<String>,
    /// A request's head (request line and headers) must arrive within this
    /// long of its first byte, or the connection is closed (slowloris).
    pub header_read_timeout_seconds: u64,
    /// A connection with no request in flight and no byte moving this long is closed.
    pub idle_timeout_seconds: u64,
    /// Open connections at most, on each listener; past it a new connection
    /// is answered 503 and closed. Keep it below the process's file limit.
    pub max_connections: usize,
    pub policy: Policy,
    /// The `[sign_in]` table: throttle limits and concurrent password checks.
    pub sign_in: SignInLimits,
    /// The `[email]` table: the SMTP server and the `From` address.
    pub email: EmailSettings,
    /// Whether `/login` offers the password form; `false` leaves only the
    /// upstream IdPs' buttons (and `POST /login` is refused).
    pub password_login: bool,
    /// `[[upstream]]` tables: company IdPs people sign in through.
    pub upstream: Vec<UpstreamSettings>,
    /// `[[trusted_issuer]]` tables: IdPs whose JWTs agents may present.
    pub trusted_issuer: Vec<TrustedIssuerSettings>,
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
            metrics_listen: None,
            header_read_timeout_seconds: 10,
            idle_timeout_seconds: 60,
            max_connections: 4096,
            policy: Policy::default(),
            sign_in: SignInLimits::default(),
            email: EmailSettings::default(),
            password_login: true,
            upstream: Vec::new(),
            trusted_issuer: Vec::new(),
        }
    }
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
pub(crate) fn space_or_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
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
                TOP_LEVEL_KEYS.contains(&key.as_str())
                    || POLICY_KEYS.contains(&key.as_str())
                    || sign_in::ENV_KEYS.contains(&key.as_str())
                    || email::ENV_KEYS.contains(&key.as_str())
            })
            .map(|key| {
                let key = key.as_str().to_ascii_lowercase();
                if POLICY_KEYS.contains(&key.as_str()) {
                    format!("policy.{key}").into()
                } else if let Some(field) = key.strip_prefix("sign_in_") {
                    format!("sign_in.{field}").into()
                } else if let Some(field) = key.strip_prefix("email_") {
                    format!("email.{field}").into()
                } else {
                    key.into()
                }
            });
        let mut settings: Settings = figment
            .merge(env)
            .merge(Serialized::defaults(overrides))
            .extract()
            .map_err(load_error::describe)?;
        for upstream in &mut settings.upstream {
            upstream.read_secret_from_env();
        }
        settings.validate()?;
        upstream::validate(&settings.upstream, &settings.trusted_issuer)?;
        Ok(settings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn the_pending_request_cap_comes_from_the_policy_table_and_must_be_positive() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("behalf.toml");
        std::fs::write(&file, "[policy]\nmax_pending_requests_per_agent = 5\n").unwrap();
        let settings = Settings::load(Some(&file), &Overrides::default()).unwrap();
        assert_eq!(settings.policy.max_pending_requests_per_agent, 5);
        std::fs::write(&file, "[policy]\nmax_pending_requests_per_agent = 0\n").unwrap();
        let refused = Settings::load(Some(&file), &Overrides::default()).unwrap_err();
        assert!(
            refused.contains("policy.max_pending_requests_per_agent"),
            "{refused}"
        );
    }

    #[test]
    fn secrets_in_settings_print_redacted() {
        let settings = Settings {
            key_encryption_key: Some(Secret::new("c2VjcmV0".into())),
            ..Settings::default()
        };
        assert!(!format!("{settings:?}").contains("c2VjcmV0"));
    }

    #[test]
    fn the_smtp_password_prints_redacted_and_the_email_table_reads_from_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("behalf.toml");
        std::fs::write(
            &file,
            "[email]\nsmtp_url = \"smtps://mailer:hunter2@mail.example.com\"\nfrom = \"Support <support@example.com>\"\n",
        )
        .unwrap();
        let settings = Settings::load(Some(&file), &Overrides::default()).unwrap();
        assert_eq!(settings.email.from, "Support <support@example.com>");
        let shown = format!("{settings:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(
            shown.contains("smtps://[redacted]@mail.example.com:465"),
            "{shown}"
        );
        std::fs::write(
            &file,
            "[email]\nsmtp_url = \"imap://mailer:hunter2@mail.example.com\"\n",
        )
        .unwrap();
        let refused = Settings::load(Some(&file), &Overrides::default()).unwrap_err();
        assert!(
            refused.starts_with("email.smtp_url (BEHALF_EMAIL_SMTP_URL): "),
            "{refused}"
        );
        assert!(!refused.contains("hunter2"), "{refused}");
    }
}
