//! Server metadata: OpenID Connect Discovery 1.0 §3 and RFC 8414 §2. Both
//! documents are the same and list exactly what this build implements.

use crate::app::AppState;
use crate::clients::GrantType;
use crate::tokens::id_token;
use crate::tokens::signing_key::Algorithm;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = ServerMetadata)]
pub struct Metadata {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    userinfo_endpoint: String,
    introspection_endpoint: String,
    revocation_endpoint: String,
    jwks_uri: String,
    scopes_supported: &'static [&'static str],
    response_types_supported: &'static [&'static str],
    response_modes_supported: &'static [&'static str],
    grant_types_supported: Vec<&'static str>,
    token_endpoint_auth_methods_supported: &'static [&'static str],
    introspection_endpoint_auth_methods_supported: &'static [&'static str],
    revocation_endpoint_auth_methods_supported: &'static [&'static str],
    code_challenge_methods_supported: &'static [&'static str],
    subject_types_supported: &'static [&'static str],
    /// OIDC Discovery 1.0 §3: what a client may register as its
    /// `id_token_signed_response_alg` (OIDC Dynamic Client Registration 1.0 §2).
    id_token_signing_alg_values_supported: Vec<&'static str>,
    access_token_signing_alg_values_supported: Vec<&'static str>,
    claims_supported: &'static [&'static str],
    prompt_values_supported: &'static [&'static str],
    authorization_response_iss_parameter_supported: bool,
    request_parameter_supported: bool,
    request_uri_parameter_supported: bool,
    /// OIDC Back-Channel Logout 1.0 §2.1: delegated sessions end with a logout token carrying `sid`.
    backchannel_logout_supported: bool,
    backchannel_logout_session_supported: bool,
    /// OpenID CIBA Core 1.0 §4: program agents' backchannel authentication requests.
    backchannel_authentication_endpoint: String,
    backchannel_token_delivery_modes_supported: &'static [&'static str],
    backchannel_user_code_parameter_supported: bool,
}

fn metadata(app: &AppState) -> Response {
    let body = Metadata {
        issuer: app.issuer.clone(),
        authorization_endpoint: app.endpoint("/authorize"),
        token_endpoint: app.endpoint("/token"),
        userinfo_endpoint: app.endpoint("/userinfo"),
        introspection_endpoint: app.endpoint("/introspect"),
        revocation_endpoint: app.endpoint("/revoke"),
        jwks_uri: app.endpoint("/jwks.json"),
        scopes_supported: &["openid", "profile", "agent"],
        response_types_supported: &["code"],
        response_modes_supported: &["query"],
        grant_types_supported: GrantType::ALL.map(GrantType::as_str).to_vec(),
        token_endpoint_auth_methods_supported: &[
            "client_secret_basic",
            "client_secret_post",
            "none",
        ],
        introspection_endpoint_auth_methods_supported: &[
            "client_secret_basic",
            "client_secret_post",
        ],
        revocation_endpoint_auth_methods_supported: &[
            "client_secret_basic",
            "client_secret_post",
            "none",
        ],
        code_challenge_methods_supported: &["S256"],
        subject_types_supported: &["public"],
        id_token_signing_alg_values_supported: id_token::ALGORITHMS.map(Algorithm::as_str).to_vec(),
        access_token_signing_alg_values_supported: app
            .keys
            .snapshot()
            .access_token_algorithms(app.now()),
        claims_supported: &[
            "sub",
            "iss",
            "aud",
            "exp",
            "iat",
            "auth_time",
            "nonce",
            "at_hash",
            "azp",
            "preferred_username",
            "name",
            "act",
            "grant_id",
            "sid",
        ],
        prompt_values_supported: &["none", "login", "consent"],
        authorization_response_iss_parameter_supported: true,
        request_parameter_supported: false,
        request_uri_parameter_supported: false,
        backchannel_logout_supported: true,
        backchannel_logout_session_supported: true,
        backchannel_authentication_endpoint: app.endpoint("/bc-authorize"),
        backchannel_token_delivery_modes_supported: &["poll", "ping"],
        backchannel_user_code_parameter_supported: false,
    };
    let mut response = Json(body).into_response();
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    response
}

/// OpenID Connect Discovery 1.0 §4.
#[utoipa::path(
    get,
    path = "/.well-known/openid-configuration",
    tag = "oauth",
    operation_id = "openidConfiguration",
    responses((status = 200, description = "Cacheable for five minutes", body = Metadata))
)]
pub async fn openid_configuration(State(app): State<AppState>) -> Response {
    metadata(&app)
}

/// RFC 8414 §3: the same document.
#[utoipa::path(
    get,
    path = "/.well-known/oauth-authorization-server",
    tag = "oauth",
    operation_id = "authorizationServerMetadata",
    responses((status = 200, description = "Cacheable for five minutes", body = Metadata))
)]
pub async fn authorization_server(State(app): State<AppState>) -> Response {
    metadata(&app)
}
