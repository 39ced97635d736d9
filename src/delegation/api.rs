//! The agent-facing JSON API (DESIGN.md "Access requests API"):
//! `POST /api/access-requests`, `GET`/`DELETE /api/access-requests/{id}`,
//! `DELETE /api/grants/{id}`. Bearer authentication as `agent_auth` says; an
//! agent sees only its own requests and grants (others are 404).

use super::agent_auth::{self, Agent};
use super::error::DelegationError;
use super::grants::{self, EndedBy};
use super::requests::{self, NewRequest};
use crate::app::AppState;
use crate::http::bearer::BearerError;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

async fn agent(app: &AppState, headers: &HeaderMap) -> Result<Agent, Response> {
    agent_auth::authenticate(app, headers)
        .await
        .map_err(BearerError::into_response)
}

fn respond<T: serde::Serialize>(
    status: StatusCode,
    result: Result<T, DelegationError>,
) -> Response {
    match result {
        Ok(body) => (status, Json(body)).into_response(),
        Err(e) => e.into_response(),
    }
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
            return DelegationError::invalid_request(format!(
                "the body is not the expected JSON: {e}"
            ))
            .into_response();
        }
    };
    respond(
        StatusCode::CREATED,
        requests::create(&app, &agent.user, &agent.client, new).await,
    )
}

pub async fn get_request(
    State(app): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    match agent(&app, &headers).await {
        Ok(a) => respond(StatusCode::OK, requests::get(&app, &a.user, &id).await),
        Err(r) => r,
    }
}

pub async fn cancel_request(
    State(app): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    match agent(&app, &headers).await {
        Ok(a) => respond(StatusCode::OK, requests::cancel(&app, &a.user, &id).await),
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
            grants::end(&app, &id, EndedBy::Agent, &a.user.sub).await,
        ),
        Err(r) => r,
    }
}
