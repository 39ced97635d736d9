//! What a mail tells, gathered at send time: the event's `data` (the API's
//! request or grant object as it was when it happened) for the words and
//! times, and the store for what that object does not carry (the asking
//! agent's name and team; what an approval allowed). Nothing secret is read:
//! these rows hold no token, code or password.

use crate::delegation::consent_screen::times;
use crate::oauth::scope;
use crate::outbox::fan_out::Recipient;
use crate::store::access_requests::AccessRequestRow;
use crate::store::events::{EventRow, EventType};
use crate::store::grants::GrantRow;
use crate::store::users::UserRow;
use crate::store::{AnyConnection, StoreError};
use serde::Deserialize;
use std::collections::HashMap;

/// Who acts: a named agent (with their team, when known), or a team.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Who {
    Agent { name: String, team: Option<String> },
    Team(String),
}

/// Everything a mail about one event may say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Story {
    pub kind: EventType,
    pub to: Recipient,
    /// The user whose account it is about.
    pub user: String,
    /// The agent or team who asked or may act.
    pub who: Who,
    pub reason: String,
    pub ticket: String,
    /// Plain-words descriptions of the scopes asked for or allowed.
    pub scopes: Vec<String>,
    /// What was asked: seconds (a request).
    pub duration: Option<i64>,
    /// When a request must be answered by (Unix seconds).
    pub answer_by: Option<i64>,
    /// When the access ends (Unix seconds).
    pub until: Option<i64>,
    /// When it ended, and by whom (`user`, `agent`, `expiry`, `user_disabled`).
    pub ended: Option<(i64, String)>,
    /// When the event happened.
    pub at: i64,
}

/// The fields of `RequestView` and `GrantView` a mail uses.
#[derive(Deserialize, Default)]
#[serde(default)]
struct Data {
    subject_username: String,
    agent_username: Option<String>,
    team: Option<String>,
    scope: String,
    reason: String,
    ticket: String,
    duration: Option<i64>,
    expires_at: Option<String>,
    grant_id: Option<String>,
    ended_at: Option<String>,
    ended_by: Option<String>,
}

/// The story of `event` for `to`, or why there is none.
pub fn read(
    conn: &mut AnyConnection,
    event: &EventRow,
    to: Recipient,
    words: &HashMap<String, String>,
) -> Result<Result<Story, String>, StoreError> {
    let Some(kind) = event.kind() else {
        return Ok(Err(format!("unknown event type {:?}", event.event_type)));
    };
    let Some(data) = event.data.as_deref() else {
        return Ok(Err("its event has no data".into()));
    };
    let Ok(data) = serde_json::from_str::<Data>(data) else {
        return Ok(Err("its event's data does not read".into()));
    };
    let is_request = kind.as_str().starts_with("access_request.");
    let mut story = Story {
        kind,
        to,
        user: data.subject_username.clone(),
        who: Who::Team(String::new()),
        reason: data.reason.clone(),
        ticket: data.ticket.clone(),
        scopes: describe(words, &data.scope),
        duration: None,
        answer_by: None,
        until: data.expires_at.as_deref().and_then(unix),
        ended: None,
        at: event.due_at,
    };
    if is_request {
        story.duration = data.duration;
        story.answer_by = story.until.take();
        story.who = asking_agent(conn, &event.subject_id)?;
        if let Some(grant_id) = &data.grant_id
            && let Some(grant) = GrantRow::find(conn, grant_id)?
        {
            // An approval may allow less, or for less long, than was asked.
            story.scopes = describe(words, &grant.scopes);
            story.until = Some(grant.expires_at);
        }
    } else {
        story.who = match (data.agent_username, data.team) {
            (Some(name), _) => Who::Agent { name, team: None },
            (None, Some(team)) => Who::Team(team),
            (None, None) => Who::Team(String::new()),
        };
        story.ended = match (data.ended_at.as_deref().and_then(unix), data.ended_by) {
            (Some(at), Some(by)) => Some((at, by)),
            _ => None,
        };
    }
    Ok(Ok(story))
}

/// The agent who made request `id`, with their team.
fn asking_agent(conn: &mut AnyConnection, id: &str) -> Result<Who, StoreError> {
    let Some(request) = AccessRequestRow::find(conn, id)? else {
        return Ok(Who::Team(String::new()));
    };
    Ok(match UserRow::find_by_sub(conn, &request.agent_sub)? {
        Some(agent) => Who::Agent {
            name: agent.username,
            team: agent.team,
        },
        None => Who::Team(String::new()),
    })
}

fn describe(words: &HashMap<String, String>, scopes: &str) -> Vec<String> {
    scopes
        .split(' ')
        .filter(|s| !s.is_empty() && !scope::is_identity_scope(s))
        .map(|s| scope::describe(words, s))
        .collect()
}

/// "2026-12-01T19:41:49Z" as Unix seconds (the API's timestamps, UTC only).
/// Days from the civil date after Howard Hinnant's `days_from_civil`.
pub fn unix(datetime: &str) -> Option<i64> {
    let b = datetime.as_bytes();
    if b.len() != 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[19] != b'Z' {
        return None;
    }
    let n = |range: std::ops::Range<usize>| datetime.get(range)?.parse::<i64>().ok();
    let (y, m, d) = (n(0..4)?, n(5..7)?, n(8..10)?);
    let (hh, mm, ss) = (n(11..13)?, n(14..16)?, n(17..19)?);
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + hh * 3600 + mm * 60 + ss)
}

/// "1 December 2026, 19:41 UTC".
pub fn when(unix: i64) -> String {
    times::at(unix).utc
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::rfc3339;

    #[test]
    fn api_timestamps_read_back_to_the_seconds_they_were_made_from() {
        for t in [0, 1_795_608_671, 951_782_400, 4_107_542_399] {
            assert_eq!(unix(&rfc3339(t)), Some(t), "{}", rfc3339(t));
        }
        assert_eq!(unix("2026-12-01 19:41:49"), None);
        assert_eq!(unix("2026-12-01T19:41:49+01:00"), None);
    }

    #[test]
    fn identity_scopes_are_left_out_and_the_others_described() {
        let words = HashMap::from([("read".to_string(), "See your orders".to_string())]);
        assert_eq!(describe(&words, "openid read"), ["See your orders"]);
    }
}
