//! One request or grant of the console as a person reads it (docs/contract.md
//! "Support console"): a `Card` with a heading that says whose account and
//! which ticket, the time left, the facts, the "Open <app> as <user>" links
//! (`initiate_login`) and the one button, whose accessible name says which
//! request or grant. A card for each list: `waiting`, `access`, `ended_grant`,
//! `ended_request`. Pure: a row in, a card out.

use crate::clock::{exact_duration, human_duration};
use crate::delegation::consent_screen::times::{self, TimeView};
use crate::delegation::grants::GrantStatus;
use crate::delegation::requests::RequestStatus;
use crate::oauth::scope;
use crate::store::access_requests::AccessRequestRow;
use crate::store::clients::ClientRow;
use crate::store::grants::{EndedBy, GrantRow};
use crate::store::users::UserRow;
use serde::Serialize;
use std::collections::HashMap;

/// What the cards are drawn from beside the lists.
pub struct Viewer<'a> {
    /// The signed-in agent: "you".
    pub agent: &'a UserRow,
    /// The issuer, which "Open <app> as <user>" links name as `iss`.
    pub issuer: &'a str,
    /// The operator's words for scopes (`policy.scope_descriptions`).
    pub words: &'a HashMap<String, String>,
    pub now: i64,
}

#[derive(Serialize)]
pub struct Card {
    /// `request` or `grant`: the element carries `data-request-id` or `data-grant-id`.
    pub(super) kind: &'static str,
    pub(super) id: String,
    /// The status a reader sees now (`pending`, `active`, `revoked`, `denied`, ...).
    status: &'static str,
    /// Whose account (the user's username) and the ticket.
    pub(super) user: String,
    pub(super) ticket: String,
    heading: String,
    /// The time left, counted down by the script.
    left: Option<Countdown>,
    facts: Vec<Fact>,
    links: Vec<Link>,
    pub(super) action: Option<Action>,
}

#[derive(Serialize)]
pub struct Countdown {
    /// RFC 3339: `data-countdown-to`.
    until: String,
    text: String,
}

/// One line of a card's description list: a time, a list, or words.
#[derive(Serialize)]
pub struct Fact {
    term: &'static str,
    text: String,
    time: Option<TimeView>,
    items: Vec<String>,
}

impl Fact {
    fn text(term: &'static str, text: impl Into<String>) -> Self {
        Self {
            term,
            text: text.into(),
            time: None,
            items: Vec::new(),
        }
    }

    fn time(term: &'static str, at: i64) -> Self {
        Self {
            time: Some(times::at(at)),
            ..Self::text(term, "")
        }
    }

    fn items(term: &'static str, items: Vec<String>) -> Self {
        Self {
            items,
            ..Self::text(term, "")
        }
    }
}

#[derive(Serialize)]
pub struct Link {
    pub(super) href: String,
    pub(super) text: String,
}

/// The card's one form: a POST to `path`, its button's words and the hidden
/// end of its accessible name, which says which request or grant it acts on.
#[derive(Serialize)]
pub struct Action {
    path: String,
    text: &'static str,
    pub(super) hidden: String,
    class: &'static str,
}

/// `<initiate_login_uri>?iss=<issuer>&login_hint=<username>` (OpenID Connect
/// Core §4), each value URL-encoded; a query the app registered is kept.
pub fn initiate_login(uri: &str, issuer: &str, login_hint: &str) -> String {
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("iss", issuer)
        .append_pair("login_hint", login_hint)
        .finish();
    let joint = if uri.contains('?') { '&' } else { '?' };
    format!("{uri}{joint}{query}")
}

/// "(SUP-42)", or without a ticket "of 1 December 2026, 19:41 UTC": what tells
/// two cards about one user apart.
fn which(ticket: &str, began: i64) -> String {
    match ticket.is_empty() {
        true => format!("of {}", times::at(began).utc),
        false => format!("({ticket})"),
    }
}

/// " (SUP-42)" after a heading, or nothing.
pub(super) fn ticket_after(ticket: &str) -> String {
    match ticket.is_empty() {
        true => String::new(),
        false => format!(" ({ticket})"),
    }
}

pub(super) struct Names<'a> {
    pub(super) usernames: &'a HashMap<String, String>,
    pub(super) clients: HashMap<&'a str, &'a ClientRow>,
    pub(super) enders: &'a HashMap<String, String>,
}

impl Names<'_> {
    fn user(&self, sub: &str) -> String {
        self.usernames.get(sub).cloned().unwrap_or_default()
    }

    fn client(&self, id: &str) -> String {
        self.clients
            .get(id)
            .map_or_else(|| id.to_string(), |c| c.name.clone())
    }

    fn clients(&self, ids: &[String]) -> String {
        ids.iter()
            .map(|id| self.client(id))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn scopes(words: &HashMap<String, String>, scopes: &str) -> Vec<String> {
    crate::store::split_list(scopes)
        .iter()
        .map(|s| scope::describe(words, s))
        .collect()
}

/// The facts every card begins with: whose account, why, the ticket, the tool.
fn common(user: &str, reason: &str, ticket: &str, tool: String) -> Vec<Fact> {
    let mut facts = vec![Fact::text("Account", user), Fact::text("Why", reason)];
    if !ticket.is_empty() {
        facts.push(Fact::text("Ticket", ticket));
    }
    facts.push(Fact::text("Support tool", tool));
    facts
}

pub(super) fn waiting(viewer: &Viewer, names: &Names, r: &AccessRequestRow) -> Card {
    let user = names.user(&r.subject_sub);
    let mut facts = common(&user, &r.reason, &r.ticket, names.client(&r.client_id));
    facts.push(Fact::items(
        "What you asked to do",
        scopes(viewer.words, &r.scopes),
    ));
    if !r.app_list().is_empty() {
        facts.push(Fact::text(
            "Sign in as them to",
            names.clients(&r.app_list()),
        ));
    }
    facts.push(Fact::text("For how long", exact_duration(r.duration)));
    facts.push(Fact::time("Asked", r.created_at));
    facts.push(Fact::time("Answer by", r.expires_at));
    Card {
        kind: "request",
        id: r.id.clone(),
        status: RequestStatus::of(r, viewer.now).as_str(),
        heading: format!("Your request to {user}{}", ticket_after(&r.ticket)),
        left: None,
        facts,
        links: Vec::new(),
        action: Some(Action {
            path: format!("/console/requests/{}/cancel", r.id),
            text: "Cancel",
            hidden: format!(" your request to {user} {}", which(&r.ticket, r.created_at)),
            class: "secondary",
        }),
        ticket: r.ticket.clone(),
        user,
    }
}

/// Who a grant is for, as the agent reads it: "You" or "The Support team".
fn given_to(viewer: &Viewer, g: &GrantRow) -> String {
    match (&g.agent_sub, &g.team) {
        (Some(sub), _) if *sub == viewer.agent.sub => "You".into(),
        (None, Some(team)) => format!("The {team} team"),
        _ => "Another agent".into(),
    }
}

/// The facts of a grant, active or ended.
fn grant_facts(viewer: &Viewer, names: &Names, g: &GrantRow, user: &str) -> Vec<Fact> {
    let mut facts = common(user, &g.reason, &g.ticket, names.client(&g.client_id));
    facts.insert(1, Fact::text("Given to", given_to(viewer, g)));
    let what = match g.is_active(viewer.now) {
        true => "What you may do",
        false => "What it allowed",
    };
    facts.push(Fact::items(what, scopes(viewer.words, &g.scopes)));
    if !g.app_list().is_empty() {
        facts.push(Fact::text(
            "Sign in as them to",
            names.clients(&g.app_list()),
        ));
    }
    facts.push(Fact::time("Given", g.created_at));
    facts
}

pub(super) fn access(viewer: &Viewer, names: &Names, g: &GrantRow) -> Card {
    let user = names.user(&g.subject_sub);
    let mut facts = grant_facts(viewer, names, g, &user);
    facts.push(Fact::time("Until", g.expires_at));
    let links = g
        .app_list()
        .iter()
        .filter_map(|id| names.clients.get(id.as_str()))
        .filter_map(|app| {
            let uri = app.initiate_login_uri.as_deref()?;
            Some(Link {
                href: initiate_login(uri, viewer.issuer, &user),
                text: format!("Open {} as {user}", app.name),
            })
        })
        .collect();
    let who = given_to(viewer, g);
    Card {
        kind: "grant",
        id: g.id.clone(),
        status: GrantStatus::of(g, viewer.now).as_str(),
        heading: format!(
            "{who} can act in {user}'s account{}",
            ticket_after(&g.ticket)
        ),
        left: Some(Countdown {
            until: crate::clock::rfc3339(g.expires_at),
            text: format!("{} left", human_duration(g.expires_at - viewer.now)),
        }),
        facts,
        links,
        action: Some(Action {
            path: format!("/console/grants/{}/end", g.id),
            text: "End access",
            hidden: format!(" to {user}'s account {}", which(&g.ticket, g.created_at)),
            class: "danger",
        }),
        ticket: g.ticket.clone(),
        user,
    }
}

/// How a grant ended and when, as the agent reads it.
fn grant_ending(viewer: &Viewer, names: &Names, g: &GrantRow, user: &str) -> (String, i64) {
    let revoked_at = g.revoked_at.unwrap_or(g.expires_at);
    match (GrantStatus::of(g, viewer.now), g.ended_by()) {
        (GrantStatus::Revoked, Some(EndedBy::User)) => (format!("Ended by {user}"), revoked_at),
        (GrantStatus::Revoked, Some(EndedBy::Agent)) => {
            let by = match names.enders.get(&g.id) {
                Some(sub) if *sub == viewer.agent.sub => "you".to_string(),
                Some(sub) => names.user(sub),
                None => "an agent".to_string(),
            };
            (format!("Ended by {by}"), revoked_at)
        }
        (GrantStatus::Revoked, _) => ("Ended: an account was disabled".into(), revoked_at),
        _ => ("Expired".into(), g.expires_at),
    }
}

pub(super) fn ended_grant(viewer: &Viewer, names: &Names, g: &GrantRow) -> Card {
    let user = names.user(&g.subject_sub);
    let (outcome, ended_at) = grant_ending(viewer, names, g, &user);
    let mut facts = grant_facts(viewer, names, g, &user);
    facts.push(Fact::time("Ended", ended_at));
    Card {
        kind: "grant",
        id: g.id.clone(),
        status: GrantStatus::of(g, viewer.now).as_str(),
        heading: format!(
            "Access to {user}'s account{}: {outcome}",
            ticket_after(&g.ticket)
        ),
        left: None,
        facts,
        links: Vec::new(),
        action: None,
        ticket: g.ticket.clone(),
        user,
    }
}

pub(super) fn ended_request(viewer: &Viewer, names: &Names, r: &AccessRequestRow) -> Card {
    let user = names.user(&r.subject_sub);
    let status = RequestStatus::of(r, viewer.now);
    let (outcome, ended_at) = match status {
        RequestStatus::Denied => (format!("Denied by {user}"), r.decided_at),
        RequestStatus::Cancelled => ("Cancelled by you".to_string(), r.decided_at),
        _ => ("Expired without an answer".to_string(), None),
    };
    let mut facts = common(&user, &r.reason, &r.ticket, names.client(&r.client_id));
    facts.push(Fact::items(
        "What you asked to do",
        scopes(viewer.words, &r.scopes),
    ));
    facts.push(Fact::time("Asked", r.created_at));
    facts.push(Fact::time("Ended", ended_at.unwrap_or(r.expires_at)));
    Card {
        kind: "request",
        id: r.id.clone(),
        status: status.as_str(),
        heading: format!(
            "Your request to {user}{}: {outcome}",
            ticket_after(&r.ticket)
        ),
        left: None,
        facts,
        links: Vec::new(),
        action: None,
        ticket: r.ticket.clone(),
        user,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sign_in_link_carries_the_issuer_and_the_hint_url_encoded() {
        assert_eq!(
            initiate_login(
                "https://shop.example/login",
                "http://127.0.0.1:8080",
                "alice smith"
            ),
            "https://shop.example/login?iss=http%3A%2F%2F127.0.0.1%3A8080&login_hint=alice+smith"
        );
        assert_eq!(
            initiate_login(
                "https://shop.example/start?from=behalf",
                "https://id.example",
                "a&b"
            ),
            "https://shop.example/start?from=behalf&iss=https%3A%2F%2Fid.example&login_hint=a%26b"
        );
    }

    #[test]
    fn a_card_is_told_apart_by_its_ticket_or_else_by_when_it_began() {
        assert_eq!(which("SUP-42", 0), "(SUP-42)");
        assert_eq!(which("", 0), "of 1 January 1970, 00:00 UTC");
        assert_eq!(ticket_after(""), "");
    }
}
