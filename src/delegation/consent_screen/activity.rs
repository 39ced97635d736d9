//! The activity under a grant in plain words: one line per audit event about
//! it, naming who did what ("bob began acting in your account (read)").

use crate::audit::Action;
use crate::store::audit_events::AuditEventRow;
use crate::store::grants::EndedBy;
use std::collections::HashMap;

/// `names`: usernames by `sub`, for the actors the page knows.
pub fn line(event: &AuditEventRow, names: &HashMap<String, String>) -> String {
    let detail: serde_json::Value = serde_json::from_str(&event.detail).unwrap_or_default();
    let name = |sub: &str| names.get(sub).cloned().unwrap_or_else(|| "someone".into());
    let actor = name(&event.actor);
    let ended_by_agent = detail["by"] == EndedBy::Agent.as_str();
    let ended_by_disabling = detail["by"] == EndedBy::UserDisabled.as_str();
    match Action::parse(&event.action) {
        Some(Action::GrantCreated) => format!("{actor} gave access"),
        Some(Action::GrantRevoked) if ended_by_disabling => {
            format!("The access ended: {actor}'s account was disabled")
        }
        Some(Action::GrantRevoked) if ended_by_agent => format!("{actor} ended the access"),
        Some(Action::GrantRevoked) => "You ended the access".into(),
        Some(Action::TokenExchanged) => format!(
            "{actor} began acting in your account ({})",
            detail["scope"].as_str().unwrap_or_default()
        ),
        Some(Action::TokenIntrospected) => {
            let app = names.get(&event.actor).map_or("An app", String::as_str);
            match detail["count"].as_u64() {
                Some(n) => {
                    format!("{app} checked an access token issued under this access ({n} times)")
                }
                None => format!("{app} checked an access token issued under this access"),
            }
        }
        Some(Action::TokenRevoked) => "An access token issued under this access was revoked".into(),
        _ => event.action.replace('.', " "),
    }
}
