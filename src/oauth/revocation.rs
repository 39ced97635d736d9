//! `POST /revoke` (RFC 7009): a client revokes its own access or refresh token.
//! Whatever `token_type_hint` says, both kinds are tried (§2.1). Revoking a
//! refresh token ends its family and the access tokens issued from it; since a
//! delegated token stays active only while the actor token that minted it does,
//! revoking an agent's token ends those too. Another client's token, or an
//! unknown one, is answered 200 and left alone (§2.2). A storage error is 503.

use super::client_auth;
use crate::app::AppState;
use crate::audit;
use crate::error::OAuthError;
use crate::http::form::OAuthForm;
use crate::random;
use crate::store::issued_tokens::IssuedTokenRow;
use crate::store::refresh_tokens::RefreshTokenRow;
use crate::store::{AnyConnection, StoreError};
use crate::tokens::access_token::AccessTokenClaims;
use crate::tokens::verifier::MAX_TOKEN_LEN;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

fn revoke_access_token(
    conn: &mut AnyConnection,
    claims: &AccessTokenClaims,
    now: i64,
) -> Result<(), StoreError> {
    let updated = IssuedTokenRow::mark_revoked(conn, &claims.jti, now)?;
    if updated == 0 && IssuedTokenRow::find(conn, &claims.jti)?.is_none() {
        // Never recorded (a client-credentials token): record it revoked.
        IssuedTokenRow {
            id: claims.jti.clone(),
            kind: "access_token".into(),
            client_id: claims.client_id.clone(),
            subject: claims.sub.clone(),
            issued_at: claims.iat,
            expires_at: claims.exp,
            revoked_at: Some(now),
            family_id: None,
            grant_id: claims.grant_id.clone(),
            parent_id: None,
        }
        .insert(conn)?;
    }
    if let Some(grant_id) = &claims.grant_id {
        audit::record(
            conn,
            now,
            &claims.client_id,
            "token.revoked",
            Some(grant_id),
            json!({"jti": claims.jti}),
        )?;
    }
    Ok(())
}

pub async fn revoke(
    State(app): State<AppState>,
    headers: HeaderMap,
    form: OAuthForm,
) -> Result<Response, OAuthError> {
    let client = client_auth::authenticate(&app, &headers, &form).await?;
    let token = form.required("token")?.to_string();
    let now = app.now();
    // Signature and issuer are checked; an expired token needs no revoking.
    let claims = app.verify_access_token(&token).ok();
    if token.len() <= MAX_TOKEN_LEN {
        let client_id = client.client_id.clone();
        app.db
            .transaction::<_, OAuthError, _>(move |c| {
                match claims {
                    Some(claims) if claims.client_id == client_id => revoke_access_token(c, &claims, now)?,
                    Some(_) => tracing::info!(client_id = %client_id, "revocation of another client's token ignored"),
                    None => {
                        if let Some(row) = RefreshTokenRow::find(c, &random::hash_hex(&token))? {
                            if row.client_id == client_id {
                                RefreshTokenRow::revoke_family(c, &row.family_id, now)?;
                                IssuedTokenRow::revoke_family(c, &row.family_id, now)?;
                            } else {
                                tracing::info!(client_id = %client_id, "revocation of another client's token ignored");
                            }
                        }
                    }
                }
                Ok(())
            })
            .await?;
    }
    let mut response = StatusCode::OK.into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}
