//! The audit trail: every grant decision, exchange, introspection of a delegated
//! token, revocation and sign-in, appended in the transaction that made the
//! change, chained under a key derived from the key-encryption key so that
//! tampering shows (`behalf audit verify`, docs/security.md N6).

mod action;
mod chain;
mod deferred;
mod rekey;

pub use action::Action;
pub use chain::{ChainReport, FIRST_KEYED_ERA, chain_key, verify};
pub use deferred::Deferred;
pub use rekey::{Rekeyed, rekey};

use crate::store::audit_events::{self, PendingEvent};
use crate::store::introspection_marks::IntrospectionMark;
use crate::store::{AnyConnection, StoreError};
use serde_json::Value;

/// Records one event. `subject` is what it is about (a grant id, a user's sub)
/// and is what the consent screen reads a grant's activity by.
pub fn record(
    conn: &mut AnyConnection,
    now: i64,
    actor: &str,
    action: Action,
    subject: Option<&str>,
    detail: Value,
) -> Result<(), StoreError> {
    audit_events::append(
        conn,
        now,
        actor,
        action.as_str(),
        subject,
        &detail.to_string(),
    )
}

/// An event for `Deferred`, written after the answer.
pub fn pending(
    now: i64,
    actor: &str,
    action: Action,
    subject: Option<&str>,
    detail: Value,
) -> PendingEvent {
    PendingEvent::new(
        now,
        actor.to_string(),
        action.as_str(),
        subject.map(str::to_string),
        detail,
    )
}

/// An introspection of token `jti` by `client_id` for `Deferred`: written at
/// most once per token, client and minute (docs/security.md L9). `agent`, the
/// token's `act.sub`, is kept so that the grant's activity can name them.
pub fn introspected(
    now: i64,
    client_id: &str,
    grant_id: &str,
    jti: &str,
    agent: Option<&str>,
) -> PendingEvent {
    let mut detail = serde_json::json!({"jti": jti});
    if let Some(agent) = agent {
        detail["agent"] = agent.into();
    }
    PendingEvent {
        once: Some(IntrospectionMark::new(jti, client_id, now)),
        ..pending(
            now,
            client_id,
            Action::TokenIntrospected,
            Some(grant_id),
            detail,
        )
    }
}
