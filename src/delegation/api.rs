//! The agent-facing JSON API (docs/contract.md "Access requests API"):
//! `POST /api/access-requests`, `GET`/`DELETE /api/access-requests/{id}`,
//! `DELETE /api/grants/{id}`; the lists and `GET /api/grants/{id}` are in
//! `api_lists`. Bearer authentication as `agent_auth` says; an agent sees only
//! its own requests and the grants it may use (others are 404). Refusals
//! become JSON here and nowhere else.

use super::agent_auth::{self, Agent};
use super::grants;
use super::refusal::Refusal;
use super::requests::{self, NewRequest};
use crate::app::AppState;
use crate::store::grants::EndedBy;
use crate::web::json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// The one rendering of a `Refusal` as JSON: a pending request already there
/// is named by `id` (409), the per-agent cap carries `Retry-After` (429).
pub fn refusal_json(refusal: &Refusal) -> Response {
    let (code, description) = (refusal.code(), refusal.description());
    match refusal {
        Refusal::AlreadyPending(id) => json::body(
            StatusCode::CONFLICT,
            serde_json::json!({"error": code, "error_description": description, "id": id}),
        ),
        Refusal::TooManyPending { retry_after } => {
            let mut response = json::error(StatusCode::TOO_MANY_REQUESTS, code, &description);
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(*retry_after));
            response
        }
        Refusal::NotFound => json::error(StatusCode::NOT_FOUND, code, &description),
        Refusal::NoLongerPending(_) | Refusal::AlreadyEnded => {
            json::error(StatusCode::CONFLICT, code, &description)
        }
        Refusal::InvalidScope(_) | Refusal::Invalid(_) => {
            json::error(StatusCode::BAD_REQUEST, code, &description)
        }
        Refusal::Unavailable => json::error(StatusCode::SERVICE_UNAVAILABLE, code, &description),
    }
}

pub(super) fn respond<T: serde::Serialize>(
    status: StatusCode,
    result: Result<T, Refusal>,
) -> Response {
    match result {
        Ok(body) => json::body(status, body),
        Err(refusal) => refusal_json(&refusal),
    }
}

pub(super) async fn agent(app: &AppState, headers: &HeaderMap) -> Result<Agent, Response> {
    agent_auth::authenticate(app, headers)
        .await
        .map_err(IntoResponse::into_response)
}

pub async fn create_request(
    State(app): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let agent = match agent(&app, &headers).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let new: NewRequest = match serde_json::from_slice(&body) {
        Ok(n) => n,
        Err(e) => {
            let refusal = Refusal::invalid(format!("the body is not the expected JSON: {e}"));
            return refusal_json(&refusal);
        }
    };
    let policy = &app.settings.policy;
    let created = requests::create(&app.db, policy, app.now(), &agent.user, &agent.client, new);
    respond(StatusCode::CREATED, created.await.map_err(|r| r.refusal))
}

pub async fn get_request(
    State(app): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    match agent(&app, &headers).await {
        Ok(a) => respond(
            StatusCode::OK,
            requests::get(&app.db, &a.user.sub, &id, app.now()).await,
        ),
        Err(r) => r,
    }
}

pub async fn cancel_request(
    State(app): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    match agent(&app, &headers).await {
        Ok(a) => respond(
            StatusCode::OK,
            requests::cancel(&app.db, app.now(), &a.user.sub, &id).await,
        ),
        Err(r) => r,
    }
}

pub async fn end_grant(
    State(app): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    match agent(&app, &headers).await {
        Ok(a) => respond(
            StatusCode::OK,
            grants::end(&app.db, app.now(), &id, EndedBy::Agent, &a.user).await,
        ),
        Err(r) => r,
    }
}
