//! `POST /token` (RFC 6749 §3.2): a short dispatcher on `grant_type`. The grant
//! type is checked first (an unknown one is `unsupported_grant_type` whoever
//! asks), then the client is authenticated and must be allowed that grant, then
//! the request's parameters are checked against what the grant declares: a
//! parameter declared once and sent twice is `invalid_request` (§3.2); one no
//! grant declares is ignored, as §3.2 requires.

use super::token_response::TokenResponse;
use super::{
    authorization_code, ciba, client_auth, client_credentials, refresh_token, token_exchange,
};
use crate::app::AppState;
use crate::clients::GrantType;
use crate::error::{ErrorCode, OAuthError};
use crate::web::form::{OAuthForm, Parameters};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};

/// What every token request may carry beside its grant's parameters (§2.3.1, §3.2).
const COMMON: Parameters = Parameters {
    single: &["grant_type", "client_id", "client_secret"],
    repeatable: &[],
};

fn parameters(grant: GrantType) -> &'static Parameters {
    match grant {
        GrantType::AuthorizationCode => &authorization_code::PARAMETERS,
        GrantType::RefreshToken => &refresh_token::PARAMETERS,
        GrantType::ClientCredentials => &client_credentials::PARAMETERS,
        GrantType::TokenExchange => &token_exchange::PARAMETERS,
        GrantType::Ciba => &ciba::PARAMETERS,
    }
}

/// The form `token` reads, as a schema: `grant_type`, and the parameters of
/// that grant (RFC 6749 §4.1.3, §4.4.2, §6; RFC 8693 §2.1), with the client's
/// credentials here (`client_id`, `client_secret`) or in HTTP Basic.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct TokenRequest {
    grant_type: GrantType,
}

/// Issue tokens (RFC 6749 §3.2, RFC 8693).
#[utoipa::path(
    post,
    path = "/token",
    tag = "oauth",
    operation_id = "token",
    security((), ("client_basic" = [])),
    request_body(content = TokenRequest, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "RFC 6749 §5.1 (`no-store`)", body = TokenResponse),
        (status = 400, description = "RFC 6749 §5.2", body = OAuthError),
        (status = 401, description = "`invalid_client`", body = OAuthError,
            headers(("WWW-Authenticate" = String))),
        (status = 500, description = "`server_error`", body = OAuthError),
        (status = 503, description = "`temporarily_unavailable`", body = OAuthError),
    )
)]
pub async fn token(
    State(app): State<AppState>,
    headers: HeaderMap,
    form: OAuthForm,
) -> Result<Response, OAuthError> {
    let grant = GrantType::parse(form.required("grant_type")?).ok_or_else(|| {
        OAuthError::new(
            ErrorCode::UnsupportedGrantType,
            "this grant type is not supported",
        )
    })?;
    let client = client_auth::authenticate(&app.clients, &headers, &form).await?;
    if client.is_public && matches!(grant, GrantType::TokenExchange | GrantType::Ciba) {
        // docs/contract.md: a public client cannot authenticate, and exchange needs it.
        return Err(OAuthError::invalid_client());
    }
    if client.is_public && grant == GrantType::ClientCredentials {
        return Err(OAuthError::unauthorized_client(
            "a public client cannot use this grant",
        ));
    }
    if !client.allows_grant(grant) {
        return Err(OAuthError::unauthorized_client(
            "this client is not allowed this grant type",
        ));
    }
    form.check(&[&COMMON, parameters(grant)])?;
    let response = match grant {
        GrantType::AuthorizationCode => authorization_code::grant(&app, &client, &form).await?,
        GrantType::RefreshToken => refresh_token::grant(&app, &client, &form).await?,
        GrantType::ClientCredentials => client_credentials::grant(&app, &client, &form)?,
        GrantType::TokenExchange => token_exchange::grant(&app, &client, &form).await?,
        GrantType::Ciba => ciba::grant(&app, &client, &form).await?,
    };
    app.metrics.token_issued(grant.as_str());
    Ok(response.into_response())
}
