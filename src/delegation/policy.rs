//! The delegation policy applied to what agents ask and users give: which
//! scopes a grant through a client may carry (never `agent`, never a scope in
//! `policy.non_delegable_scopes`: docs/security.md E15), the bounds on its
//! duration, on free text and on the apps it names. Pure functions of the policy.

use super::refusal::Refusal;
use crate::clients::Client;
use crate::config::Policy;
use crate::oauth::scope;

/// Parses and checks scopes for a grant used through `client`.
pub fn grantable_scopes(
    policy: &Policy,
    client: &Client,
    requested: &str,
) -> Result<Vec<String>, Refusal> {
    let scopes =
        scope::parse(requested).map_err(|_| Refusal::invalid_scope("the scope is malformed"))?;
    if scopes.is_empty() {
        return Err(Refusal::invalid_scope("name at least one scope"));
    }
    if let Some(s) = scopes.iter().find(|s| !policy.is_delegable(s)) {
        return Err(Refusal::invalid_scope(format!(
            "scope {s} can never be delegated"
        )));
    }
    if let Some(s) = scopes.iter().find(|s| !client.scopes.contains(s)) {
        return Err(Refusal::invalid_scope(format!(
            "scope {s} is not available to client {}",
            client.client_id
        )));
    }
    Ok(scopes)
}

pub fn check_duration(policy: &Policy, duration: i64) -> Result<i64, Refusal> {
    if duration < policy.min_grant_seconds || duration > policy.max_grant_seconds {
        return Err(Refusal::invalid(format!(
            "duration must be between {} and {} seconds",
            policy.min_grant_seconds, policy.max_grant_seconds
        )));
    }
    Ok(duration)
}

/// Free text from agents and users: trimmed, bounded, no control character but line breaks and tabs.
pub fn text(
    value: Option<&str>,
    field: &str,
    max: usize,
    required: bool,
) -> Result<String, Refusal> {
    let value = value.unwrap_or_default().trim();
    // Free text may run over lines; no other control character is text (L7).
    if value
        .chars()
        .any(|c| c.is_ascii_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(Refusal::invalid(format!(
            "{field} contains a control character"
        )));
    }
    if required && value.is_empty() {
        return Err(Refusal::invalid(format!("{field} is required")));
    }
    if value.chars().count() > max {
        return Err(Refusal::invalid(format!(
            "{field} is longer than {max} characters"
        )));
    }
    Ok(value.to_string())
}

/// A one-line value (a subject, a ticket): as `text`, without line breaks or tabs.
pub fn line(
    value: Option<&str>,
    field: &str,
    max: usize,
    required: bool,
) -> Result<String, Refusal> {
    let value = text(value, field, max, required)?;
    if value.chars().any(|c| c.is_ascii_control()) {
        return Err(Refusal::invalid(format!(
            "{field} contains a control character"
        )));
    }
    Ok(value)
}

/// At most this many apps in one request or grant.
pub const MAX_APPS: usize = 20;

/// The apps (client ids) a request asks for or a user gives, before any lookup: at most `MAX_APPS`.
pub fn check_app_count(apps: &[String]) -> Result<(), Refusal> {
    if apps.len() > MAX_APPS {
        return Err(Refusal::invalid(format!(
            "at most {MAX_APPS} apps in one access"
        )));
    }
    Ok(())
}

/// Each app is one of `registered`, the clients among them registered for
/// delegated sign-in; the first that is not is named.
pub fn check_apps_registered(apps: &[String], registered: &[String]) -> Result<(), Refusal> {
    match apps.iter().find(|id| !registered.contains(id)) {
        Some(id) => Err(Refusal::invalid(format!(
            "{id} is not an app agents can sign in to"
        ))),
        None => Ok(()),
    }
}

/// A grant is only useful through a confidential client allowed token exchange.
pub fn require_exchange_client(client: &Client) -> Result<(), Refusal> {
    if client.can_exchange() || client.allows_grant(crate::clients::GrantType::Ciba) {
        Ok(())
    } else {
        Err(Refusal::invalid(format!(
            "client {} is not allowed token exchange, so a grant to it could not be used",
            client.client_id
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clients::GrantType;
    use crate::test_rows::client;

    fn support_client() -> Client {
        client(
            "desk",
            &[GrantType::TokenExchange],
            &["read", "write", "admin", "agent"],
        )
    }

    fn policy() -> Policy {
        Policy {
            non_delegable_scopes: vec!["admin".into()],
            ..Policy::default()
        }
    }

    #[test]
    fn grantable_scopes_keep_order_and_refuse_the_agent_scope_listed_scopes_and_strays() {
        let client = support_client();
        assert_eq!(
            grantable_scopes(&policy(), &client, "write read write").unwrap(),
            vec!["write", "read"]
        );
        for refused in ["agent", "read admin", "delete", "", "re\"ad"] {
            assert!(matches!(
                grantable_scopes(&policy(), &client, refused),
                Err(Refusal::InvalidScope(_))
            ));
        }
    }

    #[test]
    fn a_duration_outside_the_policy_bounds_is_refused() {
        let policy = policy();
        assert_eq!(check_duration(&policy, 3600), Ok(3600));
        assert!(check_duration(&policy, policy.min_grant_seconds - 1).is_err());
        assert!(check_duration(&policy, policy.max_grant_seconds + 1).is_err());
    }

    #[test]
    fn free_text_is_trimmed_required_when_asked_and_bounded() {
        assert_eq!(text(Some("  why  "), "reason", 10, true).unwrap(), "why");
        assert!(text(Some("   "), "reason", 10, true).is_err());
        assert_eq!(text(None, "ticket", 10, false).unwrap(), "");
        assert!(text(Some("eleven chars"), "ticket", 10, false).is_err());
        assert_eq!(
            text(Some("two\nlines"), "reason", 10, true).unwrap(),
            "two\nlines"
        );
        assert!(text(Some("nul\0"), "reason", 10, true).is_err());
        assert!(line(Some("two\nlines"), "ticket", 10, true).is_err());
    }

    #[test]
    fn apps_are_at_most_twenty_each_registered_for_delegated_sign_in() {
        let names = |n: usize| (0..n).map(|i| format!("app{i}")).collect::<Vec<_>>();
        assert!(check_app_count(&names(MAX_APPS)).is_ok());
        assert!(check_app_count(&names(MAX_APPS + 1)).is_err());
        let shop = vec!["shop".to_string()];
        assert!(check_apps_registered(&shop, &shop).is_ok());
        assert!(check_apps_registered(&[], &[]).is_ok());
        let refused = check_apps_registered(&names(2), &["app0".into()]).unwrap_err();
        assert_eq!(
            refused.description(),
            "app1 is not an app agents can sign in to"
        );
    }

    #[test]
    fn only_a_confidential_exchange_client_can_carry_a_grant() {
        let mut client = support_client();
        assert!(require_exchange_client(&client).is_ok());
        client.is_public = true;
        assert!(require_exchange_client(&client).is_err());
        client.is_public = false;
        client.grant_types = vec![GrantType::ClientCredentials];
        assert!(require_exchange_client(&client).is_err());
    }
}
