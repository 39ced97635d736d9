//! A story in plain words (docs/contract.md "Email"): the subject, which
//! names the agent and what happened, and the body's parts, the same for the
//! text and the HTML part. Times are UTC and say so. The only link is to the
//! reader's own page (`/account` for the user, `/console` for the agent),
//! with nothing after the path: it signs no one in.

use super::story::{Story, Who, when};
use crate::clock::human_duration;
use crate::outbox::fan_out::Recipient;
use crate::store::events::EventType;
use serde::Serialize;

/// One mail, before it is rendered.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Mail {
    pub subject: String,
    /// Whom it greets.
    pub greeting: String,
    /// The opening paragraphs.
    pub lead: Vec<String>,
    /// Label and value: "Reason", "Ticket", "Until" ...
    pub facts: Vec<Fact>,
    /// "What bob could do:" and the scopes' descriptions (none: not shown).
    pub scopes_intro: String,
    pub scopes: Vec<String>,
    /// The sentence before the link, and the link.
    pub link_words: String,
    pub link: String,
    /// Why this mail came.
    pub footer: String,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Fact {
    pub label: &'static str,
    pub value: String,
}

impl Who {
    /// "bob", "the Support team", or "a support agent" when unknown.
    fn name(&self) -> String {
        match self {
            Who::Agent { name, .. } => name.clone(),
            Who::Team(team) if team.is_empty() => "a support agent".into(),
            Who::Team(team) => format!("the {team} team"),
        }
    }

    /// As the first words of a sentence.
    fn name_first(&self) -> String {
        capitalized(&self.name())
    }

    /// "bob's", "The Support team's".
    fn whose_first(&self) -> String {
        format!("{}'s", self.name_first())
    }
}

/// Our own words ("the Support team") start with a capital; a username stays as it is.
fn capitalized(words: &str) -> String {
    if words.starts_with("the ") || words.starts_with("a ") {
        let mut chars = words.chars();
        chars
            .next()
            .map(|c| c.to_uppercase().chain(chars).collect())
            .unwrap_or_default()
    } else {
        words.to_string()
    }
}

/// "14:30 UTC" on the day of `at`, else "3 December 2026, 14:30 UTC".
fn short_time(unix: i64, at: i64) -> String {
    let full = when(unix);
    if unix.div_euclid(86_400) == at.div_euclid(86_400) {
        full.rsplit(", ").next().unwrap_or(&full).to_string()
    } else {
        full
    }
}

/// The mail that tells `story`; `issuer` makes the link.
pub fn mail(story: &Story, issuer: &str) -> Mail {
    let who = story.who.name();
    let until = story.until.map(when).unwrap_or_default();
    let mut facts = Vec::new();
    let mut fact = |label, value: String| {
        if !value.is_empty() {
            facts.push(Fact { label, value });
        }
    };
    let (subject, lead, scopes_intro);
    match story.kind {
        EventType::RequestCreated => {
            let asker = match &story.who {
                Who::Agent {
                    name,
                    team: Some(team),
                } => format!("{name} from {team}"),
                _ => story.who.name_first(),
            };
            subject = format!("{asker} asks to access your account");
            let asked = story.duration.map(human_duration).unwrap_or_default();
            lead = vec![
                format!(
                    "{asker} asks to act in your account{}.",
                    if asked.is_empty() {
                        String::new()
                    } else {
                        format!(" for {asked}")
                    }
                ),
                "Nothing happens unless you allow it.".to_string(),
            ];
            fact("Reason", story.reason.clone());
            fact("Ticket", story.ticket.clone());
            fact("For how long", asked);
            fact("Answer by", story.answer_by.map(when).unwrap_or_default());
            scopes_intro = format!("What {who} could do:");
        }
        EventType::GrantCreated => {
            let short = story
                .until
                .map(|u| short_time(u, story.at))
                .unwrap_or_default();
            subject = format!("You allowed {who} to access your account until {short}");
            lead = vec![
                format!(
                    "{} can act in your account until {until}.",
                    story.who.name_first()
                ),
                "You can end this access at any time.".to_string(),
            ];
            fact("Reason", story.reason.clone());
            fact("Ticket", story.ticket.clone());
            fact("Until", until.clone());
            scopes_intro = format!("What {who} can do:");
        }
        EventType::GrantUsed => {
            subject = format!(
                "{} started using the access you gave",
                story.who.name_first()
            );
            lead = vec![format!(
                "{} started acting in your account at {}, with the access you gave until {until}.",
                story.who.name_first(),
                when(story.at)
            )];
            fact("Reason", story.reason.clone());
            fact("Ticket", story.ticket.clone());
            fact("Until", until.clone());
            scopes_intro = format!("What {who} can do:");
        }
        EventType::GrantEndingSoon => {
            let left = story.until.map(|u| u - story.at).unwrap_or(0);
            let left = human_duration((left + 59) / 60 * 60);
            subject = format!(
                "{} access to your account ends in {left}",
                story.who.whose_first()
            );
            lead = vec![
                format!(
                    "{} access to your account ends at {until}.",
                    story.who.whose_first()
                ),
                "You don't need to do anything: it ends by itself.".to_string(),
            ];
            fact("Reason", story.reason.clone());
            fact("Ticket", story.ticket.clone());
            scopes_intro = String::new();
        }
        EventType::GrantEnded => {
            subject = format!(
                "{} access to your account has ended",
                story.who.whose_first()
            );
            let why = match &story.ended {
                Some((at, by)) => match by.as_str() {
                    "user" => format!("You ended it at {}.", when(*at)),
                    "agent" => format!("{} ended it at {}.", story.who.name_first(), when(*at)),
                    "user_disabled" => {
                        format!(
                            "It ended at {} because your account was disabled.",
                            when(*at)
                        )
                    }
                    _ => format!("Its time ran out at {}.", when(*at)),
                },
                None => String::new(),
            };
            lead = [
                why,
                format!(
                    "{} can no longer act in your account.",
                    story.who.name_first()
                ),
            ]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect();
            fact("Reason", story.reason.clone());
            fact("Ticket", story.ticket.clone());
            scopes_intro = String::new();
        }
        EventType::RequestApproved => {
            subject = format!("{} allowed your request", story.user);
            lead = vec![format!(
                "{} allowed your request to act in their account until {until}.",
                story.user
            )];
            fact("Ticket", story.ticket.clone());
            fact("Your reason", story.reason.clone());
            fact("Until", until.clone());
            scopes_intro = "What you can do:".to_string();
        }
        EventType::RequestDenied => {
            subject = format!("{} declined your request", story.user);
            lead = vec![format!(
                "{} declined your request to act in their account. You cannot act in it.",
                story.user
            )];
            fact("Ticket", story.ticket.clone());
            fact("Your reason", story.reason.clone());
            scopes_intro = String::new();
        }
        EventType::RequestCancelled | EventType::RequestExpired | EventType::AuditCheckpoint => {
            subject = String::new();
            lead = Vec::new();
            scopes_intro = String::new();
        }
    }
    let (greeting, link_words, link, footer) = match story.to {
        Recipient::User => (
            story.user.clone(),
            match story.kind {
                EventType::RequestCreated => "To allow or decline it, sign in to your account:",
                EventType::GrantCreated | EventType::GrantUsed | EventType::GrantEndingSoon => {
                    "To see what was done, or to end the access now, sign in to your account:"
                }
                _ => "To see what was done, sign in to your account:",
            },
            format!("{issuer}/account"),
            "You get this mail because someone can act, or asks to act, in your account.",
        ),
        Recipient::Agent => (
            match &story.who {
                Who::Agent { name, .. } => name.clone(),
                Who::Team(_) => String::new(),
            },
            "Your requests and access are in the support console:",
            format!("{issuer}/console"),
            "You get this mail because you asked for access to a user's account.",
        ),
    };
    let scopes = if scopes_intro.is_empty() {
        Vec::new()
    } else {
        story.scopes.clone()
    };
    Mail {
        subject,
        greeting,
        lead,
        facts,
        scopes_intro,
        scopes,
        link_words: link_words.to_string(),
        link,
        footer: footer.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISSUER: &str = "https://id.example.com";
    /// 2 December 2026, 14:00 UTC.
    const AT: i64 = 1_796_220_000;

    fn story(kind: EventType, to: Recipient) -> Story {
        Story {
            kind,
            to,
            user: "alice".into(),
            who: Who::Agent {
                name: "bob".into(),
                team: Some("Support".into()),
            },
            reason: "Customer reported a billing bug".into(),
            ticket: "SUP-42".into(),
            scopes: vec!["See your orders".into()],
            duration: Some(7200),
            answer_by: Some(AT + 86_400),
            until: Some(AT + 1800),
            ended: None,
            at: AT,
        }
    }

    fn subject(kind: EventType, to: Recipient) -> String {
        mail(&story(kind, to), ISSUER).subject
    }

    #[test]
    fn each_subject_names_the_agent_and_what_happened() {
        use EventType::*;
        use Recipient::*;
        assert_eq!(
            subject(RequestCreated, User),
            "bob from Support asks to access your account"
        );
        assert_eq!(
            subject(GrantCreated, User),
            "You allowed bob to access your account until 14:30 UTC"
        );
        assert_eq!(
            subject(GrantUsed, User),
            "bob started using the access you gave"
        );
        let mut soon = story(GrantEndingSoon, User);
        soon.at = AT + 900;
        assert_eq!(
            mail(&soon, ISSUER).subject,
            "bob's access to your account ends in 15 minutes"
        );
        assert_eq!(
            subject(GrantEnded, User),
            "bob's access to your account has ended"
        );
        assert_eq!(
            subject(RequestApproved, Agent),
            "alice allowed your request"
        );
        assert_eq!(subject(RequestDenied, Agent), "alice declined your request");
    }

    #[test]
    fn a_team_grant_names_the_team_and_a_later_day_is_dated() {
        let mut given = story(EventType::GrantCreated, Recipient::User);
        given.who = Who::Team("Billing".into());
        given.until = Some(AT + 2 * 86_400);
        assert_eq!(
            mail(&given, ISSUER).subject,
            "You allowed the Billing team to access your account until 4 December 2026, 14:00 UTC"
        );
        given.kind = EventType::GrantEnded;
        assert_eq!(
            mail(&given, ISSUER).subject,
            "The Billing team's access to your account has ended"
        );
    }

    #[test]
    fn the_request_mail_says_who_why_the_ticket_how_long_and_links_to_the_account_page() {
        let m = mail(&story(EventType::RequestCreated, Recipient::User), ISSUER);
        assert_eq!(m.greeting, "alice");
        assert_eq!(
            m.lead[0],
            "bob from Support asks to act in your account for 2 hours."
        );
        let facts: Vec<(&str, &str)> = m
            .facts
            .iter()
            .map(|f| (f.label, f.value.as_str()))
            .collect();
        assert_eq!(
            facts,
            [
                ("Reason", "Customer reported a billing bug"),
                ("Ticket", "SUP-42"),
                ("For how long", "2 hours"),
                ("Answer by", "3 December 2026, 14:00 UTC"),
            ]
        );
        assert_eq!(m.scopes, ["See your orders"]);
        assert_eq!(m.link, "https://id.example.com/account");
    }

    #[test]
    fn the_agent_is_sent_to_the_console_and_an_ended_grant_says_why() {
        let m = mail(&story(EventType::RequestApproved, Recipient::Agent), ISSUER);
        assert_eq!(
            (m.greeting.as_str(), m.link.as_str()),
            ("bob", "https://id.example.com/console")
        );
        let mut ended = story(EventType::GrantEnded, Recipient::User);
        ended.ended = Some((AT, "expiry".into()));
        assert_eq!(
            mail(&ended, ISSUER).lead[0],
            "Its time ran out at 2 December 2026, 14:00 UTC."
        );
        ended.ended = Some((AT, "agent".into()));
        assert_eq!(
            mail(&ended, ISSUER).lead[0],
            "bob ended it at 2 December 2026, 14:00 UTC."
        );
    }
}
