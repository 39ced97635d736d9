//! The tokens a user's sign-in yields, shared by the `authorization_code` and
//! `refresh_token` grants: an RFC 9068 access token (its `jti` recorded with the
//! family, so a replay can end it), a rotated refresh token for clients allowed
//! one, and an ID token when `openid` was granted. Rows are prepared before the
//! grant's transaction, written inside it, and signed after it commits.
//! A delegated session (`Delegation`: an agent signed in to the app as the
//! user under a grant) adds `act`, `grant_id` and `sid`, and no token or
//! family outlives the grant (DESIGN.md "Delegated sign-in into any OIDC app").
//! The ID token is signed with the client's registered algorithm (OIDC Dynamic
//! Client Registration 1.0 §2 `id_token_signed_response_alg`).

use super::scope;
use super::token_response::TokenResponse;
use crate::clients::{Client, GrantType};
use crate::config::Settings;
use crate::digest;
use crate::error::OAuthError;
use crate::random;
use crate::store::issued_tokens::{IssuedTokenRow, TokenKind};
use crate::store::refresh_tokens::RefreshTokenRow;
use crate::store::{AnyConnection, StoreError};
use crate::tokens::access_token::{self, AccessTokenClaims, Actor, Audience};
use crate::tokens::id_token::{self, IdTokenClaims};
use crate::tokens::keyring::KeySet;
use crate::tokens::signing_key::Algorithm;

/// Ends a code's or a refresh-token family's tokens: its refresh tokens and the
/// access tokens issued from it (a replay, or the client revoking one of them).
pub fn revoke_family(
    conn: &mut AnyConnection,
    family_id: &str,
    now: i64,
) -> Result<(), StoreError> {
    RefreshTokenRow::revoke_family(conn, family_id, now)?;
    IssuedTokenRow::revoke_family(conn, family_id, now)?;
    Ok(())
}

pub struct UserTokens {
    claims: AccessTokenClaims,
    access_record: IssuedTokenRow,
    refresh: Option<(String, RefreshTokenRow)>,
    scopes: Vec<String>,
    nonce: Option<String>,
    sid: Option<String>,
    id_token_alg: Algorithm,
}

/// An agent acting as the user in an app, under a grant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delegation {
    pub grant_id: String,
    pub actor_sub: String,
    /// The delegated session in the app; `None` for a program agent's CIBA tokens.
    pub sid: Option<String>,
    /// The grant's `expires_at`: nothing issued lives longer.
    pub expires_at: i64,
}

pub struct Grant<'a> {
    pub client: &'a Client,
    pub user_sub: &'a str,
    pub scopes: Vec<String>,
    /// Scopes the refresh token keeps (RFC 6749 §6: a narrowed refresh does not narrow the family).
    pub family_scopes: String,
    pub auth_time: i64,
    pub family_id: &'a str,
    pub family_expires_at: i64,
    pub audiences: Vec<String>,
    pub nonce: Option<String>,
    /// `Some` for a delegated session.
    pub delegation: Option<Delegation>,
}

impl UserTokens {
    pub fn prepare(issuer: &str, settings: &Settings, now: i64, grant: Grant<'_>) -> Self {
        let ttl = settings.access_token_ttl_seconds;
        let delegation = grant.delegation.as_ref();
        let until = delegation.map_or(i64::MAX, |d| d.expires_at);
        let claims = AccessTokenClaims {
            iss: issuer.to_string(),
            sub: grant.user_sub.to_string(),
            aud: Audience::from_list(grant.audiences),
            client_id: grant.client.client_id.clone(),
            scope: scope::join(&grant.scopes),
            iat: now,
            exp: (now + ttl).min(until),
            nbf: None,
            jti: random::identifier(),
            auth_time: Some(grant.auth_time),
            act: delegation.map(|d| Actor {
                sub: d.actor_sub.clone(),
                iss: None,
            }),
            grant_id: delegation.map(|d| d.grant_id.clone()),
        };
        let access_record = IssuedTokenRow {
            id: claims.jti.clone(),
            kind: TokenKind::AccessToken.as_str().into(),
            client_id: grant.client.client_id.clone(),
            subject: grant.user_sub.to_string(),
            issued_at: now,
            expires_at: claims.exp,
            revoked_at: None,
            family_id: Some(grant.family_id.to_string()),
            grant_id: delegation.map(|d| d.grant_id.clone()),
            parent_id: None,
        };
        let family_expires_at = grant.family_expires_at.min(until);
        let refresh = grant.client.allows_grant(GrantType::RefreshToken).then(|| {
            let token = random::secret();
            let row = RefreshTokenRow {
                id: digest::hash_hex(&token),
                family_id: grant.family_id.to_string(),
                client_id: grant.client.client_id.clone(),
                user_sub: grant.user_sub.to_string(),
                scopes: grant.family_scopes.clone(),
                auth_time: grant.auth_time,
                issued_at: now,
                expires_at: (now + settings.refresh_token_idle_seconds).min(family_expires_at),
                family_expires_at,
                used_at: None,
                revoked_at: None,
                grant_id: delegation.map(|d| d.grant_id.clone()),
                actor_sub: delegation.map(|d| d.actor_sub.clone()),
                sid: delegation.and_then(|d| d.sid.clone()),
            };
            (token, row)
        });
        Self {
            claims,
            access_record,
            refresh,
            scopes: grant.scopes,
            nonce: grant.nonce,
            sid: grant.delegation.and_then(|d| d.sid),
            id_token_alg: grant.client.id_token_alg,
        }
    }

    /// Writes the records; call inside the grant's transaction.
    pub fn write(&self, conn: &mut AnyConnection) -> Result<(), StoreError> {
        self.access_record.insert(conn)?;
        if let Some((_, row)) = &self.refresh {
            row.insert(conn)?;
        }
        Ok(())
    }

    /// Signs the tokens; call after the transaction committed.
    pub fn respond(self, keys: &KeySet, issuer: &str) -> Result<TokenResponse, OAuthError> {
        let access = access_token::issue(keys, &self.claims)
            .map_err(|_| OAuthError::server_error("no access-token signing key"))?;
        let id_token = if self.scopes.iter().any(|s| s == "openid") {
            let claims = IdTokenClaims {
                iss: issuer.to_string(),
                sub: self.claims.sub.clone(),
                aud: self.claims.client_id.clone(),
                exp: self.claims.exp,
                iat: self.claims.iat,
                auth_time: self.claims.auth_time.unwrap_or(self.claims.iat),
                nonce: self.nonce,
                at_hash: id_token::at_hash(&access),
                azp: self.claims.client_id.clone(),
                act: self.claims.act.clone(),
                grant_id: self.claims.grant_id.clone(),
                sid: self.sid,
            };
            Some(
                id_token::sign(keys, self.id_token_alg, &claims)
                    .ok_or_else(|| OAuthError::server_error("no ID-token signing key"))?,
            )
        } else {
            None
        };
        Ok(TokenResponse {
            access_token: access,
            issued_token_type: None,
            token_type: "Bearer",
            expires_in: self.claims.exp - self.claims.iat,
            scope: self.claims.scope,
            refresh_token: self.refresh.map(|(token, _)| token),
            id_token,
        })
    }
}
