//! The `refresh_token` grant (RFC 6749 §6) with rotation and reuse detection
//! (RFC 9700 §4.14.2): every use returns a new refresh token; presenting a used
//! one revokes its whole family. Tokens are bound to their client, end with the
//! user's account or the app consent, and have idle and absolute lifetimes.
//! Parameters: `refresh_token`, `scope` (optional, within the original).
//! Flow: parse → `rotate` (the transaction: claim, read, `decide_rotation`,
//! write) → sign.
//! (Over 300 lines: more than half is the unit tests of the decision, kept beside it.)

use super::audience;
use super::delegated_session::resume;
use super::scope;
use super::token_response::TokenResponse;
use super::user_tokens::{Grant, UserTokens, revoke_family};
use crate::app::AppState;
use crate::clients::Client;
use crate::config::{AGENT_SCOPE, Settings};
use crate::digest;
use crate::error::OAuthError;
use crate::store::app_consents::AppConsentRow;
use crate::store::refresh_tokens::RefreshTokenRow;
use crate::store::users::UserRow;
use crate::store::{AnyConnection, TxError};
use crate::web::form::{OAuthForm, Parameters};

pub const PARAMETERS: Parameters = Parameters {
    single: &["refresh_token", "scope"],
    repeatable: &["resource"],
};

enum Rotation {
    Issued(Box<UserTokens>),
    Replayed,
    Unknown,
}

struct Presented {
    token_id: String,
    scope: Option<Vec<String>>,
    audiences: Vec<String>,
}

pub async fn grant(
    app: &AppState,
    client: &Client,
    form: &OAuthForm,
) -> Result<TokenResponse, OAuthError> {
    let presented = Presented {
        token_id: digest::hash_hex(form.required("refresh_token")?),
        scope: form.single("scope")?.map(scope::parse).transpose()?,
        audiences: audience::resolve(form, &client.audiences, &app.default_audience)?,
    };
    let now = app.now();
    let (app_ref, client) = (app.clone(), client.clone());
    let outcome = app
        .db
        .transaction(move |c| {
            rotate(
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
        Rotation::Issued(tokens) => tokens.respond(&app.keys.snapshot(), &app.issuer),
        Rotation::Replayed => Err(OAuthError::invalid_grant(
            "the refresh token was already used",
        )),
        Rotation::Unknown => Err(OAuthError::invalid_grant(
            "the refresh token is unknown, expired or revoked",
        )),
    }
}

/// What stands for the user's consent to the app: their remembered app
/// consent, or, for a delegated session, the grant (checked by `delegated_session::resume`).
enum Consent<'a> {
    OfTheApp(Option<&'a AppConsentRow>),
    TheGrant,
}

impl<'a> From<Option<&'a AppConsentRow>> for Consent<'a> {
    fn from(consent: Option<&'a AppConsentRow>) -> Self {
        Self::OfTheApp(consent)
    }
}

/// The scopes the new tokens carry. Checks, in this order: this client's token,
/// an active user, consent still given (third-party apps), the narrowing asked
/// for within the family (§6), and the agent scope only for an agent.
fn decide_rotation<'a>(
    row: &RefreshTokenRow,
    client: &Client,
    user: Option<&UserRow>,
    consent: impl Into<Consent<'a>>,
    requested: Option<Vec<String>>,
) -> Result<Vec<String>, OAuthError> {
    if row.client_id != client.client_id {
        return Err(OAuthError::invalid_grant(
            "the refresh token belongs to another client",
        ));
    }
    let user = user
        .filter(|u| u.is_active())
        .ok_or_else(|| OAuthError::invalid_grant("the user is not active"))?;
    let family = row.scope_list();
    let consented = match consent.into() {
        Consent::TheGrant => true,
        Consent::OfTheApp(consent) => {
            client.first_party || consent.is_some_and(|c| c.covers(&family))
        }
    };
    if !consented {
        return Err(OAuthError::invalid_grant("the user withdrew consent"));
    }
    let scopes = match requested {
        Some(narrower) => scope::within(narrower, &family)?,
        None => family,
    };
    if scopes.iter().any(|s| s == AGENT_SCOPE) && !user.is_agent {
        return Err(OAuthError::invalid_grant("the user is no longer an agent"));
    }
    Ok(scopes)
}

fn rotate(
    conn: &mut AnyConnection,
    issuer: &str,
    settings: &Settings,
    client: &Client,
    presented: Presented,
    now: i64,
) -> Result<Rotation, TxError<OAuthError>> {
    let token_id = presented.token_id;
    if !RefreshTokenRow::claim(conn, &token_id, now)? {
        return match RefreshTokenRow::find(conn, &token_id)? {
            Some(row) if row.used_at.is_some() && row.client_id == client.client_id => {
                revoke_family(conn, &row.family_id, now)?;
                tracing::warn!(client_id = %row.client_id, "refresh token replayed: its family is revoked");
                Ok(Rotation::Replayed)
            }
            _ => Ok(Rotation::Unknown),
        };
    }
    let row = RefreshTokenRow::find(conn, &token_id)?.ok_or(TxError::Abort(
        OAuthError::invalid_grant("unknown refresh token"),
    ))?;
    let user = UserRow::find_by_sub(conn, &row.user_sub)?;
    // A delegated session's consent is its grant (DESIGN.md "Delegated sign-in"), read here.
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
    let consent = match (&user, client.first_party || delegation.is_some()) {
        (Some(user), false) => AppConsentRow::find_for_update(conn, &user.sub, &client.client_id)?,
        _ => None,
    };
    let scopes = decide_rotation(
        &row,
        client,
        user.as_ref(),
        match delegation {
            Some(_) => Consent::TheGrant,
            None => Consent::OfTheApp(consent.as_ref()),
        },
        presented.scope,
    )
    .map_err(TxError::Abort)?;
    let tokens = UserTokens::prepare(
        issuer,
        settings,
        now,
        Grant {
            client,
            user_sub: &row.user_sub,
            scopes,
            family_scopes: row.scopes.clone(),
            auth_time: row.auth_time,
            family_id: &row.family_id,
            family_expires_at: row.family_expires_at,
            audiences: presented.audiences,
            nonce: None,
            delegation,
        },
    );
    tokens.write(conn)?;
    Ok(Rotation::Issued(Box::new(tokens)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clients::GrantType;
    use crate::test_rows::{self, client, consent};

    fn token(scopes: &str) -> RefreshTokenRow {
        RefreshTokenRow {
            id: "t".into(),
            family_id: "f".into(),
            client_id: "app".into(),
            user_sub: "alice".into(),
            scopes: scopes.into(),
            auth_time: 0,
            issued_at: 0,
            expires_at: 100,
            family_expires_at: 1000,
            used_at: None,
            revoked_at: None,
            grant_id: None,
            actor_sub: None,
            sid: None,
        }
    }

    fn app(first_party: bool) -> Client {
        let app = client("app", &[GrantType::RefreshToken], &[]);
        Client {
            is_public: true,
            secret_hash: None,
            first_party,
            ..app
        }
    }

    fn person(is_agent: bool) -> UserRow {
        test_rows::person("alice", is_agent)
    }

    fn refused(result: Result<Vec<String>, OAuthError>) -> String {
        result.unwrap_err().error_description.into_owned()
    }

    #[test]
    fn a_refresh_keeps_the_family_scopes_or_narrows_within_them() {
        let (row, alice) = (token("openid read"), person(false));
        let all = decide_rotation(
            &row,
            &app(false),
            Some(&alice),
            Some(&consent("openid read")),
            None,
        );
        assert_eq!(all.unwrap(), vec!["openid", "read"]);
        let narrowed = decide_rotation(
            &row,
            &app(false),
            Some(&alice),
            Some(&consent("openid read")),
            Some(vec!["read".into()]),
        );
        assert_eq!(narrowed.unwrap(), vec!["read"]);
        let widened = decide_rotation(
            &row,
            &app(false),
            Some(&alice),
            Some(&consent("openid read")),
            Some(vec!["write".into()]),
        );
        assert!(widened.is_err());
    }

    #[test]
    fn withdrawn_consent_ends_a_third_party_refresh_but_not_a_first_party_one() {
        let (row, alice) = (token("openid read"), person(false));
        assert!(
            refused(decide_rotation(
                &row,
                &app(false),
                Some(&alice),
                Some(&consent("openid")),
                None
            ))
            .contains("withdrew")
        );
        assert!(
            refused(decide_rotation(&row, &app(false), Some(&alice), None, None))
                .contains("withdrew")
        );
        assert!(decide_rotation(&row, &app(true), Some(&alice), None, None).is_ok());
    }

    #[test]
    fn a_user_no_longer_an_agent_cannot_refresh_the_agent_scope() {
        let row = token("openid agent");
        assert!(
            refused(decide_rotation(
                &row,
                &app(true),
                Some(&person(false)),
                None,
                None
            ))
            .contains("no longer an agent")
        );
        assert!(decide_rotation(&row, &app(true), Some(&person(true)), None, None).is_ok());
    }

    #[test]
    fn another_clients_token_is_refused_before_the_user_is_looked_at() {
        let other = Client {
            client_id: "other".into(),
            ..app(true)
        };
        assert!(
            refused(decide_rotation(&token("openid"), &other, None, None, None))
                .contains("another client")
        );
        assert!(
            refused(decide_rotation(
                &token("openid"),
                &app(true),
                None,
                None,
                None
            ))
            .contains("not active")
        );
    }
}
