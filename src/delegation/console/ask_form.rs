//! The "Ask for access" form's values (docs/contract.md "Support console"):
//! `Sent`, what the browser sent (read from the form), and `view`, the form as
//! the template draws it, with the values kept and the message beside its
//! field after a refusal. The handler that files the request is `ask`.

use crate::config::Policy;
use crate::delegation::choices::{self, Check, DurationOption, Pick};
use crate::delegation::requests::RequestField;
use crate::delegation::sent_fields::SentFields;
use crate::store::clients::ClientRow;
use crate::web::form::OAuthForm;
use serde::Serialize;

/// The form's values as sent (all empty for a fresh form), and what was wrong.
#[derive(Debug, Default, Clone)]
pub struct Sent {
    pub subject: String,
    pub client_id: String,
    pub scopes: Vec<String>,
    pub apps: Vec<String>,
    pub duration: Option<i64>,
    pub reason: String,
    pub ticket: String,
    /// The field a refusal is about and its message.
    pub error: Option<(RequestField, String)>,
    /// A refusal about the whole form (the cap on pending requests).
    pub whole: String,
}

impl Sent {
    /// Reads the form; a field sent twice is reported beside it.
    pub(super) fn read(form: &OAuthForm) -> Self {
        use RequestField as F;
        let mut sent = SentFields::new(form, "This was sent twice: fill it in once.");
        let subject = sent.one("subject", F::Subject);
        let client_id = sent.one("client_id", F::Client);
        let duration = sent.one("duration", F::Duration);
        let reason = sent.one("reason", F::Reason);
        let ticket = sent.one("ticket", F::Ticket);
        let duration = sent.seconds(&duration, F::Duration);
        Sent {
            subject,
            client_id,
            scopes: sent.words("scope"),
            apps: sent.words("app"),
            duration,
            reason,
            ticket,
            error: sent.error,
            whole: String::new(),
        }
    }

    pub(super) fn refused(self, field: RequestField, message: impl Into<String>) -> Self {
        Self {
            error: Some((field, message.into())),
            ..self
        }
    }
}

/// The form as the template draws it.
#[derive(Serialize)]
pub struct FormView {
    subject: String,
    clients: Vec<Pick>,
    scopes: Vec<Check>,
    apps: Vec<Check>,
    durations: Vec<DurationOption>,
    reason: String,
    ticket: String,
    /// The field the message is about (`RequestField::as_str`), and the message.
    error_field: &'static str,
    error: String,
    /// A message about the whole form.
    whole: String,
}

/// Draws the form from the registered clients and what was sent. A fresh
/// form selects the first support tool and one hour, and ticks nothing.
pub fn view(sent: &Sent, clients: &[ClientRow], policy: &Policy) -> FormView {
    let fresh = sent.error.is_none() && sent.whole.is_empty() && sent.client_id.is_empty();
    let tools = choices::support_tools(clients);
    let words = &policy.scope_descriptions;
    let (error_field, error) = match &sent.error {
        Some((field, message)) => (field.as_str(), message.clone()),
        None => ("", String::new()),
    };
    FormView {
        subject: sent.subject.clone(),
        clients: choices::tool_picks(&tools, &sent.client_id),
        scopes: choices::scope_checks(&tools, policy, words, &sent.scopes),
        apps: choices::app_checks(clients, &sent.apps, |name| {
            format!("Sign in to {name} as them")
        }),
        durations: choices::durations(policy, sent.duration.filter(|_| !fresh)),
        reason: sent.reason.clone(),
        ticket: sent.ticket.clone(),
        error_field,
        error,
        whole: sent.whole.clone(),
    }
}
