//! The agent-facing JSON API (docs/contract.md "Access requests API"):
//! `POST /api/access-requests`, `GET`/`DELETE /api/access-requests/{id}`,
//! `DELETE /api/grants/{id}`; the lists and `GET /api/grants/{id}` are in
//! `api_lists`. Bearer authentication as `agent_auth` says; an agent sees only
//! its own requests and the grants it may use (others are 404). Refusals
//! become JSON here and nowhere else.

use super::agent_auth::{self, Agent};
use super::grants::{self, GrantView};
use super::refusal::Refusal;
use super::requests::{self, NewRequest, RequestView};
use crate::app::AppState;
use crate::store::grants::EndedBy;
use crate::web::json::{self, ErrorBody};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// The one rendering of a `Refusal` as JSON: a pending request already there
/// is named by `id` (409), the per-agent cap carries `Retry-After` (429).
pub fn refusal_json(refusal: &Refusal) -> Response {
    let (code, description) = (refusal.code(), refusal.description());
    match refusal {
        Refusal::AlreadyPending(id) => json::error_body(
            StatusCode::CONFLICT,
            json::ErrorBody {
                error: code,
                error_description: &description,
                id: Some(id),
            },
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

/// File an access request to a user.
#[utoipa::path(
    post,
    path = "/api/access-requests",
    tag = "agent",
    operation_id = "createAccessRequest",
    security(("agent_token" = [])),
    request_body(content = NewRequest, content_type = "application/json"),
    responses(
        (status = 201, description = "The request, pending", body = RequestView),
        (status = 400, description = "`invalid_request` or `invalid_scope`: what was sent is refused", body = ErrorBody),
        (status = 401, description = "`invalid_token`", body = ErrorBody,
            headers(("WWW-Authenticate" = String))),
        (status = 403, description = "`insufficient_scope`: not an agent's token", body = ErrorBody,
            headers(("WWW-Authenticate" = String))),
        (status = 409, description = "A request of this agent to this user is already pending: `id` names it", body = ErrorBody),
        (status = 413, description = "The body is too large", body = ErrorBody),
        (status = 429, description = "`too_many_requests`: the agent has as many pending requests as the policy allows", body = ErrorBody,
            headers(("Retry-After" = i64, description = "Seconds until the first of them expires"))),
        (status = 503, description = "`temporarily_unavailable`", body = ErrorBody),
    )
)]
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

/// One of the agent's own requests.
#[utoipa::path(
    get,
    path = "/api/access-requests/{id}",
    tag = "agent",
    operation_id = "getAccessRequest",
    security(("agent_token" = [])),
    params(("id" = String, Path, description = "The request's id")),
    responses(
        (status = 200, description = "The request as it stands now", body = RequestView),
        (status = 401, description = "`invalid_token`", body = ErrorBody),
        (status = 403, description = "`insufficient_scope`", body = ErrorBody),
        (status = 404, description = "`not_found`: unknown, or not this agent's", body = ErrorBody),
        (status = 503, description = "`temporarily_unavailable`", body = ErrorBody),
    )
)]
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

/// Cancel one of the agent's own pending requests.
#[utoipa::path(
    delete,
    path = "/api/access-requests/{id}",
    tag = "agent",
    operation_id = "cancelAccessRequest",
    security(("agent_token" = [])),
    params(("id" = String, Path, description = "The request's id")),
    responses(
        (status = 200, description = "The request, cancelled", body = RequestView),
        (status = 401, description = "`invalid_token`", body = ErrorBody),
        (status = 403, description = "`insufficient_scope`", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 409, description = "`invalid_request`: no longer pending", body = ErrorBody),
        (status = 503, description = "`temporarily_unavailable`", body = ErrorBody),
    )
)]
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

/// End a grant the agent may use; its tokens stop working at once.
#[utoipa::path(
    delete,
    path = "/api/grants/{id}",
    tag = "agent",
    operation_id = "endGrant",
    security(("agent_token" = [])),
    params(("id" = String, Path, description = "The grant's id")),
    responses(
        (status = 200, description = "The grant, ended by the agent", body = GrantView),
        (status = 401, description = "`invalid_token`", body = ErrorBody),
        (status = 403, description = "`insufficient_scope`", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 409, description = "`invalid_request`: the grant has already ended", body = ErrorBody),
        (status = 503, description = "`temporarily_unavailable`", body = ErrorBody),
    )
)]
pub async fn end_grant(
    State(app): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    match agent(&app, &headers).await {
        Ok(a) => respond(
            StatusCode::OK,
            grants::end(
                &app.db,
                &app.outbox_due,
                app.now(),
                &id,
                EndedBy::Agent,
                &a.user,
            )
            .await,
        ),
        Err(r) => r,
    }
}
