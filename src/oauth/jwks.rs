//! `GET /jwks.json` (RFC 7517 §5): the public halves of the published keys only.
//! Clients may cache it for five minutes, well inside the rotation lead time.

use crate::app::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// The JWK Set as a schema (RFC 7517 §5): public keys only.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct JwkSet {
    #[schema(value_type = Vec<Object>)]
    keys: Vec<()>,
}

/// The keys that verify our ID tokens and access tokens.
#[utoipa::path(
    get,
    path = "/jwks.json",
    tag = "oauth",
    operation_id = "jwks",
    responses((status = 200, description = "Cacheable for five minutes", body = JwkSet))
)]
pub async fn jwks(State(app): State<AppState>) -> Response {
    let keys = app.keys.snapshot();
    let published: Vec<_> = keys.published(app.now()).map(|k| &k.public_jwk).collect();
    let mut response = Json(json!({ "keys": published })).into_response();
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    response
}
