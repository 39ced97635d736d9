//! One attempt at one outbox row: the message its kind makes, sent to its
//! destination (a logout token here, signed with the app's ID-token algorithm;
//! an event by `webhook`, `email` or `security_event`). Only https or loopback
//! http destinations (checked at registration, and again here); redirects are
//! not followed; a logout token is delivered only by a 200 or 204 (Back-Channel
//! Logout 1.0 §2.8). What an attempt failed with is said in words, never with
//! the message.

use super::http::in_words;
use super::{ciba_ping, email, security_event, webhook};
use crate::app::App;
use crate::oauth::backchannel_logout;
use crate::oauth::registration::validate_app_uri;
use crate::store::events::EventRow;
use crate::store::outbox::{OutboxKind, OutboxRow};
use crate::tokens::id_token;
use reqwest::StatusCode;
use reqwest::header::CONTENT_TYPE;

/// Makes `row`'s message now and posts it; `Err` says why it was not delivered.
pub async fn send(
    app: &App,
    client: &reqwest::Client,
    mailer: &email::Mailer,
    row: &OutboxRow,
) -> Result<(), String> {
    let Some(kind) = OutboxKind::parse(&row.kind) else {
        return Err(format!("unknown kind {:?}", row.kind));
    };
    if kind != OutboxKind::Email {
        validate_app_uri(&row.destination).map_err(|why| format!("destination refused: {why}"))?;
    }
    match kind {
        OutboxKind::BackchannelLogout => backchannel_logout(app, client, row).await,
        OutboxKind::Webhook => webhook::send(app, client, row, &event_of(app, row).await?).await,
        OutboxKind::Email => email::send(app, mailer, row, &event_of(app, row).await?).await,
        OutboxKind::SecurityEvent => {
            security_event::send(app, client, row, &event_of(app, row).await?).await
        }
        OutboxKind::CibaPing => ciba_ping::send(app, client, row).await,
    }
}

/// The event `row` delivers.
async fn event_of(app: &App, row: &OutboxRow) -> Result<EventRow, String> {
    let Some(id) = row.event_id.clone() else {
        return Err("the row names no event".into());
    };
    app.db
        .read(move |c| EventRow::find(c, &id))
        .await
        .map_err(|e| format!("could not read its event: {e}"))?
        .ok_or_else(|| "its event is gone".into())
}

async fn backchannel_logout(
    app: &App,
    client: &reqwest::Client,
    row: &OutboxRow,
) -> Result<(), String> {
    let session = backchannel_logout::ended_session(&row.payload)?;
    // Signed as the app's ID tokens are (a removed app's with the default).
    let alg = app
        .clients
        .find(&session.aud)
        .await
        .map_err(|e| format!("could not read the app: {e}"))?
        .map_or(id_token::ALGORITHMS[0], |client| client.id_token_alg);
    let body = backchannel_logout::request_body(
        &app.keys.snapshot(),
        &app.issuer,
        &row.id,
        &session,
        alg,
        app.now(),
    )?;
    let answer = client
        .post(&row.destination)
        .header(CONTENT_TYPE, backchannel_logout::CONTENT_TYPE)
        .body(body)
        .send()
        .await
        .map_err(|e| in_words(&e))?;
    match answer.status() {
        StatusCode::OK | StatusCode::NO_CONTENT => Ok(()),
        status => Err(format!("answered HTTP {}", status.as_u16())),
    }
}
