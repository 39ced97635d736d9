//! Answers that go back to the client's redirect URI: the code, or an error,
//! always with `state` and `iss` (RFC 6749 §4.1.2, RFC 9207), as a 303.

use super::request::AuthorizationRequest;
use crate::app::App;
use crate::consent::pages;
use crate::random;
use crate::store::StoreError;
use crate::store::authorization_codes::AuthorizationCodeRow;
use crate::store::users::UserRow;
use axum::response::{IntoResponse, Response};

/// Codes live 60 seconds (SECURITY.md B3).
pub const CODE_TTL_SECONDS: i64 = 60;

#[derive(Debug)]
pub struct Redirect(pub String);

impl Redirect {
    fn to(redirect_uri: &str, params: &[(&str, &str)]) -> Self {
        let mut query = form_urlencoded::Serializer::new(String::new());
        for (name, value) in params {
            query.append_pair(name, value);
        }
        let separator = if redirect_uri.contains('?') { '&' } else { '?' };
        Self(format!("{redirect_uri}{separator}{}", query.finish()))
    }

    pub fn error(
        issuer: &str,
        redirect_uri: &str,
        state: Option<&str>,
        error: &str,
        description: &str,
    ) -> Self {
        let mut params = vec![("error", error), ("error_description", description)];
        if let Some(state) = state {
            params.push(("state", state));
        }
        params.push(("iss", issuer));
        Self::to(redirect_uri, &params)
    }
}

impl IntoResponse for Redirect {
    fn into_response(self) -> Response {
        pages::see_other(&self.0)
    }
}

/// Stores a new code for `user` (only its hash) and builds the redirect carrying it.
pub async fn issue_code(
    app: &App,
    request: &AuthorizationRequest,
    user: &UserRow,
    auth_time: i64,
) -> Result<Redirect, StoreError> {
    let code = random::secret();
    let now = app.now();
    let row = AuthorizationCodeRow {
        id: random::hash_hex(&code),
        client_id: request.client.client_id.clone(),
        redirect_uri: request.redirect_uri.clone(),
        user_sub: user.sub.clone(),
        scopes: request.scopes.join(" "),
        nonce: request.nonce.clone(),
        code_challenge: request.code_challenge.clone(),
        auth_time,
        created_at: now,
        expires_at: now + CODE_TTL_SECONDS,
        redeemed_at: None,
    };
    app.db.write(move |c| row.insert(c)).await?;
    let mut params = vec![("code", code.as_str())];
    if let Some(state) = &request.state {
        params.push(("state", state));
    }
    params.push(("iss", &app.issuer));
    Ok(Redirect::to(&request.redirect_uri, &params))
}
