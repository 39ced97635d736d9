//! An event told in a mail (docs/contract.md "Email"; docs/security.md N4):
//! the outbox row's `destination` is the address and its payload says to
//! whom (`{"to": "user" | "agent"}`). `story` reads what happened, `words`
//! says it in plain words, `render` makes the text and HTML parts and the
//! message, `mailer` sends it (or logs it, with no `smtp_url`). A mail
//! carries names, reasons, times and a link to the reader's own page: never
//! a token, a code, a secret or a link that signs anyone in.

mod mailer;
mod render;
mod story;
mod words;

pub use mailer::Mailer;

use crate::app::App;
use crate::outbox::fan_out::Recipient;
use crate::store::events::EventRow;
use crate::store::outbox::OutboxRow;

pub async fn send(
    app: &App,
    mailer: &Mailer,
    row: &OutboxRow,
    event: &EventRow,
) -> Result<(), String> {
    let to = match serde_json::from_str::<serde_json::Value>(&row.payload)
        .ok()
        .and_then(|p| p["to"].as_str().map(str::to_string))
        .as_deref()
    {
        Some("user") => Recipient::User,
        Some("agent") => Recipient::Agent,
        _ => return Err("the row says not whom to mail".into()),
    };
    let words = app.settings.policy.scope_descriptions.clone();
    let event_row = event.clone();
    let story = app
        .db
        .read(move |c| story::read(c, &event_row, to, &words))
        .await
        .map_err(|e| format!("could not read what to tell: {e}"))??;
    let mail = words::mail(&story, &app.issuer);
    if mail.subject.is_empty() {
        return Err(format!("no mail tells {}", event.event_type));
    }
    mailer.deliver(&row.destination, &mail, &row.id).await
}
