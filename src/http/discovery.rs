//! Server metadata: OpenID Connect Discovery 1.0 §3 and RFC 8414 §2. Both
//! documents are the same and list exactly what this build implements.

use crate::app::AppState;
use crate::oauth::token_endpoint::SUPPORTED_GRANTS;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

#[derive(Serialize)]
pub struct Metadata {
    issuer: String,
    token_endpoint: String,
    jwks_uri: String,
    response_types_supported: &'static [&'static str],
    grant_types_supported: &'static [&'static str],
    token_endpoint_auth_methods_supported: &'static [&'static str],
    code_challenge_methods_supported: &'static [&'static str],
    subject_types_supported: &'static [&'static str],
    id_token_signing_alg_values_supported: &'static [&'static str],
    access_token_signing_alg_values_supported: &'static [&'static str],
}

fn metadata(app: &AppState) -> Response {
    let body = Metadata {
        issuer: app.issuer.clone(),
        token_endpoint: app.endpoint("/token"),
        jwks_uri: app.endpoint("/jwks.json"),
        // No authorization endpoint yet, so no response type.
        response_types_supported: &[],
        grant_types_supported: SUPPORTED_GRANTS,
        token_endpoint_auth_methods_supported: &["client_secret_basic", "client_secret_post"],
        code_challenge_methods_supported: &["S256"],
        subject_types_supported: &["public"],
        id_token_signing_alg_values_supported: &["RS256"],
        access_token_signing_alg_values_supported: &["ES256"],
    };
    let mut response = Json(body).into_response();
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    response
}

pub async fn openid_configuration(State(app): State<AppState>) -> Response {
    metadata(&app)
}

pub async fn authorization_server(State(app): State<AppState>) -> Response {
    metadata(&app)
}
