//! Withdrawing an app's consent (`POST /account/apps/{client_id}/withdraw`,
//! docs/contract.md "Consent screen"): in one transaction the remembered
//! consent is forgotten, the user's refresh tokens and own access tokens of
//! that app are revoked, its unredeemed codes deleted, and the withdrawal
//! recorded in the audit trail. Tokens minted under a grant are not the app's
//! own and end with their grant. An app the user never allowed changes nothing.

use crate::audit::{self, Action};
use crate::store::app_consents::AppConsentRow;
use crate::store::authorization_codes::AuthorizationCodeRow;
use crate::store::issued_tokens::IssuedTokenRow;
use crate::store::refresh_tokens::RefreshTokenRow;
use crate::store::{AnyConnection, StoreError};
use serde_json::json;

/// What a withdrawal ended.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Withdrawn {
    pub consent: bool,
    pub refresh_tokens: usize,
    pub access_tokens: usize,
}

/// Withdraws `user_sub`'s consent to `client_id`; call inside one write transaction.
pub fn withdraw(
    conn: &mut AnyConnection,
    user_sub: &str,
    client_id: &str,
    now: i64,
) -> Result<Withdrawn, StoreError> {
    if AppConsentRow::delete(conn, user_sub, client_id)? == 0 {
        return Ok(Withdrawn::default());
    }
    // Codes first: on PostgreSQL a redemption under way holds its code, so this
    // waits for it and the revocations below then see the tokens it issued.
    AuthorizationCodeRow::delete_unredeemed(conn, user_sub, client_id)?;
    let refresh_tokens = RefreshTokenRow::revoke_user_client(conn, user_sub, client_id, now)?;
    let access_tokens = IssuedTokenRow::revoke_user_client(conn, user_sub, client_id, now)?;
    audit::record(
        conn,
        now,
        user_sub,
        Action::AppConsentWithdrawn,
        Some(user_sub),
        json!({
            "client_id": client_id,
            "refresh_tokens": refresh_tokens,
            "access_tokens": access_tokens,
        }),
    )?;
    Ok(Withdrawn {
        consent: true,
        refresh_tokens,
        access_tokens,
    })
}
