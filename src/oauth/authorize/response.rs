//! Issuing the code (RFC 6749 §4.1.2): the stored row holds only its hash,
//! and the redirect carries it with `state` and `iss` (RFC 9207).

use super::redirect::Redirect;
use super::request::AuthorizationRequest;
use crate::digest;
use crate::random;
use crate::store::authorization_codes::AuthorizationCodeRow;
use crate::store::users::UserRow;
use crate::store::{Database, StoreError};

/// Codes live 60 seconds (docs/security.md B3).
pub const CODE_TTL_SECONDS: i64 = 60;

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
        grant_id: None,
        actor_sub: None,
        sid: None,
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
