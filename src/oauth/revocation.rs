//! `POST /revoke` (RFC 7009): a client revokes its own access or refresh token.
//! Whatever `token_type_hint` says, both kinds are tried (§2.1). Revoking a
//! refresh token ends its family and the access tokens issued from it; since a
//! delegated token stays active only while the actor token that minted it does,
//! revoking an agent's token ends those too. Another client's token, or an
//! unknown one, is answered 200 and left alone (§2.2). A storage error is 503.

use super::client_auth;
use super::user_tokens::revoke_family;
use crate::app::AppState;
use crate::audit::{self, Action};
use crate::digest;
use crate::error::OAuthError;
use crate::store::issued_tokens::{IssuedTokenRow, TokenKind};
use crate::store::refresh_tokens::RefreshTokenRow;
use crate::store::{AnyConnection, StoreError};
use crate::tokens::access_token::AccessTokenClaims;
use crate::tokens::verifier::MAX_TOKEN_LEN;
use crate::web::form::OAuthForm;
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
        // Never recorded (a client-credentials token): record it revoked. A
        // concurrent revocation of the same token may record it first (L11).
        IssuedTokenRow {
            id: claims.jti.clone(),
            kind: TokenKind::AccessToken.as_str().into(),
            client_id: claims.client_id.clone(),
            subject: claims.sub.clone(),
            issued_at: claims.iat,
            expires_at: claims.exp,
            revoked_at: Some(now),
            family_id: None,
            grant_id: claims.grant_id.clone(),
            parent_id: None,
        }
        .insert_if_absent(conn)?;
    }
    if let Some(grant_id) = &claims.grant_id {
        audit::record(
            conn,
            now,
            &claims.client_id,
            Action::TokenRevoked,
            Some(grant_id),
            revoked_detail(claims),
        )?;
    }
    Ok(())
}

/// The `token.revoked` detail: the token, and the agent acting with it
/// (`act.sub`), whom the grant's activity names.
fn revoked_detail(claims: &AccessTokenClaims) -> serde_json::Value {
    let mut detail = json!({"jti": claims.jti});
    if let Some(act) = &claims.act {
        detail["agent"] = json!(act.sub);
    }
    detail
}

/// What a revocation request reaches (§2.1: both kinds are tried).
#[derive(Debug, PartialEq, Eq)]
enum Target {
    /// One of this client's access tokens.
    AccessToken,
    /// The family of one of this client's refresh tokens.
    RefreshFamily(String),
    /// Another client's token, or none we know: answered 200 and left alone (§2.2).
    Nothing,
}

/// `claims`: the token verified as one of our access tokens, if it is one;
/// `refresh_owner`: the client and family of the refresh token it is, if any.
fn decide_target(
    client_id: &str,
    claims: Option<&AccessTokenClaims>,
    refresh_owner: Option<(&str, &str)>,
) -> Target {
    match (claims, refresh_owner) {
        (Some(claims), _) if claims.client_id == client_id => Target::AccessToken,
        (None, Some((owner, family))) if owner == client_id => {
            Target::RefreshFamily(family.to_string())
        }
        _ => Target::Nothing,
    }
}

fn revoke_in_store(
    conn: &mut AnyConnection,
    client_id: &str,
    token: &str,
    claims: Option<AccessTokenClaims>,
    now: i64,
) -> Result<(), StoreError> {
    let refresh = match claims {
        None => RefreshTokenRow::find(conn, &digest::hash_hex(token))?,
        Some(_) => None,
    };
    let owner = refresh
        .as_ref()
        .map(|r| (r.client_id.as_str(), r.family_id.as_str()));
    match (decide_target(client_id, claims.as_ref(), owner), claims) {
        (Target::AccessToken, Some(claims)) => revoke_access_token(conn, &claims, now)?,
        (Target::RefreshFamily(family), _) => revoke_family(conn, &family, now)?,
        (_, Some(_)) => {
            tracing::info!(client_id = %client_id, "revocation of another client's token ignored");
        }
        _ if owner.is_some() => {
            tracing::info!(client_id = %client_id, "revocation of another client's token ignored");
        }
        _ => {}
    }
    Ok(())
}

pub async fn revoke(
    State(app): State<AppState>,
    headers: HeaderMap,
    form: OAuthForm,
) -> Result<Response, OAuthError> {
    let client = client_auth::authenticate(&app.clients, &headers, &form).await?;
    let token = form.required("token")?.to_string();
    let now = app.now();
    // Signature and issuer are checked; an expired token needs no revoking.
    let claims = app.verify_access_token(&token).ok();
    if token.len() <= MAX_TOKEN_LEN {
        let client_id = client.client_id.clone();
        app.db
            .transaction::<_, OAuthError, _>(move |c| {
                Ok(revoke_in_store(c, &client_id, &token, claims, now)?)
            })
            .await?;
    }
    let mut response = StatusCode::OK.into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokens::access_token::Audience;

    fn claims(client_id: &str) -> AccessTokenClaims {
        AccessTokenClaims {
            iss: "https://id.example".into(),
            sub: "alice".into(),
            aud: Audience::from_list(vec!["api".into()]),
            client_id: client_id.into(),
            scope: Some("read".into()),
            iat: 0,
            exp: 100,
            nbf: None,
            jti: "j".into(),
            auth_time: None,
            act: None,
            grant_id: None,
        }
    }

    #[test]
    fn a_client_revokes_its_own_access_token_and_its_own_refresh_family() {
        assert_eq!(
            decide_target("app", Some(&claims("app")), None),
            Target::AccessToken
        );
        assert_eq!(
            decide_target("app", None, Some(("app", "f1"))),
            Target::RefreshFamily("f1".into())
        );
    }

    #[test]
    fn another_clients_token_or_an_unknown_one_is_left_alone() {
        assert_eq!(
            decide_target("app", Some(&claims("other")), None),
            Target::Nothing
        );
        assert_eq!(
            decide_target("app", None, Some(("other", "f1"))),
            Target::Nothing
        );
        assert_eq!(decide_target("app", None, None), Target::Nothing);
    }
}
