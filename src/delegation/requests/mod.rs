//! Access requests: an agent asks a user for access (scopes, duration, reason,
//! ticket): `pending` → `approved` | `denied` | `cancelled`, or `expired` when
//! read past its time (docs/contract.md "Access requests API"). `create` and
//! `answer` hold the flows, `list` an agent's pages of them; this file holds
//! what a reader sees and who may see it.

mod answer;
mod create;
mod list;
pub mod status;

pub use answer::{Answer, Decision, answer, cancel, decide_answer};
pub use create::{
    Asked, NO_SUCH_USER, NewRequest, OWN_ACCOUNT, RequestField, RequestRefused, SHARED_EMAIL,
    create, create_then, decide_new_request,
};
pub use list::{decide_filter, list};
pub use status::RequestStatus;

use super::grants::GrantStatus;
use super::refusal::Refusal;
use crate::clock::rfc3339;
use crate::store::access_requests::AccessRequestRow;
use crate::store::grants::GrantRow;
use crate::store::users::UserRow;
use crate::store::{AnyConnection, Database, StoreError, TxError};
use serde::Serialize;

/// The request as the agent API shows it (docs/contract.md "Access requests API").
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = AccessRequest)]
pub struct RequestView {
    pub id: String,
    #[schema(value_type = RequestStatus)]
    pub status: &'static str,
    pub subject: String,
    pub subject_username: String,
    pub scope: String,
    /// Delegated-sign-in apps (client ids) the agent asks to sign in to as the user.
    pub apps: Vec<String>,
    pub duration: i64,
    pub reason: String,
    pub ticket: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub expires_at: String,
    /// The grant an approval made; `null` until then.
    #[schema(required)]
    pub grant_id: Option<String>,
    #[schema(required, format = DateTime)]
    pub grant_expires_at: Option<String>,
    #[schema(required, value_type = Option<GrantStatus>)]
    pub grant_status: Option<&'static str>,
}

pub fn view(
    row: AccessRequestRow,
    subject_username: String,
    grant: Option<&GrantRow>,
    now: i64,
) -> RequestView {
    RequestView {
        status: RequestStatus::of(&row, now).as_str(),
        grant_expires_at: grant.map(|g| rfc3339(g.expires_at)),
        grant_status: grant.map(|g| GrantStatus::of(g, now).as_str()),
        apps: row.app_list(),
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

/// Loads what a request's view needs beside the request itself.
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

/// Who is looking at a request: the agent who made it, or the user it asks.
#[derive(Clone, Copy)]
pub enum Owner<'a> {
    Agent(&'a str),
    Subject(&'a str),
}

/// The request `id` if `owner` may see it; anything else is `NotFound`.
fn find_for(
    conn: &mut AnyConnection,
    id: &str,
    owner: Owner<'_>,
) -> Result<AccessRequestRow, TxError<Refusal>> {
    let row = AccessRequestRow::find(conn, id)?.ok_or(TxError::Abort(Refusal::NotFound))?;
    let mine = match owner {
        Owner::Agent(sub) => row.agent_sub == sub,
        Owner::Subject(sub) => row.subject_sub == sub,
    };
    if mine {
        Ok(row)
    } else {
        Err(TxError::Abort(Refusal::NotFound))
    }
}

/// `GET /api/access-requests/{id}` for the agent `agent_sub`.
pub async fn get(
    db: &Database,
    agent_sub: &str,
    id: &str,
    now: i64,
) -> Result<RequestView, Refusal> {
    let (sub, id) = (agent_sub.to_string(), id.to_string());
    Ok(db
        .transaction(move |c| {
            let row = find_for(c, &id, Owner::Agent(&sub))?;
            Ok(load_view(c, row, now)?)
        })
        .await?)
}
