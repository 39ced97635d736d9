//! `GET /audit/checkpoint` (DESIGN.md "Audit that an administrator cannot
//! rewrite"; docs/security.md N6): the newest signed checkpoint of the audit
//! trail, as the `audit.checkpoint` event sent it out, for a confidential
//! client that authenticates (HTTP Basic, RFC 6749 §2.3.1). Whoever keeps
//! these can later prove with `behalf audit verify --checkpoint` that no
//! event up to one of them was deleted or changed.

use super::client_auth;
use crate::app::AppState;
use crate::error::OAuthError;
use crate::store::events::{EventRow, EventType};
use crate::web::form::OAuthForm;
use crate::web::json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

pub async fn latest(
    State(app): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, OAuthError> {
    let client = client_auth::authenticate(&app.clients, &headers, &OAuthForm::parse(b"")).await?;
    if client.is_public {
        return Err(OAuthError::invalid_client());
    }
    let newest = app
        .db
        .read(|c| EventRow::latest(c, EventType::AuditCheckpoint, false))
        .await?;
    Ok(match newest.and_then(|event| event.data) {
        Some(data) => ([(header::CONTENT_TYPE, "application/json")], data).into_response(),
        None => json::error(
            StatusCode::NOT_FOUND,
            "not_found",
            "no checkpoint has been made yet: one is made at every grant ending and every five minutes while the audit trail grows",
        ),
    })
}
