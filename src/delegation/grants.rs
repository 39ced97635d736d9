//! Grants, the recorded consent: created when a user approves a request or on
//! the user's own initiative, ended by the user, by the agent, or by time.
//! Ending one makes every token under it inactive at the next check
//! (`oauth::token_state`), on every instance, because that check reads the grant.

use super::error::DelegationError;
use super::policy;
use super::requests::require_exchange_client;
use crate::app::App;
use crate::audit;
use crate::clock::rfc3339;
use crate::random;
use crate::store::grants::GrantRow;
use crate::store::users::UserRow;
use crate::store::{AnyConnection, TxError};
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

/// Who ended a grant, as stored in `revoked_by`.
#[derive(Debug, Clone, Copy)]
pub enum EndedBy {
    User,
    Agent,
}

impl EndedBy {
    fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Agent => "agent",
        }
    }
}

/// The audiences a grant allows: the default audience, the one tokens get when none is asked for.
pub fn default_audiences(app: &App) -> Vec<String> {
    vec![app.default_audience.clone()]
}

#[derive(Debug, Serialize)]
pub struct GrantView {
    pub id: String,
    pub status: &'static str,
    pub subject: String,
    pub agent: String,
    pub client_id: String,
    pub scope: String,
    pub audience: Vec<String>,
    pub reason: String,
    pub ticket: String,
    pub request_id: Option<String>,
    pub created_at: String,
    pub expires_at: String,
    pub revoked_at: Option<String>,
    pub revoked_by: Option<String>,
}

pub fn view(grant: &GrantRow, now: i64) -> GrantView {
    GrantView {
        id: grant.id.clone(),
        status: GrantStatus::of(grant, now).as_str(),
        subject: grant.subject_sub.clone(),
        agent: grant.agent_sub.clone(),
        client_id: grant.client_id.clone(),
        scope: grant.scopes.clone(),
        audience: grant.audience_list(),
        reason: grant.reason.clone(),
        ticket: grant.ticket.clone(),
        request_id: grant.request_id.clone(),
        created_at: rfc3339(grant.created_at),
        expires_at: rfc3339(grant.expires_at),
        revoked_at: grant.revoked_at.map(rfc3339),
        revoked_by: grant.revoked_by.clone(),
    }
}

fn find_mine(
    conn: &mut AnyConnection,
    id: &str,
    by: EndedBy,
    sub: &str,
) -> Result<GrantRow, TxError<DelegationError>> {
    let grant = GrantRow::find(conn, id)?.ok_or(TxError::Abort(DelegationError::not_found()))?;
    let mine = match by {
        EndedBy::User => grant.subject_sub == sub,
        EndedBy::Agent => grant.agent_sub == sub,
    };
    if mine {
        Ok(grant)
    } else {
        Err(TxError::Abort(DelegationError::not_found()))
    }
}

/// Ends grant `id` now, if `sub` may: the user it is over, or the agent it is for.
pub async fn end(
    app: &App,
    id: &str,
    by: EndedBy,
    sub: &str,
) -> Result<GrantView, DelegationError> {
    let (id, sub, now) = (id.to_string(), sub.to_string(), app.now());
    Ok(app
        .db
        .transaction(move |c| {
            find_mine(c, &id, by, &sub)?;
            if !GrantRow::revoke(c, &id, by.as_str(), now)? {
                return Err(TxError::Abort(DelegationError::conflict(
                    "the grant has already ended",
                )));
            }
            audit::record(
                c,
                now,
                &sub,
                "grant.revoked",
                Some(&id),
                json!({"by": by.as_str()}),
            )?;
            let grant = find_mine(c, &id, by, &sub)?;
            Ok(view(&grant, now))
        })
        .await?)
}

/// A grant the user gives on their own initiative (DESIGN.md `POST /account/grants`).
pub struct NewGrant {
    pub agent: String,
    pub scope: String,
    pub duration: i64,
    pub client_id: String,
    pub reason: Option<String>,
}

pub async fn create_by_user(
    app: &App,
    user: &UserRow,
    new: NewGrant,
) -> Result<GrantView, DelegationError> {
    let policy = &app.settings.policy;
    let client = app
        .clients
        .find(&new.client_id)
        .await?
        .ok_or_else(|| DelegationError::invalid_request("no such support client"))?;
    require_exchange_client(&client)?;
    let scopes = policy::grantable_scopes(policy, &client, &new.scope)?;
    let duration = policy::check_duration(policy, new.duration)?;
    let reason = policy::text(new.reason.as_deref(), "reason", 2000, false)?;
    let now = app.now();
    let audiences = default_audiences(app);
    let (user, agent_name) = (user.clone(), new.agent);
    Ok(app
        .db
        .transaction(move |c| {
            let agent = UserRow::find_by_username(c, &agent_name)?
                .filter(|a| a.is_agent && a.is_active() && a.sub != user.sub)
                .ok_or_else(|| TxError::Abort(DelegationError::invalid_request("no such agent")))?;
            let grant = GrantRow {
                id: random::identifier(),
                subject_sub: user.sub.clone(),
                agent_sub: agent.sub.clone(),
                client_id: client.client_id.clone(),
                scopes: scopes.join(" "),
                audiences: audiences.join(" "),
                reason: if reason.is_empty() {
                    "Given by the account owner".into()
                } else {
                    reason
                },
                ticket: String::new(),
                request_id: None,
                created_at: now,
                expires_at: now + duration,
                revoked_at: None,
                revoked_by: None,
            };
            grant.insert(c)?;
            audit::record(
                c,
                now,
                &user.sub,
                "grant.created",
                Some(&grant.id),
                json!({
                    "agent": agent.sub, "client": grant.client_id, "scope": grant.scopes,
                    "expires_at": grant.expires_at, "initiative": "user",
                }),
            )?;
            Ok(view(&grant, now))
        })
        .await?)
}
