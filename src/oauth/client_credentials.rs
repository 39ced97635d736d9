//! The `client_credentials` grant (RFC 6749 §4.4): a confidential client gets an
//! RFC 9068 access token about itself (`sub` = `client_id`).
//! Parameters: `scope` (within the client's scopes; all of them when omitted),
//! `resource` / `audience` (repeatable, RFC 8707 / RFC 8693 §2.1).

use super::token_response::TokenResponse;
use super::{audience, scope};
use crate::app::App;
use crate::clients::Client;
use crate::error::OAuthError;
use crate::random;
use crate::tokens::access_token::{self, AccessTokenClaims, Audience};
use crate::web::form::{OAuthForm, Parameters};

pub const PARAMETERS: Parameters = Parameters {
    single: &["scope"],
    repeatable: &["resource", "audience"],
};

pub fn grant(app: &App, client: &Client, form: &OAuthForm) -> Result<TokenResponse, OAuthError> {
    let scopes = match form.single("scope")? {
        Some(requested) => scope::within(scope::parse(requested)?, &client.scopes)?,
        None => client.scopes.clone(),
    };
    let audiences = audience::resolve(form, &client.audiences, &app.default_audience)?;
    let now = app.now();
    let ttl = app.settings.access_token_ttl_seconds;
    let claims = AccessTokenClaims {
        iss: app.issuer.clone(),
        sub: client.client_id.clone(),
        aud: Audience::from_list(audiences),
        client_id: client.client_id.clone(),
        scope: scope::join(&scopes),
        iat: now,
        exp: now + ttl,
        nbf: None,
        jti: random::identifier(),
        auth_time: None,
        act: None,
        grant_id: None,
    };
    let token = access_token::issue(&app.keys.snapshot(), &claims)
        .map_err(|_| OAuthError::server_error("no access-token signing key"))?;
    Ok(TokenResponse {
        access_token: token,
        issued_token_type: None,
        token_type: "Bearer",
        expires_in: ttl,
        scope: claims.scope,
        refresh_token: None,
        id_token: None,
    })
}
