//! The cards of `/account`, as a person reads them: a pending request (who,
//! their team, which support tool and apps, when it was asked and until when
//! it can be answered, each scope in plain words, durations that say exactly
//! what they give), a grant (the same, the time left and who ended it) and a
//! request that ended unanswered (denied, cancelled or expired).

use super::activity::{self, ActivityLine, Slice};
use super::labels::whose;
use super::times::{self, TimeView};
use crate::clock::{exact_duration, human_duration};
use crate::delegation::choices::{DurationOption, duration_options};
use crate::delegation::grants::GrantStatus;
use crate::oauth::scope;
use crate::store::access_requests::{AccessRequestRow, RequestState};
use crate::store::clients::ClientRow;
use crate::store::grants::{EndedBy, GrantRow};
use crate::store::users::UserRow;
use serde::Serialize;
use std::collections::HashMap;

/// What the cards are drawn from beside their own row.
pub struct Known<'a> {
    /// The operator's words for scopes (`policy.scope_descriptions`).
    pub words: &'a HashMap<String, String>,
    /// Usernames by `sub` and client names by `client_id`.
    pub names: &'a HashMap<String, String>,
    /// Agents' teams by `sub` (`behalf user add --team`).
    pub teams: &'a HashMap<String, String>,
    pub now: i64,
}

/// The page's names (usernames by `sub`, and client names by `client_id`:
/// clients act too, an app checking a token, a program agent asking) and
/// agents' teams by `sub`, for `Known`.
pub fn names_and_teams(
    users: Vec<UserRow>,
    clients: &[ClientRow],
) -> (HashMap<String, String>, HashMap<String, String>) {
    let teams = users
        .iter()
        .filter_map(|u| Some((u.sub.clone(), u.team.clone()?)))
        .collect();
    // A program agent's `sub` is its client id: it is shown by its client's
    // name, so the clients come last and win.
    let names = users
        .into_iter()
        .map(|u| (u.sub, u.username))
        .chain(
            clients
                .iter()
                .map(|c| (c.client_id.clone(), c.name.clone())),
        )
        .collect();
    (names, teams)
}

impl Known<'_> {
    fn team(&self, sub: &str) -> String {
        self.teams.get(sub).cloned().unwrap_or_default()
    }

    pub(super) fn name(&self, id: &str) -> String {
        self.names
            .get(id)
            .cloned()
            .unwrap_or_else(|| id.to_string())
    }

    pub(super) fn scopes(&self, scopes: &str) -> Vec<ScopeView> {
        scopes
            .split(' ')
            .filter(|s| !s.is_empty())
            .map(|s| ScopeView {
                name: s.into(),
                description: scope::describe(self.words, s),
            })
            .collect()
    }

    /// Who may use a grant, as a person reads it: the agent's username, or "the Support team".
    pub(super) fn grantee(&self, grant: &GrantRow) -> String {
        match (&grant.agent_sub, &grant.team) {
            (Some(sub), _) => self.name(sub),
            (None, Some(team)) => format!("the {team} team"),
            (None, None) => "an agent".into(),
        }
    }

    /// The apps an access reaches: a client's name when the audience is one,
    /// else the audience, a URL without its scheme ("api.example.com").
    fn apps(&self, audiences: &str) -> Vec<String> {
        audiences
            .split(' ')
            .filter(|a| !a.is_empty())
            .map(|a| match self.names.get(a) {
                Some(name) => name.clone(),
                None => a
                    .strip_prefix("https://")
                    .or_else(|| a.strip_prefix("http://"))
                    .map_or(a, |rest| rest.trim_end_matches('/'))
                    .to_string(),
            })
            .collect()
    }
}

#[derive(Serialize)]
pub struct ScopeView {
    name: String,
    description: String,
}

#[derive(Serialize)]
pub struct PendingCard {
    id: String,
    agent: String,
    /// The agent's team, when they have one.
    team: String,
    /// "bob's request (SUP-42)": the hidden end of each button's name.
    label: String,
    reason: String,
    ticket: String,
    tool: String,
    apps: Vec<String>,
    asked_at: TimeView,
    answer_by: TimeView,
    asked_for: String,
    scopes: Vec<ScopeView>,
    durations: Vec<DurationOption>,
}

/// `audience`: the apps an approval will reach (the server's default audience).
pub fn pending(known: &Known, request: &AccessRequestRow, audience: &str, min: i64) -> PendingCard {
    let agent = known.name(&request.agent_sub);
    let asked_at = times::at(request.created_at);
    PendingCard {
        id: request.id.clone(),
        label: whose(&agent, "request", &request.ticket, &asked_at.utc),
        team: known.team(&request.agent_sub),
        reason: request.reason.clone(),
        ticket: request.ticket.clone(),
        tool: known.name(&request.client_id),
        apps: known.apps(audience),
        asked_at,
        answer_by: times::at(request.expires_at),
        asked_for: exact_duration(request.duration),
        scopes: known.scopes(&request.scopes),
        durations: duration_options(min, request.duration, true),
        agent,
    }
}

#[derive(Serialize)]
pub struct UnansweredCard {
    id: String,
    agent: String,
    team: String,
    label: String,
    reason: String,
    ticket: String,
    tool: String,
    asked_at: TimeView,
    asked_for: String,
    scopes: Vec<ScopeView>,
    /// "Denied by you", "Cancelled by bob", "Expired without an answer".
    outcome: String,
    ended_at: TimeView,
}

/// A request that ended without a grant.
pub fn unanswered(known: &Known, request: &AccessRequestRow) -> UnansweredCard {
    let agent = known.name(&request.agent_sub);
    let asked_at = times::at(request.created_at);
    let (outcome, ended_at) = match request.state() {
        RequestState::Denied => ("Denied by you".to_string(), request.decided_at),
        RequestState::Cancelled => (format!("Cancelled by {agent}"), request.decided_at),
        _ => ("Expired without an answer".to_string(), None),
    };
    UnansweredCard {
        id: request.id.clone(),
        label: whose(&agent, "request", &request.ticket, &asked_at.utc),
        team: known.team(&request.agent_sub),
        reason: request.reason.clone(),
        ticket: request.ticket.clone(),
        tool: known.name(&request.client_id),
        asked_at,
        asked_for: exact_duration(request.duration),
        scopes: known.scopes(&request.scopes),
        outcome,
        ended_at: times::at(ended_at.unwrap_or(request.expires_at)),
        agent,
    }
}

#[derive(Serialize)]
pub struct GrantCard {
    id: String,
    pub status: &'static str,
    agent: String,
    team: String,
    label: String,
    reason: String,
    ticket: String,
    tool: String,
    apps: Vec<String>,
    /// Delegated-sign-in apps the grant reaches, by name.
    sign_in_apps: Vec<String>,
    scopes: Vec<ScopeView>,
    created_at: TimeView,
    expires_at: TimeView,
    time_left: String,
    /// "Ended by you", "Ended by the agent (bob)", "Expired", ...; empty while active.
    ended: String,
    ended_at: Option<TimeView>,
    /// Who, as a heading's first words ("The Support team", "bob").
    heading: String,
    /// `label` as a heading's first words.
    label_heading: String,
    /// The newest lines (`activity::PAGE` at most), newest first.
    activity: Vec<ActivityLine>,
    /// Whether older lines are on the grant's activity page.
    older_activity: bool,
}

/// `events`: a page of the grant's activity (`activity::Slice`).
pub fn grant(known: &Known, grant: &GrantRow, events: Option<&Slice>) -> GrantCard {
    let agent = known.grantee(grant);
    let status = GrantStatus::of(grant, known.now);
    let (ended, ended_at) = match (status, grant.ended_by()) {
        (GrantStatus::Revoked, Some(EndedBy::Agent)) => {
            let by = match &grant.team {
                Some(_) => format!("an agent of {agent}"),
                None => format!("the agent ({agent})"),
            };
            (format!("Ended by {by}"), grant.revoked_at)
        }
        (GrantStatus::Revoked, Some(EndedBy::UserDisabled)) => (
            "Ended: an account was disabled".to_string(),
            grant.revoked_at,
        ),
        (GrantStatus::Revoked, _) => ("Ended by you".to_string(), grant.revoked_at),
        (GrantStatus::Expired, _) => ("Expired".to_string(), Some(grant.expires_at)),
        (GrantStatus::Active, _) => (String::new(), None),
    };
    let activity = events
        .map(|slice| activity::lines(slice, known.names, known.words))
        .unwrap_or_default();
    let created_at = times::at(grant.created_at);
    GrantCard {
        id: grant.id.clone(),
        status: status.as_str(),
        label: whose(&agent, "access", &grant.ticket, &created_at.utc),
        team: grant
            .agent_sub
            .as_deref()
            .map(|sub| known.team(sub))
            .unwrap_or_default(),
        reason: grant.reason.clone(),
        ticket: grant.ticket.clone(),
        tool: known.name(&grant.client_id),
        apps: known.apps(&grant.audiences),
        sign_in_apps: grant.app_list().iter().map(|a| known.name(a)).collect(),
        scopes: known.scopes(&grant.scopes),
        created_at,
        expires_at: times::at(grant.expires_at),
        time_left: human_duration(grant.expires_at - known.now),
        ended,
        ended_at: ended_at.map(times::at),
        heading: super::labels::at_sentence_start(&agent),
        label_heading: String::new(),
        activity,
        older_activity: events.is_some_and(|slice| slice.older),
        agent,
    }
}

/// Numbers repeated labels across a page's cards (`labels::make_distinct`).
pub fn make_labels_distinct(
    pending: &mut [PendingCard],
    grants: &mut [GrantCard],
    unanswered: &mut [UnansweredCard],
) {
    super::labels::make_distinct(
        pending
            .iter_mut()
            .map(|c| &mut c.label)
            .chain(grants.iter_mut().map(|c| &mut c.label))
            .chain(unanswered.iter_mut().map(|c| &mut c.label)),
    );
    for card in grants {
        card.label_heading = super::labels::at_sentence_start(&card.label);
    }
}
