//! `POST /token` (RFC 6749 §3.2): a short dispatcher on `grant_type`. The grant
//! type is checked first (an unknown one is `unsupported_grant_type` whoever
//! asks), then the client is authenticated and must be allowed that grant.

use super::clients::{
    GRANT_AUTHORIZATION_CODE, GRANT_CLIENT_CREDENTIALS, GRANT_REFRESH_TOKEN, GRANT_TOKEN_EXCHANGE,
};
use super::{authorization_code, client_auth, client_credentials, refresh_token, token_exchange};
use crate::app::AppState;
use crate::error::{ErrorCode, OAuthError};
use crate::http::form::OAuthForm;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};

/// The grants this server implements.
pub const SUPPORTED_GRANTS: &[&str] = &[
    GRANT_AUTHORIZATION_CODE,
    GRANT_REFRESH_TOKEN,
    GRANT_CLIENT_CREDENTIALS,
    GRANT_TOKEN_EXCHANGE,
];

pub async fn token(
    State(app): State<AppState>,
    headers: HeaderMap,
    form: OAuthForm,
) -> Result<Response, OAuthError> {
    let grant_type = form.required("grant_type")?;
    if !SUPPORTED_GRANTS.contains(&grant_type) {
        return Err(OAuthError::new(
            ErrorCode::UnsupportedGrantType,
            "this grant type is not supported",
        ));
    }
    let client = client_auth::authenticate(&app, &headers, &form).await?;
    if client.is_public && grant_type == GRANT_TOKEN_EXCHANGE {
        // DESIGN.md: a public client cannot authenticate, and exchange needs it.
        return Err(OAuthError::invalid_client());
    }
    if client.is_public && grant_type == GRANT_CLIENT_CREDENTIALS {
        return Err(OAuthError::unauthorized_client(
            "a public client cannot use this grant",
        ));
    }
    if !client.allows_grant(grant_type) {
        return Err(OAuthError::unauthorized_client(
            "this client is not allowed this grant type",
        ));
    }
    let response = match grant_type {
        GRANT_AUTHORIZATION_CODE => authorization_code::grant(&app, &client, &form).await?,
        GRANT_REFRESH_TOKEN => refresh_token::grant(&app, &client, &form).await?,
        GRANT_CLIENT_CREDENTIALS => client_credentials::grant(&app, &client, &form)?,
        GRANT_TOKEN_EXCHANGE => token_exchange::grant(&app, &client, &form).await?,
        _ => unreachable!("checked against SUPPORTED_GRANTS above"),
    };
    metrics::counter!("behalf_tokens_issued_total", "grant" => grant_type.to_string()).increment(1);
    Ok(response.into_response())
}
