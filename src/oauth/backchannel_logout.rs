//! OpenID Connect Back-Channel Logout 1.0 for delegated sessions (docs/security.md
//! M3): when a grant ends (by the user, the agent, a disabled user or its
//! expiry), each app an agent signed in to under it that registered a
//! `backchannel_logout_uri` (§2.2) is sent a logout token (§2.4) in a POST,
//! form-encoded as `logout_token` (§2.5), until it answers 200 (§2.8).
//!
//! `enqueue` writes the outbox row in the transaction that records the
//! session, due when the grant expires; ending the grant early makes it due
//! at once (`delegation::grants::end`). `request_body` signs the token at each
//! attempt with the ID-token key of the app's registered algorithm (§2.4: the
//! keys of its ID tokens; RS256 unless it registered ES256), so the app
//! verifies it against the JWKS as it verifies ID tokens (§2.6): header
//! `typ: logout+jwt`; `iss`; `aud` the
//! app's `client_id`; `iat`; `exp` two minutes later; `jti` the outbox row's
//! id, the same on every retry so the app can drop a repeat; `sub` the user
//! and `sid` the session's (as in its ID token); `events` with the
//! back-channel logout member; never a `nonce` (§2.4).

use crate::random;
use crate::store::delegated_sessions::DelegatedSessionRow;
use crate::store::outbox::{OutboxKind, OutboxRow};
use crate::store::{AnyConnection, StoreError};
use crate::tokens::jws;
use crate::tokens::keyring::KeySet;
use crate::tokens::signing_key::{Algorithm, Purpose};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// The member of `events` that makes a JWT a logout token (§2.4).
pub const EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";
/// The JWT `typ` header of a logout token (§2.4, RFC 8725 §3.11).
pub const TYP: &str = "logout+jwt";
/// Seconds a logout token is valid from its `iat`.
pub const LIFETIME: i64 = 120;
/// The body's media type (§2.5).
pub const CONTENT_TYPE: &str = "application/x-www-form-urlencoded";

/// What an outbox row of this kind holds: the session, never a token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndedSession {
    pub sid: String,
    /// The user the agent acted as.
    pub sub: String,
    /// The app's `client_id`.
    pub aud: String,
}

/// Queues the logout of `session` at `destination`, due at `due_at` (when its
/// grant expires). Call in the transaction that records the session.
pub fn enqueue(
    conn: &mut AnyConnection,
    session: &DelegatedSessionRow,
    destination: &str,
    due_at: i64,
    now: i64,
) -> Result<(), StoreError> {
    let payload = EndedSession {
        sid: session.sid.clone(),
        sub: session.subject_sub.clone(),
        aud: session.client_id.clone(),
    };
    OutboxRow::new(
        random::identifier(),
        OutboxKind::BackchannelLogout,
        destination,
        serde_json::to_string(&payload).expect("the payload serializes"),
        Some(&session.grant_id),
        due_at,
        now,
    )
    .insert(conn)
}

/// The logout token's claims (§2.4) for `session`, issued at `now`.
pub fn claims(issuer: &str, jti: &str, session: &EndedSession, now: i64) -> Value {
    json!({
        "iss": issuer,
        "aud": session.aud,
        "iat": now,
        "exp": now + LIFETIME,
        "jti": jti,
        "sub": session.sub,
        "sid": session.sid,
        "events": { EVENT: {} },
    })
}

/// The session an outbox row of this kind holds, or why it cannot be read.
pub fn ended_session(payload: &str) -> Result<EndedSession, String> {
    serde_json::from_str(payload).map_err(|e| format!("unreadable payload: {e}"))
}

/// The form body `logout_token=...` for outbox row `jti` about `session`,
/// signed now with the ID-token key of `alg` (the app's ID-token algorithm);
/// an error in words (never with the token) when it cannot be made.
pub fn request_body(
    keys: &KeySet,
    issuer: &str,
    jti: &str,
    session: &EndedSession,
    alg: Algorithm,
    now: i64,
) -> Result<String, String> {
    let key = keys
        .signing(Purpose::IdToken(alg), now)
        .ok_or("no ID-token signing key")?;
    let token = jws::sign(key, TYP, &claims(issuer, jti, session, now));
    Ok(form_urlencoded::Serializer::new(String::new())
        .append_pair("logout_token", &token)
        .finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session() -> EndedSession {
        EndedSession {
            sid: "s1".into(),
            sub: "alice-sub".into(),
            aud: "shop".into(),
        }
    }

    #[test]
    fn a_logout_token_names_the_app_the_user_and_the_session_and_never_a_nonce() {
        let claims = claims("https://id.example", "row-1", &session(), 1000);
        assert_eq!(
            claims,
            json!({
                "iss": "https://id.example",
                "aud": "shop",
                "iat": 1000,
                "exp": 1120,
                "jti": "row-1",
                "sub": "alice-sub",
                "sid": "s1",
                "events": {"http://schemas.openid.net/event/backchannel-logout": {}},
            })
        );
        assert!(claims.get("nonce").is_none());
    }

    #[test]
    fn the_payload_holds_the_session_and_reads_back() {
        let text = serde_json::to_string(&session()).unwrap();
        assert_eq!(text, r#"{"sid":"s1","sub":"alice-sub","aud":"shop"}"#);
        assert_eq!(ended_session(&text).unwrap(), session());
    }

    #[test]
    fn without_an_id_token_key_or_with_a_broken_payload_nothing_is_signed() {
        let keys = KeySet::default();
        for alg in [Algorithm::RS256, Algorithm::ES256] {
            assert_eq!(
                request_body(&keys, "https://id.example", "row-1", &session(), alg, 1000),
                Err("no ID-token signing key".into())
            );
        }
        assert!(
            ended_session("{")
                .unwrap_err()
                .starts_with("unreadable payload")
        );
    }
}
