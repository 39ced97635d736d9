//! The console's three lists as read from the store, a page of at most `PAGE`
//! each (docs/security.md L5), newest first by `(created_at, id)`, each with
//! its own keyset cursor (`?waiting=`, `?access=`, `?ended=`: `paging`'s
//! cursors): "Waiting", the agent's pending requests; "Your access", the
//! active grants it may use (named, or through its team); "Ended", its
//! requests that ended without a grant and the ended grants it could use,
//! merged. One read: the pages, then the names they show and who ended each
//! grant an agent ended (the audit trail names them; a team grant does not).

use crate::audit::Action;
use crate::delegation::paging;
use crate::store::access_requests::{AccessRequestRow, RequestFilter};
use crate::store::audit_events;
use crate::store::clients::ClientRow;
use crate::store::grants::{EndedBy, GrantFilter, GrantRow};
use crate::store::users::UserRow;
use crate::store::{AnyConnection, Keyset, StoreError};
use std::collections::HashMap;

/// Cards in one list, at most.
pub const PAGE: usize = 50;

/// The lists' names, as the query, the page and the state call them.
pub const WAITING: &str = "waiting";
pub const ACCESS: &str = "access";
pub const ENDED: &str = "ended";

/// Which page of each list: the cursor after which it starts (`None`: the first).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Cursors {
    pub waiting: Option<Keyset>,
    pub access: Option<Keyset>,
    pub ended: Option<Keyset>,
}

impl Cursors {
    /// From the query: a cursor this console did not give is the first page.
    pub fn parse(query: Option<&str>) -> Self {
        let mut cursors = Self::default();
        for (name, value) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
            let slot = match name.as_ref() {
                WAITING => &mut cursors.waiting,
                ACCESS => &mut cursors.access,
                ENDED => &mut cursors.ended,
                _ => continue,
            };
            *slot = paging::decode(&value).ok();
        }
        cursors
    }

    /// The query that names these pages again ("" for the first of each).
    pub fn query(&self) -> String {
        let mut query = form_urlencoded::Serializer::new(String::new());
        for (name, cursor) in [
            (WAITING, &self.waiting),
            (ACCESS, &self.access),
            (ENDED, &self.ended),
        ] {
            if let Some(cursor) = cursor {
                query.append_pair(name, &paging::encode(cursor));
            }
        }
        query.finish()
    }
}

/// An item of "Ended".
pub enum Ended {
    Grant(GrantRow),
    Request(AccessRequestRow),
}

impl Ended {
    fn key(&self) -> Keyset {
        match self {
            Self::Grant(g) => Keyset::new(g.created_at, &g.id),
            Self::Request(r) => Keyset::new(r.created_at, &r.id),
        }
    }
}

/// A page of a list, and the cursor of the next when there is one.
pub struct Page<T> {
    pub rows: Vec<T>,
    pub next: Option<Keyset>,
}

/// The first `PAGE` of `rows` (read `PAGE + 1` at most), and the next cursor if more were read.
fn page_of<T>(mut rows: Vec<T>, key: impl Fn(&T) -> Keyset) -> Page<T> {
    let more = rows.len() > PAGE;
    rows.truncate(PAGE);
    let next = rows.last().filter(|_| more).map(key);
    Page { rows, next }
}

pub struct Lists {
    pub waiting: Page<AccessRequestRow>,
    pub access: Page<GrantRow>,
    pub ended: Page<Ended>,
    /// Usernames by `sub`: the users the cards are about and who ended grants.
    pub usernames: HashMap<String, String>,
    /// Every client: their names, their `initiate_login_uri`, and the form's choices.
    pub clients: Vec<ClientRow>,
    /// Who ended each grant on the page that an agent ended, by grant id.
    pub enders: HashMap<String, String>,
}

/// The pages `cursors` name of `agent`'s lists at `now`.
pub fn load(
    conn: &mut AnyConnection,
    agent: &UserRow,
    now: i64,
    cursors: &Cursors,
) -> Result<Lists, StoreError> {
    let (sub, team) = (agent.sub.as_str(), agent.team.as_deref());
    let rows = PAGE as i64 + 1;
    let request_key = |r: &AccessRequestRow| Keyset::new(r.created_at, &r.id);
    let grant_key = |g: &GrantRow| Keyset::new(g.created_at, &g.id);
    let waiting = AccessRequestRow::page_of_agent(
        conn,
        sub,
        RequestFilter::Pending,
        now,
        cursors.waiting.as_ref(),
        rows,
    )?;
    let access = GrantRow::page_usable_by(
        conn,
        sub,
        team,
        GrantFilter::Active,
        now,
        cursors.access.as_ref(),
        rows,
    )?;
    let after = cursors.ended.as_ref();
    let ended_grants =
        GrantRow::page_usable_by(conn, sub, team, GrantFilter::Ended, now, after, rows)?;
    let unanswered =
        AccessRequestRow::page_of_agent(conn, sub, RequestFilter::Unanswered, now, after, rows)?;
    // Both are newest first after the same cursor: merged, they are too.
    let mut ended: Vec<Ended> = ended_grants
        .into_iter()
        .map(Ended::Grant)
        .chain(unanswered.into_iter().map(Ended::Request))
        .collect();
    ended.sort_by(|a, b| {
        let (a, b) = (a.key(), b.key());
        (b.created_at, &b.id).cmp(&(a.created_at, &a.id))
    });
    let (waiting, access, ended) = (
        page_of(waiting, request_key),
        page_of(access, grant_key),
        page_of(ended, Ended::key),
    );
    let mut enders = HashMap::new();
    for row in &ended.rows {
        if let Ended::Grant(g) = row
            && g.ended_by() == Some(EndedBy::Agent)
            && let Some(actor) =
                audit_events::newest_actor(conn, &g.id, Action::GrantRevoked.as_str())?
        {
            enders.insert(g.id.clone(), actor);
        }
    }
    let subs: Vec<String> = waiting
        .rows
        .iter()
        .map(|r| r.subject_sub.clone())
        .chain(access.rows.iter().map(|g| g.subject_sub.clone()))
        .chain(ended.rows.iter().map(|e| match e {
            Ended::Grant(g) => g.subject_sub.clone(),
            Ended::Request(r) => r.subject_sub.clone(),
        }))
        .chain(enders.values().cloned())
        .collect();
    Ok(Lists {
        usernames: UserRow::usernames(conn, &subs)?,
        clients: ClientRow::all(conn)?,
        waiting,
        access,
        ended,
        enders,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_list_keeps_its_own_cursor_and_a_foreign_one_is_the_first_page() {
        let place = Keyset::new(1_780_000_000, "g1");
        let cursor = paging::encode(&place);
        let parsed = Cursors::parse(Some(&format!("ended={cursor}&waiting=nonsense&x=1")));
        let expected = Cursors {
            ended: Some(place),
            ..Cursors::default()
        };
        assert_eq!(parsed, expected);
        assert_eq!(parsed.query(), format!("ended={cursor}"));
        assert_eq!(Cursors::parse(None), Cursors::default());
        assert_eq!(Cursors::default().query(), "");
    }

    #[test]
    fn a_page_holds_at_most_fifty_and_names_the_next_only_when_more_were_read() {
        let keys = |n: usize| {
            (0..n)
                .map(|i| Keyset::new(1000 - i as i64, &format!("r{i}")))
                .collect::<Vec<_>>()
        };
        let full = page_of(keys(PAGE + 1), Clone::clone);
        assert_eq!(full.rows.len(), PAGE);
        assert_eq!(
            full.next,
            Some(Keyset::new(
                1000 - (PAGE as i64 - 1),
                &format!("r{}", PAGE - 1)
            ))
        );
        assert_eq!(page_of(keys(PAGE), Clone::clone).next, None);
    }
}
