//! What the console says after an action (post/redirect/get, as `/account`
//! does: `consent_screen::notice`): each form answers 303 to
//! `/console?done=<asked|cancelled|ended>&request=<id>` (or `&grant=<id>`),
//! and the page words the notice from a closed list of outcomes and the card
//! of that id on the agent's own lists. Nothing of the query is shown: an
//! unknown outcome shows nothing, an id not on the page only the plain outcome.

use super::cards::ticket_after;
use super::view::{ConsoleView, about};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Done {
    Asked,
    Cancelled,
    Ended,
}

impl Done {
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "asked" => Some(Self::Asked),
            "cancelled" => Some(Self::Cancelled),
            "ended" => Some(Self::Ended),
            _ => None,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Self::Asked => "asked",
            Self::Cancelled => "cancelled",
            Self::Ended => "ended",
        }
    }

    /// The query key of what the outcome is about, and the card's kind.
    pub fn key(self) -> &'static str {
        match self {
            Self::Asked | Self::Cancelled => "request",
            Self::Ended => "grant",
        }
    }

    /// Where the form sends the browser: the id only when it is a plain identifier.
    pub fn location(self, id: &str) -> String {
        let plain = !id.is_empty()
            && id.len() <= 64
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        match plain {
            true => format!("/console?done={}&{}={id}", self.as_str(), self.key()),
            false => format!("/console?done={}", self.as_str()),
        }
    }
}

/// The outcome and id of a console query, if it names a known outcome.
pub fn read(query: Option<&str>) -> Option<(Done, Option<String>)> {
    let pairs: Vec<(String, String)> = form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .into_owned()
        .collect();
    let value = |key: &str| pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone());
    let done = Done::parse(&value("done")?)?;
    Some((done, value(done.key())))
}

/// The sentence for `done` about card `id`, worded from the card on the page.
pub fn sentence(done: Done, id: Option<&str>, view: &ConsoleView) -> String {
    let card = id.and_then(|id| about(view, done.key(), id));
    match (done, card) {
        (Done::Asked, Some((user, ticket))) => format!(
            "You asked {user} for access{}. Their answer will show on this page.",
            ticket_after(ticket)
        ),
        (Done::Cancelled, Some((user, ticket))) => {
            format!(
                "You cancelled your request to {user}{}.",
                ticket_after(ticket)
            )
        }
        (Done::Ended, Some((user, ticket))) => format!(
            "You ended the access to {user}'s account{}.",
            ticket_after(ticket)
        ),
        (Done::Asked, None) => "You asked for access. The answer will show on this page.".into(),
        (Done::Cancelled, None) => "You cancelled the request.".into(),
        (Done::Ended, None) => "You ended the access.".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_known_outcomes_and_plain_ids_reach_the_address() {
        assert_eq!(
            Done::Asked.location("r-1"),
            "/console?done=asked&request=r-1"
        );
        assert_eq!(Done::Ended.location("g_1"), "/console?done=ended&grant=g_1");
        assert_eq!(Done::Cancelled.location("x&y"), "/console?done=cancelled");
        assert_eq!(read(Some("done=<b>&request=r1")), None);
        assert_eq!(
            read(Some("done=ended&grant=g1&request=r1")),
            Some((Done::Ended, Some("g1".into())))
        );
    }
}
