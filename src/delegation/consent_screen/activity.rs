//! The activity under a grant in plain words, `PAGE` lines at a time, newest
//! first: one line per audit event about it, naming the app by its registered
//! name and the agent by username ("Example Shop checked bob's access token",
//! "bob began acting in your account: See your account's information").
//! DESIGN "The consent screen as a product" (docs/contract.md "Consent
//! screen"). The agent is read from each event (the exchange's actor, the
//! `agent` an introspection or revocation records), never from the grant, so
//! that a grant any agent of a team may use names the one who acted. Events
//! written before they recorded the agent read as "an access token issued
//! under this access".

use super::times::{self, TimeView};
use crate::audit::Action;
use crate::oauth::scope;
use crate::store::audit_events::{self, AuditEventRow};
use crate::store::grants::EndedBy;
use crate::store::{AnyConnection, StoreError};
use serde::Serialize;
use serde_json::Value;
use std::collections::HashMap;

/// Lines on a grant's card, and on each page of its activity.
pub const PAGE: usize = 50;

/// One page of a grant's activity: at most `PAGE` events, newest first.
pub struct Slice {
    pub events: Vec<AuditEventRow>,
    /// Whether older events follow on the next page.
    pub older: bool,
}

impl Slice {
    /// Page `page` (from 1) of the activity under grant `grant_id`: one
    /// bounded query, one row more than shown to know whether more follow.
    pub fn load(conn: &mut AnyConnection, grant_id: &str, page: usize) -> Result<Self, StoreError> {
        let offset = (page.saturating_sub(1) * PAGE) as i64;
        let mut events = audit_events::newest_for_subject(conn, grant_id, offset, PAGE as i64 + 1)?;
        let older = events.len() > PAGE;
        events.truncate(PAGE);
        Ok(Self { events, older })
    }

    /// The `sub`s the lines name (who acted, the agent of a token), whose
    /// usernames the page looks up.
    pub fn people(&self) -> impl Iterator<Item = String> + '_ {
        self.events.iter().flat_map(|event| {
            let agent = detail(event)["agent"].as_str().map(str::to_string);
            std::iter::once(event.actor.clone()).chain(agent)
        })
    }
}

#[derive(Serialize)]
pub struct ActivityLine {
    at: TimeView,
    text: String,
}

/// `names`: usernames by `sub` and client names by `client_id`; `words`: the
/// operator's words for scopes (`policy.scope_descriptions`).
pub fn lines(
    slice: &Slice,
    names: &HashMap<String, String>,
    words: &HashMap<String, String>,
) -> Vec<ActivityLine> {
    slice
        .events
        .iter()
        .map(|event| ActivityLine {
            at: times::at(event.occurred_at),
            text: line(event, names, words),
        })
        .collect()
}

fn detail(event: &AuditEventRow) -> Value {
    serde_json::from_str(&event.detail).unwrap_or_default()
}

/// One event as a sentence.
pub fn line(
    event: &AuditEventRow,
    names: &HashMap<String, String>,
    words: &HashMap<String, String>,
) -> String {
    let detail = detail(event);
    let name = |sub: &str| names.get(sub).cloned().unwrap_or_else(|| "someone".into());
    let actor = name(&event.actor);
    // The app that acted (a client), by its registered name, when it is known.
    let app = names.get(&event.actor);
    // The agent of the token, when the event recorded one still known.
    let agent = detail["agent"].as_str().and_then(|sub| names.get(sub));
    // "bob's access token", else "an access token issued under this access".
    let token = match agent {
        Some(agent) => format!("{agent}'s access token"),
        None => "an access token issued under this access".to_string(),
    };
    let ended_by_agent = detail["by"] == EndedBy::Agent.as_str();
    let ended_by_disabling = detail["by"] == EndedBy::UserDisabled.as_str();
    match Action::parse(&event.action) {
        Some(Action::GrantCreated) => format!("{actor} gave access"),
        Some(Action::GrantRevoked) if ended_by_disabling => {
            format!("The access ended: {actor}'s account was disabled")
        }
        Some(Action::GrantRevoked) if ended_by_agent => format!("{actor} ended the access"),
        Some(Action::GrantRevoked) => "You ended the access".into(),
        Some(Action::GrantExpired) => "The access ended: its time was up".into(),
        Some(Action::TokenExchanged) => {
            let scopes = detail["scope"].as_str().unwrap_or_default();
            let described: Vec<String> = scopes
                .split(' ')
                .filter(|s| !s.is_empty())
                .map(|s| scope::describe(words, s))
                .collect();
            match described.is_empty() {
                true => format!("{actor} began acting in your account"),
                false => format!(
                    "{actor} began acting in your account: {}",
                    described.join("; ")
                ),
            }
        }
        Some(Action::TokenIntrospected) => {
            let app = app.map_or("An app", String::as_str);
            match detail["count"].as_u64() {
                Some(n) => format!("{app} checked {token} ({n} times)"),
                None => format!("{app} checked {token}"),
            }
        }
        Some(Action::DelegatedSignInStarted) => {
            let client = detail["client"].as_str().unwrap_or_default();
            let app = names.get(client).map_or("an app", String::as_str);
            format!("{actor} signed in to {app} as you")
        }
        Some(Action::TokenRevoked) => match (app, agent) {
            (Some(app), _) => format!("{app} revoked {token}"),
            (None, Some(agent)) => format!("{agent}'s access token was revoked"),
            (None, None) => "An access token issued under this access was revoked".into(),
        },
        _ => event.action.replace('.', " "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(actor: &str, action: Action, detail: Value) -> AuditEventRow {
        AuditEventRow {
            seq: 1,
            occurred_at: 0,
            actor: actor.into(),
            action: action.as_str().into(),
            subject: Some("g1".into()),
            detail: detail.to_string(),
            prev_hash: vec![],
            hash: vec![],
            key_era: 1,
        }
    }

    fn names() -> HashMap<String, String> {
        [
            ("shop", "Example Shop"),
            ("sub-bob", "bob"),
            ("sub-alice", "alice"),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .into()
    }

    fn read(e: &AuditEventRow) -> String {
        line(e, &names(), &HashMap::new())
    }

    #[test]
    fn a_check_names_the_app_and_the_agent_with_its_count() {
        let checked = event(
            "shop",
            Action::TokenIntrospected,
            serde_json::json!({"jti": "j", "agent": "sub-bob"}),
        );
        assert_eq!(read(&checked), "Example Shop checked bob's access token");
        let repeated = event(
            "shop",
            Action::TokenIntrospected,
            serde_json::json!({"jti": "j", "agent": "sub-bob", "count": 3}),
        );
        assert_eq!(
            read(&repeated),
            "Example Shop checked bob's access token (3 times)"
        );
    }

    #[test]
    fn an_exchange_says_what_the_agent_may_do_in_words() {
        let words = [("read".to_string(), "See your orders".to_string())].into();
        let exchanged = event(
            "sub-bob",
            Action::TokenExchanged,
            serde_json::json!({"scope": "read write"}),
        );
        assert_eq!(
            line(&exchanged, &names(), &words),
            "bob began acting in your account: See your orders; Change your account's information"
        );
    }

    #[test]
    fn a_revocation_names_the_app_and_the_agent_when_known() {
        let detail = serde_json::json!({"jti": "j", "agent": "sub-bob"});
        assert_eq!(
            read(&event("shop", Action::TokenRevoked, detail.clone())),
            "Example Shop revoked bob's access token"
        );
        assert_eq!(
            read(&event("gone", Action::TokenRevoked, detail)),
            "bob's access token was revoked"
        );
    }

    #[test]
    fn an_expiry_and_a_program_agent_read_in_plain_words() {
        let expired = event("behalf", Action::GrantExpired, serde_json::json!({}));
        assert_eq!(read(&expired), "The access ended: its time was up");
        let mut named = names();
        named.insert("assistant".into(), "Invoice Assistant".into());
        let polled = event(
            "assistant",
            Action::TokenExchanged,
            serde_json::json!({"scope": "read", "ciba": true}),
        );
        assert_eq!(
            line(
                &polled,
                &named,
                &[("read".into(), "See your invoices".into())].into()
            ),
            "Invoice Assistant began acting in your account: See your invoices"
        );
    }

    #[test]
    fn events_written_before_they_named_the_agent_still_read_plainly() {
        let old = serde_json::json!({"jti": "j"});
        assert_eq!(
            read(&event("shop", Action::TokenIntrospected, old.clone())),
            "Example Shop checked an access token issued under this access"
        );
        assert_eq!(
            read(&event("gone", Action::TokenRevoked, old)),
            "An access token issued under this access was revoked"
        );
    }
}
