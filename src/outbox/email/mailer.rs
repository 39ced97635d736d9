//! The way out for mail, built once when the deliverer starts
//! (`[email] smtp_url`, see `config::EmailSettings`): lettre's async SMTP
//! transport (a connection per mail, each step within `TIMEOUT`, the whole
//! attempt too), or, with no `smtp_url`, the log: each mail is one info line
//! and counts as delivered. A server that is down or refuses fails the
//! attempt with the reason in words, and the outbox tries again later.

use super::render;
use super::words::Mail;
use crate::config::{EmailSettings, Security};
use crate::outbox::http::TIMEOUT;
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

/// Longest reason kept for a failed attempt.
const MAX_ERROR_CHARS: usize = 300;

pub struct Mailer {
    way: Way,
    from: Mailbox,
    /// The right-hand side of each `Message-ID`: the issuer's host.
    domain: String,
}

enum Way {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Log,
    /// The transport could not be made (e.g. no certificate roots): every mail fails so.
    Broken(String),
}

impl Mailer {
    pub fn new(settings: &EmailSettings, issuer: &str) -> Self {
        let way = match &settings.smtp_url {
            None => Way::Log,
            Some(url) => match url.server().and_then(|server| transport(&server)) {
                Ok(transport) => Way::Smtp(transport),
                Err(why) => {
                    tracing::error!(error = %why, "mail cannot be sent: no SMTP transport");
                    Way::Broken(why)
                }
            },
        };
        let domain = url::Url::parse(issuer)
            .ok()
            .and_then(|u| u.host_str().map(str::to_string))
            // An IPv6 literal is no domain for a Message-ID.
            .filter(|host| !host.is_empty() && !host.contains(['[', ':']))
            .unwrap_or_else(|| "localhost".into());
        Self {
            way,
            from: settings.from_mailbox(),
            domain,
        }
    }

    /// Sends `mail` to `to` (its `Message-ID` made from `id`), or logs it.
    pub async fn deliver(&self, to: &str, mail: &Mail, id: &str) -> Result<(), String> {
        match &self.way {
            Way::Log => {
                let (text, _) = render::parts(mail)?;
                tracing::info!(
                    "mail not sent (no [email] smtp_url): to={to}, subject={}\n{text}",
                    mail.subject
                );
                Ok(())
            }
            Way::Broken(why) => Err(why.clone()),
            Way::Smtp(transport) => {
                let message = render::message(mail, self.from.clone(), to, id, &self.domain)?;
                match tokio::time::timeout(TIMEOUT, transport.send(message)).await {
                    Err(_) => Err(format!(
                        "the mail server did not answer within {} s",
                        TIMEOUT.as_secs()
                    )),
                    Ok(Err(e)) => Err(in_words(&e)),
                    Ok(Ok(_)) => Ok(()),
                }
            }
        }
    }
}

fn transport(
    server: &crate::config::SmtpServer,
) -> Result<AsyncSmtpTransport<Tokio1Executor>, String> {
    let tls = |host: &str| {
        TlsParameters::new(host.to_string()).map_err(|e| format!("TLS for the mail server: {e}"))
    };
    let tls = match server.security {
        Security::Plain => Tls::None,
        Security::StartTls => Tls::Required(tls(&server.host)?),
        Security::Tls => Tls::Wrapper(tls(&server.host)?),
    };
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&server.host)
        .port(server.port)
        .tls(tls)
        .timeout(Some(TIMEOUT));
    if let Some((user, password)) = &server.credentials {
        builder = builder.credentials(Credentials::new(user.clone(), password.expose().clone()));
    }
    Ok(builder.build())
}

/// A failed attempt in words: refused (the server's answer), or not reached.
fn in_words(error: &lettre::transport::smtp::Error) -> String {
    let words = if error.is_permanent() {
        format!("the mail server refused the mail: {error}")
    } else if error.is_transient() {
        format!("the mail server could not take the mail now: {error}")
    } else if error.is_timeout() {
        format!(
            "the mail server did not answer within {} s",
            TIMEOUT.as_secs()
        )
    } else {
        let mut words = format!("could not reach the mail server: {error}");
        let mut cause = std::error::Error::source(error);
        while let Some(e) = cause {
            words.push_str(": ");
            words.push_str(&e.to_string());
            cause = e.source();
        }
        words
    };
    words.chars().take(MAX_ERROR_CHARS).collect()
}
