//! Answers that go back to the client's redirect URI: the code, or an error,
//! always with `state` and `iss` (RFC 6749 §4.1.2, RFC 9207), as a 303.

use super::request::AuthorizationRequest;
use crate::digest;
use crate::random;
use crate::store::authorization_codes::AuthorizationCodeRow;
use crate::store::users::UserRow;
use crate::store::{Database, StoreError};
use crate::web::pages;
use axum::response::{IntoResponse, Response};

/// Codes live 60 seconds (docs/security.md B3).
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

/// A new code for `user` and the row that stores only its hash.
pub fn new_code(
    request: &AuthorizationRequest,
    user: &UserRow,
    auth_time: i64,
    now: i64,
) -> (String, AuthorizationCodeRow) {
    let code = random::secret();
    let row = AuthorizationCodeRow {
        id: digest::hash_hex(&code),
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
    (code, row)
}

/// The redirect that hands `code` to the client, with `state` and `iss`.
pub fn code_redirect(issuer: &str, request: &AuthorizationRequest, code: &str) -> Redirect {
    let mut params = vec![("code", code)];
    if let Some(state) = &request.state {
        params.push(("state", state));
    }
    params.push(("iss", issuer));
    Redirect::to(&request.redirect_uri, &params)
}

/// Stores a new code for `user` and builds the redirect carrying it.
pub async fn issue_code(
    db: &Database,
    issuer: &str,
    now: i64,
    request: &AuthorizationRequest,
    user: &UserRow,
    auth_time: i64,
) -> Result<Redirect, StoreError> {
    let (code, row) = new_code(request, user, auth_time, now);
    db.write(move |c| row.insert(c)).await?;
    Ok(code_redirect(issuer, request, &code))
}
