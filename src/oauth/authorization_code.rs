//! The `authorization_code` grant (RFC 6749 §4.1.3, RFC 7636 §4.6).
//! Parameters: `code`, `redirect_uri` (required when the request carried one;
//! we always bind it), `code_verifier`, `resource` (optional).
//! The code is claimed by a conditional update, so of two concurrent redemptions
//! exactly one wins; a second redemption revokes what the first one issued
//! (RFC 6749 §4.1.2, RFC 9700 §4.2.4). Flow: parse → `redeem` (the transaction:
//! claim, read, `decide_redemption`, write) → sign.

use super::audience;
use super::delegated_session::resume;
use super::pkce;
use super::token_response::TokenResponse;
use super::user_tokens::{Grant, UserTokens, revoke_family};
use crate::app::AppState;
use crate::clients::Client;
use crate::config::Settings;
use crate::digest;
use crate::error::OAuthError;
use crate::store::authorization_codes::AuthorizationCodeRow;
use crate::store::users::UserRow;
use crate::store::{AnyConnection, TxError};
use crate::web::form::{OAuthForm, Parameters};

pub const PARAMETERS: Parameters = Parameters {
    single: &["code", "redirect_uri", "code_verifier"],
    repeatable: &["resource"],
};

enum Redemption {
    Issued(Box<UserTokens>),
    Replayed,
    Unknown,
}

/// What the client presented with the code.
struct Presented {
    code_id: String,
    redirect_uri: Option<String>,
    verifier: String,
    audiences: Vec<String>,
}

pub async fn grant(
    app: &AppState,
    client: &Client,
    form: &OAuthForm,
) -> Result<TokenResponse, OAuthError> {
    let presented = Presented {
        code_id: digest::hash_hex(form.required("code")?),
        redirect_uri: form.single("redirect_uri")?.map(str::to_string),
        verifier: form
            .single("code_verifier")?
            .ok_or_else(|| OAuthError::invalid_request("code_verifier is required (PKCE)"))?
            .to_string(),
        audiences: audience::resolve(form, &client.audiences, &app.default_audience)?,
    };
    let now = app.now();
    let (app_ref, client) = (app.clone(), client.clone());
    let outcome = app
        .db
        .transaction(move |c| {
            redeem(
                c,
                &app_ref.issuer,
                &app_ref.settings,
                &client,
                presented,
                now,
            )
        })
        .await?;
    match outcome {
        Redemption::Issued(tokens) => tokens.respond(&app.keys.snapshot(), &app.issuer),
        Redemption::Replayed => Err(OAuthError::invalid_grant("the code was already used")),
        Redemption::Unknown => Err(OAuthError::invalid_grant("the code is unknown or expired")),
    }
}

/// Checks, in this order, that the code was issued to this client, for this
/// redirect URI and PKCE challenge, and that its user is still active.
fn decide_redemption(
    row: &AuthorizationCodeRow,
    client: &Client,
    redirect_uri: Option<&str>,
    verifier: &str,
    user: Option<UserRow>,
) -> Result<UserRow, OAuthError> {
    if row.client_id != client.client_id {
        return Err(OAuthError::invalid_grant(
            "the code was issued to another client",
        ));
    }
    if redirect_uri != Some(row.redirect_uri.as_str()) {
        return Err(OAuthError::invalid_grant(
            "redirect_uri does not match the authorization request",
        ));
    }
    if !pkce::verify(verifier, &row.code_challenge) {
        return Err(OAuthError::invalid_grant(
            "code_verifier does not match the code_challenge",
        ));
    }
    user.filter(UserRow::is_active)
        .ok_or_else(|| OAuthError::invalid_grant("the user is not active"))
}

fn redeem(
    conn: &mut AnyConnection,
    issuer: &str,
    settings: &Settings,
    client: &Client,
    presented: Presented,
    now: i64,
) -> Result<Redemption, TxError<OAuthError>> {
    let code_id = presented.code_id;
    // The write comes first: it takes the lock and settles who redeems.
    if !AuthorizationCodeRow::claim(conn, &code_id, now)? {
        return match AuthorizationCodeRow::find(conn, &code_id)? {
            Some(row) if row.redeemed_at.is_some() => {
                revoke_family(conn, &code_id, now)?;
                tracing::warn!(client_id = %row.client_id, "authorization code replayed: its tokens are revoked");
                Ok(Redemption::Replayed)
            }
            _ => Ok(Redemption::Unknown),
        };
    }
    let row = AuthorizationCodeRow::find(conn, &code_id)?
        .ok_or(TxError::Abort(OAuthError::invalid_grant("unknown code")))?;
    let user = UserRow::find_by_sub(conn, &row.user_sub)?;
    // A refusal rolls the claim back: the code stays usable by its real client.
    let user = decide_redemption(
        &row,
        client,
        presented.redirect_uri.as_deref(),
        &presented.verifier,
        user,
    )
    .map_err(TxError::Abort)?;
    let delegation = resume(
        conn,
        (
            row.grant_id.as_deref(),
            row.actor_sub.as_deref(),
            row.sid.as_deref(),
        ),
        &row.client_id,
        now,
    )?
    .map_err(TxError::Abort)?;
    let tokens = UserTokens::prepare(
        issuer,
        settings,
        now,
        Grant {
            client,
            user_sub: &user.sub,
            family_scopes: row.scopes.clone(),
            scopes: row.scope_list(),
            auth_time: row.auth_time,
            family_id: &code_id,
            family_expires_at: now + settings.refresh_token_absolute_seconds,
            audiences: presented.audiences,
            nonce: row.nonce.clone(),
            delegation,
        },
    );
    tokens.write(conn)?;
    Ok(Redemption::Issued(Box::new(tokens)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clients::GrantType;
    use crate::test_rows::{self, person};

    // RFC 7636 Appendix B.
    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    fn code() -> AuthorizationCodeRow {
        AuthorizationCodeRow {
            id: "c".into(),
            client_id: "app".into(),
            redirect_uri: "https://app.example/cb".into(),
            user_sub: "alice".into(),
            scopes: "openid".into(),
            nonce: None,
            code_challenge: CHALLENGE.into(),
            auth_time: 0,
            created_at: 0,
            expires_at: 60,
            redeemed_at: None,
            grant_id: None,
            actor_sub: None,
            sid: None,
        }
    }

    fn client(id: &str) -> Client {
        let app = test_rows::client(id, &[GrantType::AuthorizationCode], &[]);
        Client {
            is_public: true,
            secret_hash: None,
            ..app
        }
    }

    fn alice(disabled_at: Option<i64>) -> Option<UserRow> {
        Some(UserRow {
            disabled_at,
            ..person("alice", false)
        })
    }

    fn refused(result: Result<UserRow, OAuthError>) -> String {
        result.unwrap_err().error_description.into_owned()
    }

    #[test]
    fn the_right_client_uri_and_verifier_redeem_the_code_for_its_active_user() {
        let uri = Some("https://app.example/cb");
        assert!(decide_redemption(&code(), &client("app"), uri, VERIFIER, alice(None)).is_ok());
    }

    #[test]
    fn another_client_a_different_uri_a_wrong_verifier_or_a_disabled_user_are_refused_in_that_order()
     {
        let uri = Some("https://app.example/cb");
        assert!(
            refused(decide_redemption(
                &code(),
                &client("other"),
                None,
                "x",
                None
            ))
            .contains("another client")
        );
        assert!(
            refused(decide_redemption(&code(), &client("app"), None, "x", None))
                .contains("redirect_uri")
        );
        assert!(
            refused(decide_redemption(&code(), &client("app"), uri, "x", None))
                .contains("code_verifier")
        );
        assert!(
            refused(decide_redemption(
                &code(),
                &client("app"),
                uri,
                VERIFIER,
                alice(Some(1))
            ))
            .contains("not active")
        );
    }
}
