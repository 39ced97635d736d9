//! What `/account` says after an action (post/redirect/get): each form answers
//! 303 to `/account?done=<outcome>&request=<id>` (or `&grant=<id>`), and the
//! page builds the sentence here from a closed list of outcomes and the
//! user's own rows. Nothing of the query's text is ever shown: an unknown
//! outcome shows nothing, an id that is not the user's only the plain outcome.

use crate::clock::exact_duration;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Done {
    Approved,
    Denied,
    Ended,
    Given,
}

impl Done {
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "approved" => Some(Self::Approved),
            "denied" => Some(Self::Denied),
            "ended" => Some(Self::Ended),
            "given" => Some(Self::Given),
            _ => None,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Self::Approved => "approved",
            Self::Denied => "denied",
            Self::Ended => "ended",
            Self::Given => "given",
        }
    }

    /// Whether the outcome is about a request (else a grant).
    pub fn about_request(self) -> bool {
        matches!(self, Self::Approved | Self::Denied)
    }

    /// Where the form sends the browser: the id only when it is a plain identifier.
    pub fn location(self, id: &str) -> String {
        let key = if self.about_request() {
            "request"
        } else {
            "grant"
        };
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

/// The request or grant the outcome is about, as the user's own rows tell it.
pub struct About {
    /// "bob's request (SUP-42)" or "bob's access (SUP-42)" (`labels::whose`).
    pub label: String,
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
            a.agent,
            exact_duration(a.seconds)
        ),
        (Done::Denied, Some(a)) => format!(
            "You denied {}. {} cannot act in your account.",
            a.label, a.agent
        ),
        (Done::Ended, Some(a)) => format!(
            "You ended {}. {} can no longer act in your account.",
            a.label, a.agent
        ),
        (Done::Given, Some(a)) => format!(
            "You gave {} access to your account for {}.",
            a.agent,
            exact_duration(a.seconds)
        ),
        (Done::Approved, None) => "You approved the request.".into(),
        (Done::Denied, None) => "You denied the request.".into(),
        (Done::Ended, None) => "You ended the access.".into(),
        (Done::Given, None) => "You gave access.".into(),
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
    }
}
