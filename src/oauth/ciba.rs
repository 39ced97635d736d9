//! The CIBA grant at `POST /token` (OpenID CIBA Core 1.0 §10.1, §11): a
//! program agent asks for the tokens of its backchannel authentication
//! request (`auth_req_id`). Each poll is recorded; one sooner than the
//! interval is `slow_down` and the interval grows by 5 seconds (§11). Until
//! the user answers: `authorization_pending`; declined or withdrawn:
//! `access_denied`; unanswered in time: `expired_token`. Once approved, the
//! tokens are issued once (a conditional update: of two polls at once one
//! gets them, the other `invalid_grant`): an access token for the user with
//! `act: {"sub": <client_id>}` and `grant_id`, and an ID token with the same
//! `act`, neither outliving the grant (docs/contract.md "Agents that are
//! programs"). Ended access is `invalid_grant`.

use super::token_response::TokenResponse;
use super::user_tokens::{Delegation, Grant, UserTokens};
use crate::app::AppState;
use crate::audit::{self, Action};
use crate::clients::Client;
use crate::config::Settings;
use crate::digest;
use crate::error::{ErrorCode, OAuthError};
use crate::random;
use crate::store::access_requests::{AccessRequestRow, RequestState};
use crate::store::ciba_requests::CibaRequestRow;
use crate::store::events::EventRow;
use crate::store::grants::GrantRow;
use crate::store::{AnyConnection, TxError};
use crate::web::form::{OAuthForm, Parameters};
use serde_json::json;

pub const PARAMETERS: Parameters = Parameters {
    single: &["auth_req_id"],
    repeatable: &[],
};

/// How much longer a client must wait after polling too soon (§11).
pub const SLOW_DOWN_SECONDS: i32 = 5;

/// What a poll at `now` finds (pure: `decide_poll`).
#[derive(Debug, PartialEq, Eq)]
pub enum Poll {
    /// Sooner than the interval: the interval it must keep from now on.
    TooSoon {
        interval: i32,
    },
    Pending,
    Denied,
    Expired,
    /// The tokens were issued already, or the access has ended: in words.
    Gone(&'static str),
    /// Approved, and the grant still stands: issue.
    Issue,
}

/// What the poll of `row` at `now` finds, its request and grant as read.
pub fn decide_poll(
    row: &CibaRequestRow,
    request: &AccessRequestRow,
    grant: Option<&GrantRow>,
    now: i64,
) -> Poll {
    if row.issued_at.is_some() {
        return Poll::Gone("the tokens of this auth_req_id were already issued");
    }
    if row
        .polled_at
        .is_some_and(|at| now < at + i64::from(row.poll_interval))
    {
        return Poll::TooSoon {
            interval: row.poll_interval.saturating_add(SLOW_DOWN_SECONDS),
        };
    }
    match request.state() {
        RequestState::Pending if now < request.expires_at => Poll::Pending,
        RequestState::Pending => Poll::Expired,
        RequestState::Denied | RequestState::Cancelled => Poll::Denied,
        RequestState::Approved => match grant {
            Some(g) if g.is_active(now) => Poll::Issue,
            _ => Poll::Gone("the access the user gave has ended"),
        },
    }
}

fn refusal(poll: &Poll) -> OAuthError {
    match poll {
        Poll::TooSoon { interval } => OAuthError::new(
            ErrorCode::SlowDown,
            format!("polled too soon: wait {interval} seconds between token requests"),
        ),
        Poll::Pending => OAuthError::new(
            ErrorCode::AuthorizationPending,
            "the user has not answered yet",
        ),
        Poll::Denied => OAuthError::new(ErrorCode::AccessDenied, "the user declined the request"),
        Poll::Expired => OAuthError::new(
            ErrorCode::ExpiredToken,
            "the request expired before the user answered",
        ),
        Poll::Gone(why) => OAuthError::invalid_grant(*why),
        Poll::Issue => OAuthError::server_error("an approved poll is not a refusal"),
    }
}

pub async fn grant(
    app: &AppState,
    client: &Client,
    form: &OAuthForm,
) -> Result<TokenResponse, OAuthError> {
    let hash = digest::hash_hex(form.required("auth_req_id")?);
    let (now, issuer) = (app.now(), app.issuer.clone());
    let (settings, client) = (app.settings.clone(), client.clone());
    let issued = app
        .db
        .transaction(move |c| poll(c, &issuer, &settings, &client, &hash, now))
        .await??;
    issued.respond(&app.keys.snapshot(), &app.issuer)
}

/// The transaction: the poll recorded (so that a refusal still counts it),
/// then, when it issues, the tokens claimed once and written.
fn poll(
    conn: &mut AnyConnection,
    issuer: &str,
    settings: &Settings,
    client: &Client,
    hash: &str,
    now: i64,
) -> Result<Result<UserTokens, OAuthError>, TxError<OAuthError>> {
    let unknown = || TxError::Abort(OAuthError::invalid_grant("unknown auth_req_id"));
    let row = CibaRequestRow::find(conn, hash)?
        .filter(|r| r.client_id == client.client_id)
        .ok_or_else(unknown)?;
    let request = AccessRequestRow::find(conn, &row.request_id)?.ok_or_else(unknown)?;
    let grant = match &request.grant_id {
        Some(id) => GrantRow::find(conn, id)?,
        None => None,
    };
    let found = decide_poll(&row, &request, grant.as_ref(), now);
    let interval = match found {
        Poll::TooSoon { interval } => interval,
        _ => row.poll_interval,
    };
    CibaRequestRow::polled(conn, hash, interval, now)?;
    let (Poll::Issue, Some(grant)) = (&found, grant) else {
        return Ok(Err(refusal(&found)));
    };
    if !CibaRequestRow::issue(conn, hash, now)? {
        return Ok(Err(OAuthError::invalid_grant(
            "the tokens of this auth_req_id were already issued",
        )));
    }
    let mut scopes = vec!["openid".to_string()];
    scopes.extend(grant.scopes.split_whitespace().map(str::to_string));
    let family_id = random::identifier();
    let tokens = UserTokens::prepare(
        issuer,
        settings,
        now,
        Grant {
            client,
            user_sub: &grant.subject_sub,
            family_scopes: scopes.join(" "),
            scopes,
            auth_time: request.decided_at.unwrap_or(now),
            family_id: &family_id,
            family_expires_at: grant.expires_at,
            audiences: grant.audience_list(),
            nonce: None,
            delegation: Some(Delegation {
                grant_id: grant.id.clone(),
                actor_sub: client.client_id.clone(),
                sid: None,
                expires_at: grant.expires_at,
            }),
        },
    );
    tokens.write(conn)?;
    audit::record(
        conn,
        now,
        &client.client_id,
        Action::TokenExchanged,
        Some(&grant.id),
        json!({"client": client.client_id, "scope": grant.scopes, "ciba": true}),
    )?;
    EventRow::grant_used(conn, &grant, now)?;
    Ok(Ok(tokens))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_rows;

    fn ciba(polled_at: Option<i64>, issued_at: Option<i64>) -> CibaRequestRow {
        CibaRequestRow {
            auth_req_id_hash: "h".into(),
            request_id: "r1".into(),
            client_id: "assistant".into(),
            poll_interval: 5,
            polled_at,
            issued_at,
            sealed_auth_req_id: None,
            sealed_notification_token: None,
            created_at: 0,
        }
    }

    fn request(state: RequestState) -> AccessRequestRow {
        AccessRequestRow {
            status: state.as_str().into(),
            expires_at: 100,
            grant_id: Some("g1".into()),
            ..test_rows::pending_request("r1", "alice", "read", 100)
        }
    }

    #[test]
    fn a_poll_sooner_than_the_interval_slows_the_client_down_by_five_seconds() {
        let pending = request(RequestState::Pending);
        assert_eq!(
            decide_poll(&ciba(Some(10), None), &pending, None, 14),
            Poll::TooSoon { interval: 10 }
        );
        assert_eq!(
            decide_poll(&ciba(Some(10), None), &pending, None, 15),
            Poll::Pending
        );
    }

    #[test]
    fn each_answer_reads_as_ciba_says_it() {
        let g = test_rows::grant("read", "api");
        let at = |state, now| decide_poll(&ciba(None, None), &request(state), Some(&g), now);
        assert_eq!(at(RequestState::Pending, 99), Poll::Pending);
        assert_eq!(at(RequestState::Pending, 100), Poll::Expired);
        assert_eq!(at(RequestState::Denied, 10), Poll::Denied);
        assert_eq!(at(RequestState::Cancelled, 10), Poll::Denied);
        assert_eq!(at(RequestState::Approved, 10), Poll::Issue);
    }

    #[test]
    fn tokens_are_issued_once_and_never_after_the_grant_ended() {
        let approved = request(RequestState::Approved);
        let ended = GrantRow {
            revoked_at: Some(5),
            ..test_rows::grant("read", "api")
        };
        assert!(matches!(
            decide_poll(&ciba(None, None), &approved, Some(&ended), 10),
            Poll::Gone(_)
        ));
        let live = test_rows::grant("read", "api");
        assert!(matches!(
            decide_poll(&ciba(None, Some(3)), &approved, Some(&live), 10),
            Poll::Gone(_)
        ));
    }
}
