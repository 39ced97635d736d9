//! The `authorization_code` grant (RFC 6749 §4.1.3, RFC 7636 §4.6).
//! Parameters: `code`, `redirect_uri` (required when the request carried one;
//! we always bind it), `code_verifier`, `resource` (optional).
//! The code is claimed by a conditional update, so of two concurrent redemptions
//! exactly one wins; a second redemption revokes what the first one issued
//! (RFC 6749 §4.1.2, RFC 9700 §4.2.4).

use super::audience;
use super::clients::Client;
use super::pkce;
use super::token_response::TokenResponse;
use super::user_tokens::{Grant, UserTokens};
use crate::app::AppState;
use crate::error::OAuthError;
use crate::http::form::OAuthForm;
use crate::random;
use crate::store::TxError;
use crate::store::authorization_codes::AuthorizationCodeRow;
use crate::store::issued_tokens::IssuedTokenRow;
use crate::store::refresh_tokens::RefreshTokenRow;
use crate::store::users::UserRow;

enum Redemption {
    Issued(Box<UserTokens>),
    Replayed,
    Unknown,
}

pub async fn grant(
    app: &AppState,
    client: &Client,
    form: &OAuthForm,
) -> Result<TokenResponse, OAuthError> {
    let code = form.required("code")?;
    let redirect_uri = form.single("redirect_uri")?.map(str::to_string);
    let verifier = form
        .single("code_verifier")?
        .ok_or_else(|| OAuthError::invalid_request("code_verifier is required (PKCE)"))?
        .to_string();
    let audiences = audience::resolve(form, &client.audiences, &app.default_audience)?;
    let code_id = random::hash_hex(code);
    let now = app.now();
    let (app_ref, client) = (app.clone(), client.clone());
    let outcome = app
        .db
        .transaction(move |c| {
            // The write comes first: it takes the lock and settles who redeems.
            if !AuthorizationCodeRow::claim(c, &code_id, now)? {
                return match AuthorizationCodeRow::find(c, &code_id)? {
                    Some(row) if row.redeemed_at.is_some() => {
                        IssuedTokenRow::revoke_family(c, &code_id, now)?;
                        RefreshTokenRow::revoke_family(c, &code_id, now)?;
                        tracing::warn!(client_id = %row.client_id, "authorization code replayed: its tokens are revoked");
                        Ok(Redemption::Replayed)
                    }
                    _ => Ok(Redemption::Unknown),
                };
            }
            let row = AuthorizationCodeRow::find(c, &code_id)?.ok_or(TxError::Abort(OAuthError::invalid_grant("unknown code")))?;
            // A mismatch rolls the claim back: the code stays usable by its real client.
            if row.client_id != client.client_id {
                return Err(TxError::Abort(OAuthError::invalid_grant("the code was issued to another client")));
            }
            if redirect_uri.as_deref() != Some(row.redirect_uri.as_str()) {
                return Err(TxError::Abort(OAuthError::invalid_grant("redirect_uri does not match the authorization request")));
            }
            if !pkce::verify(&verifier, &row.code_challenge) {
                return Err(TxError::Abort(OAuthError::invalid_grant("code_verifier does not match the code_challenge")));
            }
            let user = UserRow::find_by_sub(c, &row.user_sub)?
                .filter(UserRow::is_active)
                .ok_or(TxError::Abort(OAuthError::invalid_grant("the user is not active")))?;
            let scopes: Vec<String> = row.scopes.split(' ').filter(|s| !s.is_empty()).map(str::to_string).collect();
            let tokens = UserTokens::prepare(
                &app_ref,
                Grant {
                    client: &client,
                    user_sub: &user.sub,
                    family_scopes: row.scopes.clone(),
                    scopes,
                    auth_time: row.auth_time,
                    family_id: &code_id,
                    family_expires_at: now + app_ref.settings.refresh_token_absolute_seconds,
                    audiences,
                    nonce: row.nonce.clone(),
                },
            );
            tokens.write(c)?;
            Ok(Redemption::Issued(Box::new(tokens)))
        })
        .await?;
    match outcome {
        Redemption::Issued(tokens) => tokens.respond(app),
        Redemption::Replayed => Err(OAuthError::invalid_grant("the code was already used")),
        Redemption::Unknown => Err(OAuthError::invalid_grant("the code is unknown or expired")),
    }
}
