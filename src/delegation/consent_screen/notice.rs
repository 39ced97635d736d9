//! What `/account` says after an action (post/redirect/get): each form answers
//! 303 to `/account?done=<outcome>&request=<id>` (or `&grant=<id>`, or
//! `&app=<client_id>` after a withdrawal), and the
//! page builds the sentence here from a closed list of outcomes and the
//! user's own rows. Nothing of the query's text is ever shown: an unknown
//! outcome shows nothing, an id that is not the user's only the plain outcome.

use super::labels::at_sentence_start;
use crate::clock::exact_duration;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Done {
    Approved,
    Denied,
    Ended,
    Given,
    /// An app's consent withdrawn (keyed by `app`).
    Withdrawn,
}

impl Done {
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "approved" => Some(Self::Approved),
            "denied" => Some(Self::Denied),
            "ended" => Some(Self::Ended),
            "given" => Some(Self::Given),
            "withdrawn" => Some(Self::Withdrawn),
            _ => None,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Self::Approved => "approved",
            Self::Denied => "denied",
            Self::Ended => "ended",
            Self::Given => "given",
            Self::Withdrawn => "withdrawn",
        }
    }

    /// The query key of what the outcome is about: a request, a grant or an app.
    pub fn key(self) -> &'static str {
        match self {
            Self::Approved | Self::Denied => "request",
            Self::Ended | Self::Given => "grant",
            Self::Withdrawn => "app",
        }
    }

    /// Where the form sends the browser: the id only when it is a plain identifier.
    pub fn location(self, id: &str) -> String {
        let key = self.key();
        let plain = !id.is_empty()
            && id.len() <= 64
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        match plain {
            true => format!("/account?done={}&{key}={id}", self.as_str()),
            false => format!("/account?done={}", self.as_str()),
        }
    }
}

/// The request, grant or app the outcome is about, as the user's own rows
/// (or, for an app, the client registry) tell it.
pub struct About {
    /// "bob's request (SUP-42)" or "bob's access (SUP-42)" (`labels::whose`).
    pub label: String,
    /// The agent's username, or the app's registered name.
    pub agent: String,
    /// The duration granted (approved, given).
    pub seconds: i64,
}

/// The sentence for `done`; `about` is `None` when the id was missing or not the user's.
pub fn sentence(done: Done, about: Option<&About>) -> String {
    match (done, about) {
        (Done::Approved, Some(a)) => format!(
            "You approved {}. {} can act in your account for {}.",
            a.label,
            at_sentence_start(&a.agent),
            exact_duration(a.seconds)
        ),
        (Done::Denied, Some(a)) => format!(
            "You denied {}. {} cannot act in your account.",
            a.label,
            at_sentence_start(&a.agent)
        ),
        (Done::Ended, Some(a)) => format!(
            "You ended {}. {} can no longer act in your account.",
            a.label,
            at_sentence_start(&a.agent)
        ),
        (Done::Given, Some(a)) => format!(
            "You gave {} access to your account for {}.",
            a.agent,
            exact_duration(a.seconds)
        ),
        (Done::Withdrawn, Some(a)) => {
            format!("You withdrew {}'s access. It must ask you again.", a.agent)
        }
        (Done::Approved, None) => "You approved the request.".into(),
        (Done::Denied, None) => "You denied the request.".into(),
        (Done::Ended, None) => "You ended the access.".into(),
        (Done::Given, None) => "You gave access.".into(),
        (Done::Withdrawn, None) => "You withdrew the app's access.".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_known_outcomes_and_plain_ids_reach_the_address() {
        assert_eq!(Done::parse("<script>"), None);
        assert_eq!(
            Done::Approved.location("abc-123"),
            "/account?done=approved&request=abc-123"
        );
        assert_eq!(Done::Ended.location("g1"), "/account?done=ended&grant=g1");
        assert_eq!(
            Done::Denied.location("x&done=given"),
            "/account?done=denied"
        );
    }

    #[test]
    fn the_sentence_names_the_agent_and_what_changed() {
        let about = About {
            label: "bob's request (SUP-42)".into(),
            agent: "bob".into(),
            seconds: 5400,
        };
        assert_eq!(
            sentence(Done::Approved, Some(&about)),
            "You approved bob's request (SUP-42). bob can act in your account for 1 hour 30 minutes."
        );
        assert_eq!(sentence(Done::Denied, None), "You denied the request.");
        let app = About {
            label: String::new(),
            agent: "Example Shop".into(),
            seconds: 0,
        };
        assert_eq!(
            sentence(Done::Withdrawn, Some(&app)),
            "You withdrew Example Shop's access. It must ask you again."
        );
        assert_eq!(
            Done::Withdrawn.location("shop"),
            "/account?done=withdrawn&app=shop"
        );
        assert_eq!(Done::parse("withdrawn"), Some(Done::Withdrawn));
    }
}
