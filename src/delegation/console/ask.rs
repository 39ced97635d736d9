//! "Ask for access" (docs/contract.md "Support console"): `POST
//! /console/requests` with `csrf_token`, `subject` (a username or an email),
//! `client_id` (a support tool), repeated `scope` and `app` checkboxes,
//! `duration` (one of the choices), `reason` (required) and an optional
//! `ticket`: the agent API's request (`requests::create`), asked from a page.
//! Filed: 303 to the notice (`Done::Asked`). Refused: the page again, status
//! 400 (429 at the cap on pending requests), the values kept and the message
//! beside the field it is about, in words a person understands. The form's
//! values and drawing are `ask_form`.

use super::agent;
use super::ask_form::Sent;
use super::notice::Done;
use super::page;
use crate::app::{App, AppState};
use crate::clients::Client;
use crate::clock::exact_duration;
use crate::config::Policy;
use crate::delegation::refusal::Refusal;
use crate::delegation::requests::{self, NewRequest, RequestField, RequestRefused};
use crate::oauth::scope;
use crate::store::users::UserRow;
use crate::web::pages;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

/// `text` as a sentence: a capital first and a full stop last.
fn sentence(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or(String::new(), |first| {
        first.to_uppercase().chain(chars).collect::<String>() + "."
    })
}

/// The message a person reads beside the field, for a refusal of the sent form.
fn in_words(refused: &RequestRefused, sent: &Sent, client: &Client, policy: &Policy) -> String {
    use RequestField as F;
    let stray = sent
        .scopes
        .iter()
        .find(|s| !policy.is_delegable(s) || !client.scopes.contains(s));
    let subject = &sent.subject;
    match (refused.field, &refused.refusal) {
        (Some(F::Subject), Refusal::AlreadyPending(_)) => format!(
            "You already asked {subject}, and that request is waiting for an answer: cancel it under “Waiting for an answer” to ask again."
        ),
        (Some(F::Subject), _) if subject.is_empty() => {
            "Enter the username or email of the person whose account it is.".into()
        }
        (Some(F::Subject), refusal) if *refusal == Refusal::invalid(requests::OWN_ACCOUNT) => {
            "That is your own account: you need no access to it.".into()
        }
        (Some(F::Subject), refusal) if *refusal == Refusal::invalid(requests::SHARED_EMAIL) => {
            "More than one account has this email: enter the username instead.".into()
        }
        (Some(F::Subject), refusal) if *refusal == Refusal::invalid(requests::NO_SUCH_USER) => {
            format!("No one has the username or email “{subject}”: check it with the person.")
        }
        (Some(F::Subject), refusal) => sentence(&refusal.description()),
        (Some(F::Client), _) => format!(
            "{} cannot act in accounts: choose another support tool.",
            client.name
        ),
        (Some(F::Scope), _) if sent.scopes.is_empty() => {
            "Tick at least one thing you need to do.".into()
        }
        (Some(F::Scope), _) => match stray {
            Some(s) => format!(
                "{} cannot be used to “{}”. Untick it, or choose another support tool.",
                client.name,
                scope::describe(&policy.scope_descriptions, s)
            ),
            None => "Tick only things from the list.".into(),
        },
        (Some(F::App), _) => "Choose apps from the list only.".into(),
        (Some(F::Duration), _) => "Choose for how long from the list.".into(),
        (Some(F::Reason), _) if sent.reason.is_empty() => {
            "Say why you need access: the person reads it before answering.".into()
        }
        (Some(F::Reason), refusal) | (Some(F::Ticket), refusal) => sentence(&refusal.description()),
        (None, Refusal::TooManyPending { retry_after }) => format!(
            "Too many of your requests are waiting for an answer. Cancel one you no longer need, or ask again in {}.",
            exact_duration(*retry_after)
        ),
        (None, refusal) => sentence(&refusal.description()),
    }
}

/// How a refused form comes back.
enum Refused {
    /// The page again with the form as sent and its message, at this status.
    Form(Box<Sent>, StatusCode),
    Unavailable,
}

/// Checks and files the request; the sent form back with its message when refused.
async fn ask(app: &App, agent: &UserRow, sent: Sent) -> Result<String, Refused> {
    let bad = StatusCode::BAD_REQUEST;
    if sent.error.is_some() {
        return Err(Refused::Form(Box::new(sent), bad));
    }
    let client = match app.clients.find(&sent.client_id).await {
        Ok(Some(client)) => Client::clone(&client),
        Ok(None) => {
            let message = "Choose a support tool from the list.";
            let sent = sent.refused(RequestField::Client, message);
            return Err(Refused::Form(Box::new(sent), bad));
        }
        Err(e) => {
            tracing::error!(error = %e, "storage failed");
            return Err(Refused::Unavailable);
        }
    };
    let new = NewRequest {
        subject: Some(sent.subject.clone()),
        scope: Some(sent.scopes.join(" ")),
        duration: sent.duration,
        reason: Some(sent.reason.clone()),
        ticket: Some(sent.ticket.clone()),
        apps: Some(sent.apps.clone()),
    };
    let policy = &app.settings.policy;
    match requests::create(&app.db, policy, app.now(), agent, &client, new).await {
        Ok(request) => Ok(request.id),
        Err(RequestRefused {
            refusal: Refusal::Unavailable,
            ..
        }) => Err(Refused::Unavailable),
        Err(refused) => {
            let message = in_words(&refused, &sent, &client, policy);
            Err(match refused.field {
                Some(field) => Refused::Form(Box::new(sent.refused(field, message)), bad),
                None => {
                    let status = match refused.refusal {
                        Refusal::TooManyPending { .. } => StatusCode::TOO_MANY_REQUESTS,
                        _ => bad,
                    };
                    let sent = Sent {
                        whole: message,
                        ..sent
                    };
                    Refused::Form(Box::new(sent), status)
                }
            })
        }
    }
}

pub async fn create(State(app): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let (form, s, u) = match agent::for_form(&app, &headers, &body).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    match ask(&app, &u, Sent::read(&form)).await {
        Ok(id) => pages::see_other(&Done::Asked.location(&id)),
        Err(Refused::Form(sent, status)) => page::render_form(&app, &s, &u, status, *sent).await,
        Err(Refused::Unavailable) => pages::unavailable(),
    }
}

#[cfg(test)]
mod tests {
    use super::sentence;

    #[test]
    fn a_refusal_reads_as_a_sentence() {
        assert_eq!(
            sentence("ticket is longer than 200 characters"),
            "Ticket is longer than 200 characters."
        );
        assert_eq!(sentence(""), "");
    }
}
