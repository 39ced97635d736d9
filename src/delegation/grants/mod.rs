//! Grants, the recorded consent: created when a user approves a request or on
//! the user's own initiative (`give`), ended by the user, by the agent, or by
//! time (`end`). Ending one makes every token under it inactive at the next
//! check (`oauth::token_state`), on every instance, because that check reads the
//! grant. `build` and `record` are the one place a grant and its audit event are made.

mod end;
mod give;

pub use end::{decide_end, end, end_all_of_disabled};
pub use give::{GiveAccess, GiveField, GiveRefused, GiveTo, decide_give, give};

use crate::audit::{self, Action};
use crate::clock::rfc3339;
use crate::random;
use crate::store::grants::{EndedBy, GrantRow};
use crate::store::{AnyConnection, StoreError};
use serde::Serialize;
use serde_json::json;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantStatus {
    Active,
    Expired,
    Revoked,
}

impl GrantStatus {
    pub fn of(grant: &GrantRow, now: i64) -> Self {
        if grant.revoked_at.is_some() {
            Self::Revoked
        } else if now >= grant.expires_at {
            Self::Expired
        } else {
            Self::Active
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Expired => "expired",
            Self::Revoked => "revoked",
        }
    }
}

/// The grant as the API shows it (docs/contract.md "Access requests API").
#[derive(Debug, Serialize)]
pub struct GrantView {
    pub id: String,
    pub status: &'static str,
    pub subject: String,
    /// The named agent; `None` for a team grant.
    pub agent: Option<String>,
    /// The team whose agents may use it; `None` for a named agent.
    pub team: Option<String>,
    pub client_id: String,
    pub scope: String,
    pub audience: Vec<String>,
    pub apps: Vec<String>,
    pub reason: String,
    pub ticket: String,
    pub request_id: Option<String>,
    pub created_at: String,
    pub expires_at: String,
    pub revoked_at: Option<String>,
    pub revoked_by: Option<&'static str>,
}

pub fn view(grant: &GrantRow, now: i64) -> GrantView {
    GrantView {
        id: grant.id.clone(),
        status: GrantStatus::of(grant, now).as_str(),
        subject: grant.subject_sub.clone(),
        agent: grant.agent_sub.clone(),
        team: grant.team.clone(),
        client_id: grant.client_id.clone(),
        scope: grant.scopes.clone(),
        audience: grant.audience_list(),
        apps: grant.app_list(),
        reason: grant.reason.clone(),
        ticket: grant.ticket.clone(),
        request_id: grant.request_id.clone(),
        created_at: rfc3339(grant.created_at),
        expires_at: rfc3339(grant.expires_at),
        revoked_at: grant.revoked_at.map(rfc3339),
        revoked_by: grant.ended_by().map(EndedBy::as_str),
    }
}

/// What a new grant holds, from an approved request or the user's own form.
pub struct Granted<'a> {
    pub subject_sub: &'a str,
    /// Who may use it: a named agent, or any enabled agent of a team.
    pub grantee: Grantee<'a>,
    pub client_id: &'a str,
    pub scopes: &'a [String],
    pub audience: &'a str,
    pub reason: &'a str,
    pub ticket: &'a str,
    /// The request it answers; `None` when the user gave it unasked.
    pub request_id: Option<&'a str>,
    pub duration: i64,
    /// Delegated-sign-in apps it reaches (client ids).
    pub apps: &'a [String],
}

/// Who a grant is given to (DESIGN.md "People, agents and teams").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grantee<'a> {
    Agent(&'a str),
    Team(&'a str),
}

/// The row of a new grant starting `now`.
pub fn build(granted: Granted<'_>, now: i64) -> GrantRow {
    GrantRow {
        id: random::identifier(),
        subject_sub: granted.subject_sub.to_string(),
        agent_sub: match granted.grantee {
            Grantee::Agent(sub) => Some(sub.to_string()),
            Grantee::Team(_) => None,
        },
        team: match granted.grantee {
            Grantee::Team(team) => Some(team.to_string()),
            Grantee::Agent(_) => None,
        },
        apps: granted.apps.join(" "),
        client_id: granted.client_id.to_string(),
        scopes: granted.scopes.join(" "),
        audiences: granted.audience.to_string(),
        reason: granted.reason.to_string(),
        ticket: granted.ticket.to_string(),
        request_id: granted.request_id.map(str::to_string),
        created_at: now,
        expires_at: now + granted.duration,
        revoked_at: None,
        revoked_by: None,
    }
}

/// Writes a built grant and its `grant.created` event, by `actor` (the user).
pub fn record(
    conn: &mut AnyConnection,
    grant: &GrantRow,
    actor: &str,
    now: i64,
) -> Result<(), StoreError> {
    grant.insert(conn)?;
    let initiative = if grant.request_id.is_some() {
        "request"
    } else {
        "user"
    };
    audit::record(
        conn,
        now,
        actor,
        Action::GrantCreated,
        Some(&grant.id),
        json!({
            "request": grant.request_id, "agent": grant.agent_sub, "team": grant.team,
            "client": grant.client_id, "scope": grant.scopes, "apps": grant.apps, "expires_at": grant.expires_at, "initiative": initiative,
        }),
    )
}
