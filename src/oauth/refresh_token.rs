//! The `refresh_token` grant (RFC 6749 §6) with rotation and reuse detection
//! (RFC 9700 §4.14.2): every use returns a new refresh token; presenting a used
//! one revokes its whole family. Tokens are bound to their client, end with the
//! user's account or the app consent, and have idle and absolute lifetimes.
//! Parameters: `refresh_token`, `scope` (optional, within the original).

use super::audience;
use super::clients::Client;
use super::scope;
use super::token_response::TokenResponse;
use super::user_tokens::{Grant, UserTokens};
use crate::app::AppState;
use crate::error::OAuthError;
use crate::http::form::OAuthForm;
use crate::random;
use crate::store::TxError;
use crate::store::app_consents::AppConsentRow;
use crate::store::issued_tokens::IssuedTokenRow;
use crate::store::refresh_tokens::RefreshTokenRow;
use crate::store::users::UserRow;

enum Rotation {
    Issued(Box<UserTokens>),
    Replayed,
    Unknown,
}

pub async fn grant(
    app: &AppState,
    client: &Client,
    form: &OAuthForm,
) -> Result<TokenResponse, OAuthError> {
    let token_id = random::hash_hex(form.required("refresh_token")?);
    let requested = form.single("scope")?.map(scope::parse).transpose()?;
    let audiences = audience::resolve(form, &client.audiences, &app.default_audience)?;
    let now = app.now();
    let (app_ref, client) = (app.clone(), client.clone());
    let outcome = app
        .db
        .transaction(move |c| {
            if !RefreshTokenRow::claim(c, &token_id, now)? {
                return match RefreshTokenRow::find(c, &token_id)? {
                    Some(row) if row.used_at.is_some() && row.client_id == client.client_id => {
                        RefreshTokenRow::revoke_family(c, &row.family_id, now)?;
                        IssuedTokenRow::revoke_family(c, &row.family_id, now)?;
                        tracing::warn!(client_id = %row.client_id, "refresh token replayed: its family is revoked");
                        Ok(Rotation::Replayed)
                    }
                    _ => Ok(Rotation::Unknown),
                };
            }
            let row = RefreshTokenRow::find(c, &token_id)?.ok_or(TxError::Abort(OAuthError::invalid_grant("unknown refresh token")))?;
            if row.client_id != client.client_id {
                return Err(TxError::Abort(OAuthError::invalid_grant("the refresh token belongs to another client")));
            }
            let user = UserRow::find_by_sub(c, &row.user_sub)?
                .filter(UserRow::is_active)
                .ok_or(TxError::Abort(OAuthError::invalid_grant("the user is not active")))?;
            let family: Vec<String> = row.scopes.split(' ').filter(|s| !s.is_empty()).map(str::to_string).collect();
            if !client.first_party {
                let consent = AppConsentRow::find(c, &user.sub, &client.client_id)?;
                let consented = consent.is_some_and(|r| family.iter().all(|s| r.scope_list().contains(&s.as_str())));
                if !consented {
                    return Err(TxError::Abort(OAuthError::invalid_grant("the user withdrew consent")));
                }
            }
            let scopes = match requested {
                Some(narrower) => scope::within(narrower, &family).map_err(TxError::Abort)?,
                None => family,
            };
            if scopes.iter().any(|s| s == "agent") && !user.is_agent {
                return Err(TxError::Abort(OAuthError::invalid_grant("the user is no longer an agent")));
            }
            let tokens = UserTokens::prepare(
                &app_ref,
                Grant {
                    client: &client,
                    user_sub: &user.sub,
                    scopes,
                    family_scopes: row.scopes.clone(),
                    auth_time: row.auth_time,
                    family_id: &row.family_id,
                    family_expires_at: row.family_expires_at,
                    audiences,
                    nonce: None,
                },
            );
            tokens.write(c)?;
            Ok(Rotation::Issued(Box::new(tokens)))
        })
        .await?;
    match outcome {
        Rotation::Issued(tokens) => tokens.respond(app),
        Rotation::Replayed => Err(OAuthError::invalid_grant(
            "the refresh token was already used",
        )),
        Rotation::Unknown => Err(OAuthError::invalid_grant(
            "the refresh token is unknown, expired or revoked",
        )),
    }
}
