//! Who an IdP says someone is: its issuer, its `sub`, and the other claims of
//! the verified token (OIDC Core §5.1 standard claims; the settings' agent and
//! team claims). Read here into what behalf keeps: a username to start from,
//! an email and a name shown on pages (one plain line each, else ignored), the
//! agent role and a team.

use crate::config::AgentClaim;
use serde_json::{Map, Value};

/// Longest claim value kept as an email, name or team (as `behalf user add`).
const MAX_LEN: usize = 254;
/// Longest username made from a claim, before a `-N` that makes it unique.
const MAX_USERNAME: usize = 56;

#[derive(Debug, Clone, PartialEq)]
pub struct Identity {
    /// The IdP's issuer as configured (the token's `iss` matched it).
    pub issuer: String,
    pub subject: String,
    pub claims: Map<String, Value>,
}

/// A value fit to show: one line, not blank, not over-long.
fn plain_line(value: &str) -> Option<String> {
    let value = value.trim();
    let fits = !value.is_empty() && value.len() <= MAX_LEN && !value.chars().any(char::is_control);
    fits.then(|| value.to_string())
}

impl Identity {
    fn string(&self, name: &str) -> Option<&str> {
        self.claims.get(name).and_then(Value::as_str)
    }

    pub fn email(&self) -> Option<String> {
        self.string("email").and_then(plain_line).filter(|e| {
            e.split('@').count() == 2
                && !e.starts_with('@')
                && !e.ends_with('@')
                && !e.contains(' ')
        })
    }

    pub fn name(&self) -> Option<String> {
        self.string("name").and_then(plain_line)
    }

    /// Whether the agent claim holds one of its values (a string claim, or
    /// an array of strings).
    pub fn is_agent(&self, rule: &AgentClaim) -> bool {
        match self.claims.get(&rule.claim) {
            Some(Value::String(one)) => rule.values.contains(one),
            Some(Value::Array(many)) => many
                .iter()
                .filter_map(Value::as_str)
                .any(|v| rule.values.iter().any(|wanted| wanted == v)),
            _ => false,
        }
    }

    /// The team claim's value, when it is one plain line.
    pub fn team(&self, claim: &str) -> Option<String> {
        self.string(claim).and_then(plain_line)
    }

    /// The username a new account starts from: `preferred_username`, else
    /// `email`, else `sub`, with every character a username may not hold
    /// made '-' (made unique when the account is made).
    pub fn username_wanted(&self) -> String {
        let from = ["preferred_username", "email"]
            .iter()
            .find_map(|claim| self.string(claim).filter(|v| !v.trim().is_empty()))
            .unwrap_or(&self.subject);
        let name: String = from
            .trim()
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || "-._@".contains(c) {
                    c
                } else {
                    '-'
                }
            })
            .take(MAX_USERNAME)
            .collect();
        if name.is_empty() { "user".into() } else { name }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn identity(claims: Value) -> Identity {
        Identity {
            issuer: "https://idp.example.com".into(),
            subject: "248289761001".into(),
            claims: claims.as_object().unwrap().clone(),
        }
    }

    #[test]
    fn the_username_comes_from_preferred_username_then_email_then_sub() {
        let named =
            identity(json!({"preferred_username": "Jane Doe", "email": "jane@example.com"}));
        assert_eq!(named.username_wanted(), "Jane-Doe");
        let mailed = identity(json!({"email": "jane@example.com"}));
        assert_eq!(mailed.username_wanted(), "jane@example.com");
        assert_eq!(identity(json!({})).username_wanted(), "248289761001");
    }

    #[test]
    fn the_agent_claim_holds_as_a_string_or_in_an_array() {
        let rule = AgentClaim {
            claim: "groups".into(),
            values: vec!["support".into()],
        };
        assert!(identity(json!({"groups": ["staff", "support"]})).is_agent(&rule));
        assert!(identity(json!({"groups": "support"})).is_agent(&rule));
        assert!(!identity(json!({"groups": ["staff"]})).is_agent(&rule));
        assert!(!identity(json!({"groups": {"support": true}})).is_agent(&rule));
        assert!(!identity(json!({})).is_agent(&rule));
    }

    #[test]
    fn a_claim_that_is_not_one_plain_line_is_not_kept() {
        let forged = identity(json!({"name": "Jane\nINFO forged", "email": "not-an-address"}));
        assert_eq!(forged.name(), None);
        assert_eq!(forged.email(), None);
        let good = identity(json!({"name": " Jane Doe ", "email": "jane@example.com"}));
        assert_eq!(good.name().as_deref(), Some("Jane Doe"));
        assert_eq!(good.email().as_deref(), Some("jane@example.com"));
    }
}
