//! `GET /api/access-requests`: an agent's own requests a page at a time,
//! newest first, filtered by the status a reader sees now (docs/contract.md
//! "Access requests API"): a pending request past its time is listed as
//! expired, never as pending.

use super::{RequestStatus, RequestView, view};
use crate::delegation::paging::{self, Page, PageAsk};
use crate::delegation::refusal::Refusal;
use crate::store::access_requests::{AccessRequestRow, RequestFilter, RequestState};
use crate::store::grants::GrantRow;
use crate::store::users::UserRow;
use crate::store::{Database, Keyset};
use std::collections::HashMap;

/// The `status` parameter: one of `RequestStatus`, or none for all.
pub fn decide_filter(status: Option<&str>) -> Result<RequestFilter, Refusal> {
    use RequestStatus::*;
    let Some(status) = status else {
        return Ok(RequestFilter::All);
    };
    let asked = RequestStatus::ALL
        .into_iter()
        .find(|s| s.as_str() == status)
        .ok_or_else(|| {
            Refusal::invalid("status must be pending, approved, denied, cancelled or expired")
        })?;
    Ok(match asked {
        Pending => RequestFilter::Pending,
        Expired => RequestFilter::Expired,
        Approved => RequestFilter::Stored(RequestState::Approved),
        Denied => RequestFilter::Stored(RequestState::Denied),
        Cancelled => RequestFilter::Stored(RequestState::Cancelled),
    })
}

/// A page of the requests `agent_sub` filed that `filter` keeps.
pub async fn list(
    db: &Database,
    agent_sub: &str,
    filter: RequestFilter,
    ask: PageAsk,
    now: i64,
) -> Result<Page<RequestView>, Refusal> {
    let sub = agent_sub.to_string();
    Ok(db
        .read(move |c| {
            let after = ask.after.as_ref();
            let rows = AccessRequestRow::page_of_agent(c, &sub, filter, now, after, ask.rows())?;
            let subjects: Vec<String> = rows.iter().map(|r| r.subject_sub.clone()).collect();
            let usernames = UserRow::usernames(c, &subjects)?;
            let grant_ids: Vec<String> = rows.iter().filter_map(|r| r.grant_id.clone()).collect();
            let grants: HashMap<String, GrantRow> = GrantRow::find_by_ids(c, &grant_ids)?
                .into_iter()
                .map(|g| (g.id.clone(), g))
                .collect();
            let key = |r: &AccessRequestRow| Keyset::new(r.created_at, &r.id);
            Ok(paging::page(&ask, rows, key, |r| {
                let username = usernames.get(&r.subject_sub).cloned().unwrap_or_default();
                let grant = r.grant_id.as_ref().and_then(|id| grants.get(id));
                view(r, username, grant, now)
            }))
        })
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_status_a_reader_sees_is_a_filter_and_nothing_else_is() {
        assert_eq!(decide_filter(None), Ok(RequestFilter::All));
        assert_eq!(decide_filter(Some("pending")), Ok(RequestFilter::Pending));
        assert_eq!(decide_filter(Some("expired")), Ok(RequestFilter::Expired));
        assert_eq!(
            decide_filter(Some("cancelled")),
            Ok(RequestFilter::Stored(RequestState::Cancelled))
        );
        for bad in ["", "Pending", "active", "ended"] {
            assert!(decide_filter(Some(bad)).is_err(), "{bad}");
        }
    }
}
