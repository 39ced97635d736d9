//! The `[email]` table (docs/contract.md "Email"): where mail goes
//! (`smtp_url`, `BEHALF_EMAIL_SMTP_URL`) and whom it is from (`from`,
//! `BEHALF_EMAIL_FROM`). Without `smtp_url` no mail is sent: each is written
//! to the log instead. A URL's password never prints (`Debug` shows
//! `[redacted]` in its place) and no refusal repeats the URL.
//!
//! - `smtp://HOST[:PORT]` (port 25): on a loopback host (a local relay) a
//!   plain connection; on any other host STARTTLS is required, and a server
//!   that does not offer it is not sent to (mail is never sent in the clear
//!   across a network).
//! - `smtps://HOST[:PORT]` (port 465): TLS from the first byte (RFC 8314).
//!
//! Either may carry `USER:PASSWORD@` (percent-encoded) for SMTP AUTH. The
//! server's certificate is checked against the system's roots.

use super::validate::is_loopback_host;
use crate::secret::Secret;
use serde::Deserialize;
use std::fmt;

/// Environment variables (after `BEHALF_`) that belong to this table.
pub const ENV_KEYS: &[&str] = &["email_smtp_url", "email_from"];

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EmailSettings {
    /// The SMTP server; none (or empty): mails are logged, not sent.
    #[serde(deserialize_with = "none_if_empty")]
    pub smtp_url: Option<SmtpUrl>,
    /// The `From` of every mail: `name <address>` or an address.
    pub from: String,
}

impl Default for EmailSettings {
    fn default() -> Self {
        Self {
            smtp_url: None,
            from: "behalf <behalf@localhost>".into(),
        }
    }
}

/// An empty `smtp_url` (`BEHALF_EMAIL_SMTP_URL=`) is none, as if unset.
fn none_if_empty<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<SmtpUrl>, D::Error> {
    let url = Option::<SmtpUrl>::deserialize(d)?;
    Ok(url.filter(|u| !u.0.expose().trim().is_empty()))
}

/// `smtp_url` as given. Its `Debug` hides the password.
#[derive(Clone, Deserialize)]
#[serde(transparent)]
pub struct SmtpUrl(Secret<String>);

impl SmtpUrl {
    pub fn new(url: &str) -> Self {
        Self(Secret::new(url.to_string()))
    }

    pub fn server(&self) -> Result<SmtpServer, String> {
        SmtpServer::parse(self.0.expose())
    }
}

impl fmt::Debug for SmtpUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.server() {
            Ok(server) => write!(f, "{server:?}"),
            Err(_) => f.write_str("[redacted]"),
        }
    }
}

/// How the connection to the SMTP server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// `smtp://` to a loopback host: no TLS.
    Plain,
    /// `smtp://` to any other host: STARTTLS, required.
    StartTls,
    /// `smtps://`: TLS from the start.
    Tls,
}

/// A parsed `smtp_url`.
#[derive(Clone)]
pub struct SmtpServer {
    pub security: Security,
    pub host: String,
    pub port: u16,
    /// User name and password for SMTP AUTH.
    pub credentials: Option<(String, Secret<String>)>,
}

impl fmt::Debug for SmtpServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = match self.security {
            Security::Tls => "smtps",
            _ => "smtp",
        };
        let user = if self.credentials.is_some() {
            "[redacted]@"
        } else {
            ""
        };
        write!(f, "{scheme}://{user}{}:{}", self.host, self.port)
    }
}

impl SmtpServer {
    /// `smtp://` or `smtps://`, a host, an optional port and credentials;
    /// nothing else. The refusal never repeats the URL (it may hold a password).
    fn parse(url: &str) -> Result<Self, String> {
        let parsed = url::Url::parse(url.trim())
            .map_err(|_| "not a URL like smtp://127.0.0.1:25 or smtps://mail.example.com")?;
        let (security, default_port) = match parsed.scheme() {
            "smtp" => (Security::StartTls, 25),
            "smtps" => (Security::Tls, 465),
            _ => return Err("must start with smtp:// or smtps://".into()),
        };
        let host = match parsed.host() {
            Some(url::Host::Ipv6(ip)) => format!("[{ip}]"),
            Some(host) => host.to_string(),
            None => return Err("names no host".into()),
        };
        if !matches!(parsed.path(), "" | "/")
            || parsed.query().is_some()
            || parsed.fragment().is_some()
        {
            return Err("must have no path, query or fragment".into());
        }
        let security = match security {
            Security::StartTls if is_loopback_host(&host) => Security::Plain,
            other => other,
        };
        let credentials = match (parsed.username(), parsed.password()) {
            ("", None) => None,
            (user, Some(password)) if !user.is_empty() => {
                Some((decoded(user)?, Secret::new(decoded(password)?)))
            }
            _ => return Err("credentials must be USER:PASSWORD@".into()),
        };
        Ok(Self {
            security,
            host: host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_string(),
            port: parsed.port().unwrap_or(default_port),
            credentials,
        })
    }
}

fn decoded(part: &str) -> Result<String, String> {
    percent_encoding::percent_decode_str(part)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| "credentials must be UTF-8 once percent-decoded".to_string())
}

impl EmailSettings {
    pub(super) fn validate(&self) -> Result<(), String> {
        if let Some(url) = &self.smtp_url {
            url.server()
                .map_err(|why| format!("email.smtp_url (BEHALF_EMAIL_SMTP_URL): {why}"))?;
        }
        self.from.parse::<lettre::message::Mailbox>().map_err(|_| {
            format!(
                "email.from (BEHALF_EMAIL_FROM): {:?} is not an address like \
                 \"behalf <behalf@example.com>\"",
                self.from
            )
        })?;
        Ok(())
    }

    /// The `From` of every mail (checked by `validate`).
    pub fn from_mailbox(&self) -> lettre::message::Mailbox {
        self.from.parse().unwrap_or_else(|_| {
            "behalf <behalf@localhost>"
                .parse()
                .expect("a valid address")
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(url: &str) -> Result<SmtpServer, String> {
        SmtpUrl::new(url).server()
    }

    #[test]
    fn smtp_is_plain_only_on_loopback_and_starttls_elsewhere_and_smtps_is_tls() {
        let local = server("smtp://127.0.0.1:2525").unwrap();
        assert_eq!((local.security, local.port), (Security::Plain, 2525));
        assert_eq!(server("smtp://localhost").unwrap().port, 25);
        assert_eq!(server("smtp://[::1]:25").unwrap().security, Security::Plain);
        let relay = server("smtp://mail.example.com:587").unwrap();
        assert_eq!(
            (relay.security, relay.host.as_str()),
            (Security::StartTls, "mail.example.com")
        );
        let tls = server("smtps://mail.example.com").unwrap();
        assert_eq!((tls.security, tls.port), (Security::Tls, 465));
    }

    #[test]
    fn other_schemes_paths_and_queries_are_refused_without_repeating_the_url() {
        for url in [
            "http://mail.example.com",
            "smtp://u:s3cret@mail.example.com/x",
            "smtp://u:s3cret@mail.example.com?tls=none",
            "smtp://u@mail.example.com",
            "mail.example.com:25",
        ] {
            let refused = server(url).unwrap_err();
            assert!(
                !refused.contains("s3cret") && !refused.contains("example"),
                "{refused}"
            );
        }
    }

    #[test]
    fn credentials_are_decoded_and_never_printed() {
        let url = SmtpUrl::new("smtps://mailer:p%40ss%3Aw0rd@mail.example.com:465");
        let parsed = url.server().unwrap();
        let (user, password) = parsed.credentials.clone().unwrap();
        assert_eq!(
            (user.as_str(), password.expose().as_str()),
            ("mailer", "p@ss:w0rd")
        );
        let shown = format!("{url:?} {parsed:?}");
        assert_eq!(
            shown,
            "smtps://[redacted]@mail.example.com:465 smtps://[redacted]@mail.example.com:465"
        );
        assert_eq!(format!("{:?}", SmtpUrl::new("smtp://u:p@/")), "[redacted]");
    }

    #[test]
    fn an_empty_smtp_url_is_no_smtp_url() {
        let settings: EmailSettings = serde_json::from_str(r#"{"smtp_url": " "}"#).unwrap();
        assert!(settings.smtp_url.is_none());
        let settings: EmailSettings =
            serde_json::from_str(r#"{"smtp_url": "smtp://127.0.0.1:2525"}"#).unwrap();
        assert!(settings.smtp_url.is_some());
    }

    #[test]
    fn from_must_be_an_address() {
        let mut settings = EmailSettings::default();
        assert!(settings.validate().is_ok());
        settings.from = "Support <support@example.com>".into();
        assert!(settings.validate().is_ok());
        settings.from = "not an address".into();
        assert!(
            settings
                .validate()
                .unwrap_err()
                .contains("BEHALF_EMAIL_FROM")
        );
    }
}
