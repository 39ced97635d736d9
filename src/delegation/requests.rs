//! Access requests: an agent asks a user for access (scopes, duration, reason,
//! ticket). `pending` → `approved` | `denied` | `expired` | `cancelled`. Every
//! change writes its audit event in the same transaction.

use super::error::DelegationError;
use super::grants::{self, GrantStatus};
use super::policy;
use crate::app::App;
use crate::audit;
use crate::clock::rfc3339;
use crate::oauth::clients::{Client, GRANT_TOKEN_EXCHANGE};
use crate::random;
use crate::store::access_requests::AccessRequestRow;
use crate::store::grants::GrantRow;
use crate::store::users::UserRow;
use crate::store::{AnyConnection, StoreError, TxError};
use serde::{Deserialize, Serialize};
use serde_json::json;

#[derive(Debug, Deserialize)]
pub struct NewRequest {
    pub subject: Option<String>,
    pub scope: Option<String>,
    pub duration: Option<i64>,
    pub reason: Option<String>,
    pub ticket: Option<String>,
}

/// The request as the agent API shows it (DESIGN.md "Access requests API").
#[derive(Debug, Serialize)]
pub struct RequestView {
    pub id: String,
    pub status: &'static str,
    pub subject: String,
    pub subject_username: String,
    pub scope: String,
    pub duration: i64,
    pub reason: String,
    pub ticket: String,
    pub created_at: String,
    pub expires_at: String,
    pub grant_id: Option<String>,
    pub grant_expires_at: Option<String>,
    pub grant_status: Option<&'static str>,
}

/// The status a reader sees: a pending request past its time has expired.
pub fn status(row: &AccessRequestRow, now: i64) -> &'static str {
    match row.status.as_str() {
        "pending" if now >= row.expires_at => "expired",
        "pending" => "pending",
        "approved" => "approved",
        "denied" => "denied",
        _ => "cancelled",
    }
}

pub fn view(
    row: AccessRequestRow,
    subject_username: String,
    grant: Option<&GrantRow>,
    now: i64,
) -> RequestView {
    RequestView {
        status: status(&row, now),
        grant_expires_at: grant.map(|g| rfc3339(g.expires_at)),
        grant_status: grant.map(|g| GrantStatus::of(g, now).as_str()),
        id: row.id,
        subject: row.subject_sub,
        subject_username,
        scope: row.scopes,
        duration: row.duration,
        reason: row.reason,
        ticket: row.ticket,
        created_at: rfc3339(row.created_at),
        expires_at: rfc3339(row.expires_at),
        grant_id: row.grant_id,
    }
}

/// Loads a request with what its view needs.
pub fn load_view(
    conn: &mut AnyConnection,
    row: AccessRequestRow,
    now: i64,
) -> Result<RequestView, StoreError> {
    let username = UserRow::find_by_sub(conn, &row.subject_sub)?
        .map(|u| u.username)
        .unwrap_or_default();
    let grant = match &row.grant_id {
        Some(id) => GrantRow::find(conn, id)?,
        None => None,
    };
    Ok(view(row, username, grant.as_ref(), now))
}

pub fn require_exchange_client(client: &Client) -> Result<(), DelegationError> {
    if client.allows_grant(GRANT_TOKEN_EXCHANGE) && !client.is_public {
        Ok(())
    } else {
        Err(DelegationError::invalid_request(format!(
            "client {} is not allowed token exchange, so a grant to it could not be used",
            client.client_id
        )))
    }
}

pub async fn create(
    app: &App,
    agent: &UserRow,
    client: &Client,
    new: NewRequest,
) -> Result<RequestView, DelegationError> {
    let policy = &app.settings.policy;
    require_exchange_client(client)?;
    let subject = policy::text(new.subject.as_deref(), "subject", 200, true)?;
    let scopes =
        policy::grantable_scopes(policy, client, new.scope.as_deref().unwrap_or_default())?;
    let duration = policy::check_duration(
        policy,
        new.duration
            .ok_or_else(|| DelegationError::invalid_request("duration is required"))?,
    )?;
    let reason = policy::text(new.reason.as_deref(), "reason", 2000, true)?;
    let ticket = policy::text(new.ticket.as_deref(), "ticket", 200, false)?;
    let now = app.now();
    let row = AccessRequestRow {
        id: random::identifier(),
        agent_sub: agent.sub.clone(),
        subject_sub: String::new(),
        client_id: client.client_id.clone(),
        scopes: scopes.join(" "),
        duration,
        reason,
        ticket,
        status: "pending".into(),
        created_at: now,
        expires_at: now + policy.request_ttl_seconds,
        decided_at: None,
        grant_id: None,
    };
    let agent = agent.clone();
    Ok(app
        .db
        .transaction(move |c| {
            let user = match UserRow::find_by_username(c, &subject)? {
                Some(u) => Some(u),
                None => UserRow::find_by_sub(c, &subject)?,
            }
            .filter(UserRow::is_active)
            .ok_or_else(|| TxError::Abort(DelegationError::invalid_request("no such user")))?;
            if user.sub == agent.sub {
                return Err(TxError::Abort(DelegationError::invalid_request(
                    "an agent cannot ask for access to its own account",
                )));
            }
            let row = AccessRequestRow {
                subject_sub: user.sub.clone(),
                ..row
            };
            row.insert(c)?;
            audit::record(
                c,
                now,
                &agent.sub,
                "access_request.created",
                Some(&row.id),
                json!({
                    "subject": user.sub, "agent": agent.username, "scope": row.scopes,
                    "duration": row.duration, "ticket": row.ticket,
                }),
            )?;
            Ok(view(row, user.username, None, now))
        })
        .await?)
}

/// The request `id` if `owner` may see it: the agent who made it, or the user it asks.
pub fn find_for(
    conn: &mut AnyConnection,
    id: &str,
    owner: Owner<'_>,
) -> Result<AccessRequestRow, TxError<DelegationError>> {
    let row =
        AccessRequestRow::find(conn, id)?.ok_or(TxError::Abort(DelegationError::not_found()))?;
    let mine = match owner {
        Owner::Agent(sub) => row.agent_sub == sub,
        Owner::Subject(sub) => row.subject_sub == sub,
    };
    if mine {
        Ok(row)
    } else {
        Err(TxError::Abort(DelegationError::not_found()))
    }
}

#[derive(Clone, Copy)]
pub enum Owner<'a> {
    Agent(&'a str),
    Subject(&'a str),
}

pub async fn get(app: &App, agent: &UserRow, id: &str) -> Result<RequestView, DelegationError> {
    let (sub, id, now) = (agent.sub.clone(), id.to_string(), app.now());
    Ok(app
        .db
        .transaction(move |c| {
            let row = find_for(c, &id, Owner::Agent(&sub))?;
            Ok(load_view(c, row, now)?)
        })
        .await?)
}

pub async fn cancel(app: &App, agent: &UserRow, id: &str) -> Result<RequestView, DelegationError> {
    let (sub, id, now) = (agent.sub.clone(), id.to_string(), app.now());
    Ok(app
        .db
        .transaction(move |c| {
            find_for(c, &id, Owner::Agent(&sub))?;
            if !AccessRequestRow::decide(c, &id, "cancelled", None, now)? {
                return Err(TxError::Abort(DelegationError::conflict(
                    "the request is no longer pending",
                )));
            }
            audit::record(
                c,
                now,
                &sub,
                "access_request.cancelled",
                Some(&id),
                json!({}),
            )?;
            let row = find_for(c, &id, Owner::Agent(&sub))?;
            Ok(load_view(c, row, now)?)
        })
        .await?)
}

/// The user's answer to a pending request addressed to them.
pub enum Answer {
    /// Approve, optionally shorter and with fewer scopes than asked.
    Approve {
        duration: Option<i64>,
        scopes: Option<Vec<String>>,
    },
    Deny,
}

pub async fn answer(
    app: &App,
    user: &UserRow,
    id: &str,
    answer: Answer,
) -> Result<(), DelegationError> {
    let (user, id, now) = (user.clone(), id.to_string(), app.now());
    let policy = app.settings.policy.clone();
    let audiences = grants::default_audiences(app);
    app.db
        .transaction(move |c| {
            let row = find_for(c, &id, Owner::Subject(&user.sub))?;
            if status(&row, now) != "pending" {
                return Err(TxError::Abort(DelegationError::conflict(
                    "the request is no longer pending",
                )));
            }
            match answer {
                Answer::Deny => {
                    AccessRequestRow::decide(c, &id, "denied", None, now)?;
                    audit::record(
                        c,
                        now,
                        &user.sub,
                        "access_request.denied",
                        Some(&id),
                        json!({"agent": row.agent_sub}),
                    )?;
                }
                Answer::Approve { duration, scopes } => {
                    let asked: Vec<String> = row.scopes.split(' ').map(str::to_string).collect();
                    let scopes = scopes.unwrap_or_else(|| asked.clone());
                    if scopes.is_empty() {
                        return Err(TxError::Abort(DelegationError::invalid_scope(
                            "choose at least one scope",
                        )));
                    }
                    if let Some(s) = scopes
                        .iter()
                        .find(|s| !asked.contains(s) || !policy::is_delegable(&policy, s))
                    {
                        return Err(TxError::Abort(DelegationError::invalid_scope(format!(
                            "scope {s} was not asked for"
                        ))));
                    }
                    let duration = duration.unwrap_or(row.duration);
                    if duration > row.duration {
                        return Err(TxError::Abort(DelegationError::invalid_request(
                            "you can allow at most the duration asked for",
                        )));
                    }
                    let duration =
                        policy::check_duration(&policy, duration).map_err(TxError::Abort)?;
                    let grant = GrantRow {
                        id: random::identifier(),
                        subject_sub: user.sub.clone(),
                        agent_sub: row.agent_sub.clone(),
                        client_id: row.client_id.clone(),
                        scopes: scopes.join(" "),
                        audiences: audiences.join(" "),
                        reason: row.reason.clone(),
                        ticket: row.ticket.clone(),
                        request_id: Some(row.id.clone()),
                        created_at: now,
                        expires_at: now + duration,
                        revoked_at: None,
                        revoked_by: None,
                    };
                    if !AccessRequestRow::decide(
                        c,
                        &id,
                        "approved",
                        Some((&grant.id, &grant.scopes, duration)),
                        now,
                    )? {
                        return Err(TxError::Abort(DelegationError::conflict(
                            "the request is no longer pending",
                        )));
                    }
                    grant.insert(c)?;
                    audit::record(
                        c,
                        now,
                        &user.sub,
                        "grant.created",
                        Some(&grant.id),
                        json!({
                            "request": id, "agent": grant.agent_sub, "client": grant.client_id,
                            "scope": grant.scopes, "expires_at": grant.expires_at,
                        }),
                    )?;
                }
            }
            Ok(())
        })
        .await?;
    Ok(())
}
