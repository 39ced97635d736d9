//! What an agent reads of the grants it may use (docs/contract.md "Access
//! requests API"): `GET /api/grants` a page at a time, newest first, and `GET
//! /api/grants/{id}`. "May use" is `GrantRow::may_be_used_by`: the grant names
//! the agent, or was given to the agent's team; any other grant is `NotFound`.

use super::{GrantView, load_view, usernames_of, view};
use crate::delegation::paging::{self, Page, PageAsk};
use crate::delegation::refusal::Refusal;
use crate::store::grants::{GrantFilter, GrantRow};
use crate::store::users::UserRow;
use crate::store::{Database, Keyset, StoreError};

/// The `status` parameter of `GET /api/grants`: `active`, `ended`, or none for all.
pub fn decide_filter(status: Option<&str>) -> Result<GrantFilter, Refusal> {
    match status {
        None => Ok(GrantFilter::All),
        Some("active") => Ok(GrantFilter::Active),
        Some("ended") => Ok(GrantFilter::Ended),
        Some(_) => Err(Refusal::invalid("status must be active or ended")),
    }
}

/// A page of the grants `agent` may use that `filter` keeps.
pub async fn list(
    db: &Database,
    agent: &UserRow,
    filter: GrantFilter,
    ask: PageAsk,
    now: i64,
) -> Result<Page<GrantView>, Refusal> {
    let (sub, team) = (agent.sub.clone(), agent.team.clone());
    Ok(db
        .read(move |c| {
            let after = ask.after.as_ref();
            let rows =
                GrantRow::page_usable_by(c, &sub, team.as_deref(), filter, now, after, ask.rows())?;
            let usernames = usernames_of(c, &rows)?;
            let key = |g: &GrantRow| Keyset::new(g.created_at, &g.id);
            Ok(paging::page(&ask, rows, key, |g| view(&g, &usernames, now)))
        })
        .await?)
}

/// Grant `id`, if `agent` may use it.
pub async fn get(db: &Database, agent: &UserRow, id: &str, now: i64) -> Result<GrantView, Refusal> {
    let (sub, team, id) = (agent.sub.clone(), agent.team.clone(), id.to_string());
    db.read(move |c| match GrantRow::find(c, &id)? {
        Some(g) if g.may_be_used_by(&sub, team.as_deref()) => load_view(c, &g, now).map(Some),
        _ => Ok::<_, StoreError>(None),
    })
    .await?
    .ok_or(Refusal::NotFound)
}
