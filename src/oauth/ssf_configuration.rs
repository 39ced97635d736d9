//! `GET /.well-known/ssf-configuration` (OpenID Shared Signals Framework 1.0
//! §7.1, transmitter configuration metadata): where a receiver of our
//! Security Event Tokens finds the issuer, the keys that verify them and how
//! they are delivered (push, RFC 8935). Receivers are registered by the
//! operator (`behalf receiver add`), so no stream-management endpoint is
//! listed. Cacheable as discovery is.

use crate::app::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// The one event type sent: CAEP 1.0 §3.1, session revoked (a grant ended).
pub const SESSION_REVOKED: &str =
    "https://schemas.openid.net/secevent/caep/event-type/session-revoked";
/// Push delivery (RFC 8935), as SSF names the delivery method.
pub const PUSH_DELIVERY: &str = "urn:ietf:rfc:8935";

/// The transmitter's metadata (SSF 1.0 §7.1).
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = SsfConfiguration)]
pub struct SsfConfiguration {
    #[schema(example = "1_0")]
    spec_version: &'static str,
    issuer: String,
    jwks_uri: String,
    delivery_methods_supported: [&'static str; 1],
    events_supported: [&'static str; 1],
}

/// Shared Signals transmitter metadata.
#[utoipa::path(
    get,
    path = "/.well-known/ssf-configuration",
    tag = "oauth",
    operation_id = "ssfConfiguration",
    responses((status = 200, description = "Cacheable for five minutes", body = SsfConfiguration))
)]
pub async fn ssf_configuration(State(app): State<AppState>) -> Response {
    let body = SsfConfiguration {
        spec_version: "1_0",
        issuer: app.issuer.clone(),
        jwks_uri: app.endpoint("/jwks.json"),
        delivery_methods_supported: [PUSH_DELIVERY],
        events_supported: [SESSION_REVOKED],
    };
    let mut response = Json(body).into_response();
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    response
}
