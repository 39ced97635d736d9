//! Grants, the recorded consent: created when a user approves a request or on
//! the user's own initiative (`give`), ended by the user, by the agent, or by
//! time (`end`). Ending one makes every token under it inactive at the next
//! check (`oauth::token_state`), on every instance, because that check reads the
//! grant. `build` and `record` are the one place a grant and its audit event are made.

mod end;
mod give;
mod list;

pub use end::{decide_end, end, end_all_of_disabled};
pub use give::{GiveAccess, GiveField, GiveRefused, GiveTo, decide_give, give};
pub use list::{decide_filter, get, list};

use crate::audit::{self, Action};
use crate::clock::rfc3339;
use crate::random;
use crate::store::grants::{EndedBy, GrantRow};
use crate::store::users::UserRow;
use crate::store::{AnyConnection, StoreError};
use serde::Serialize;
use serde_json::json;
use std::collections::HashMap;

/// Its schema (the API's `status` of a grant) lists `as_str`'s values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantStatus {
    Active,
    Expired,
    Revoked,
}

impl GrantStatus {
    pub const ALL: [GrantStatus; 3] = [Self::Active, Self::Expired, Self::Revoked];

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

/// Who ended a grant as the API says it: `EndedBy`'s values, or `expiry`.
const ENDED_BY_EXPIRY: &str = "expiry";

/// The grant as the API shows it (docs/contract.md "Access requests API").
/// Every field is always sent; the optional ones are `null` when they do not apply.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = Grant)]
pub struct GrantView {
    pub id: String,
    #[schema(value_type = GrantStatus)]
    pub status: &'static str,
    pub subject: String,
    pub subject_username: String,
    /// The named agent; `null` for a team grant.
    #[schema(required)]
    pub agent: Option<String>,
    #[schema(required)]
    pub agent_username: Option<String>,
    /// The team whose agents may use it; `null` for a named agent.
    #[schema(required)]
    pub team: Option<String>,
    pub client_id: String,
    pub scope: String,
    pub apps: Vec<String>,
    pub audiences: Vec<String>,
    pub reason: String,
    pub ticket: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub expires_at: String,
    /// When it was revoked or expired; `null` while active.
    #[schema(required, format = DateTime)]
    pub ended_at: Option<String>,
    /// `user`, `agent`, `user_disabled` or `expiry`; `null` while active.
    #[schema(required, value_type = Option<EndedByName>)]
    pub ended_by: Option<&'static str>,
    // The fields before `audiences`, `ended_at` and `ended_by`, which clients still read.
    /// The same as `audiences` (kept for older clients).
    #[schema(deprecated)]
    pub audience: Vec<String>,
    #[schema(required)]
    pub request_id: Option<String>,
    /// When the user or agent revoked it (not expiry); kept for older clients.
    #[schema(required, format = DateTime, deprecated)]
    pub revoked_at: Option<String>,
    /// Who revoked it: `user`, `agent` or `user_disabled`; kept for older clients.
    #[schema(required, deprecated)]
    pub revoked_by: Option<&'static str>,
}

/// A schema of `&'static str` values, for the fields that hold one of them.
fn one_of(values: &[&'static str]) -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some(values.iter().copied()))
        .into()
}

impl utoipa::PartialSchema for GrantStatus {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        one_of(&Self::ALL.map(Self::as_str))
    }
}

impl utoipa::ToSchema for GrantStatus {}

/// Who ended a grant, as `GrantView::ended_by` says it (a schema only):
/// `EndedBy`'s values and `expiry`.
pub struct EndedByName;

impl utoipa::PartialSchema for EndedByName {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        let by = [EndedBy::User, EndedBy::Agent, EndedBy::UserDisabled].map(EndedBy::as_str);
        one_of(&[by[0], by[1], by[2], ENDED_BY_EXPIRY])
    }
}

impl utoipa::ToSchema for EndedByName {}

/// The view of `grant`, its subject and agent named from `usernames` (by `sub`).
pub fn view(grant: &GrantRow, usernames: &HashMap<String, String>, now: i64) -> GrantView {
    let status = GrantStatus::of(grant, now);
    let (ended_at, ended_by) = match status {
        GrantStatus::Active => (None, None),
        GrantStatus::Revoked => (grant.revoked_at, grant.ended_by().map(EndedBy::as_str)),
        GrantStatus::Expired => (Some(grant.expires_at), Some(ENDED_BY_EXPIRY)),
    };
    let name = |sub: &str| usernames.get(sub).cloned();
    GrantView {
        id: grant.id.clone(),
        status: status.as_str(),
        subject: grant.subject_sub.clone(),
        subject_username: name(&grant.subject_sub).unwrap_or_default(),
        agent: grant.agent_sub.clone(),
        agent_username: grant.agent_sub.as_deref().and_then(name),
        team: grant.team.clone(),
        client_id: grant.client_id.clone(),
        scope: grant.scopes.clone(),
        apps: grant.app_list(),
        audiences: grant.audience_list(),
        reason: grant.reason.clone(),
        ticket: grant.ticket.clone(),
        created_at: rfc3339(grant.created_at),
        expires_at: rfc3339(grant.expires_at),
        ended_at: ended_at.map(rfc3339),
        ended_by,
        audience: grant.audience_list(),
        request_id: grant.request_id.clone(),
        revoked_at: grant.revoked_at.map(rfc3339),
        revoked_by: grant.ended_by().map(EndedBy::as_str),
    }
}

/// The usernames the views of `grants` show: their subjects' and named agents' (one query).
pub fn usernames_of(
    conn: &mut AnyConnection,
    grants: &[GrantRow],
) -> Result<HashMap<String, String>, StoreError> {
    let subs: Vec<String> = grants
        .iter()
        .flat_map(|g| std::iter::once(&g.subject_sub).chain(&g.agent_sub))
        .cloned()
        .collect();
    UserRow::usernames(conn, &subs)
}

/// The view of one grant, with the usernames it shows.
pub fn load_view(
    conn: &mut AnyConnection,
    grant: &GrantRow,
    now: i64,
) -> Result<GrantView, StoreError> {
    let usernames = usernames_of(conn, std::slice::from_ref(grant))?;
    Ok(view(grant, &usernames, now))
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
        first_used_at: None,
    }
}

/// Writes a built grant, its `grant.created` audit event and its events
/// (`delegation::events::grant_created`), by `actor` (the user).
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
    )?;
    let view = load_view(conn, grant, now)?;
    super::events::grant_created(conn, grant, &view, now)
}

/// Records that `grant` reached its expiry unrevoked (`grant.expired`, by
/// the system), when its `grant.ended` event happens.
pub fn record_expiry(
    conn: &mut AnyConnection,
    grant: &GrantRow,
    now: i64,
) -> Result<(), StoreError> {
    audit::record(
        conn,
        now,
        SYSTEM_ACTOR,
        Action::GrantExpired,
        Some(&grant.id),
        json!({"expires_at": grant.expires_at}),
    )
}

/// Who the audit trail says acted when nobody did (an expiry).
const SYSTEM_ACTOR: &str = "behalf";
