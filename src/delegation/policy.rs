//! The delegation policy: which scopes may be delegated, and for how long.
//! `agent` is never delegable (an agent's power is not passed on), nor is any
//! scope in `policy.non_delegable_scopes` (SECURITY.md E15).

use super::error::DelegationError;
use crate::config::Policy;
use crate::oauth::clients::Client;
use crate::oauth::scope;

pub const ALWAYS_NON_DELEGABLE: &[&str] = &["agent"];

pub fn is_delegable(policy: &Policy, scope: &str) -> bool {
    !ALWAYS_NON_DELEGABLE.contains(&scope)
        && !policy.non_delegable_scopes.iter().any(|s| s == scope)
}

/// Parses and checks scopes for a grant used through `client`.
pub fn grantable_scopes(
    policy: &Policy,
    client: &Client,
    requested: &str,
) -> Result<Vec<String>, DelegationError> {
    let scopes = scope::parse(requested)
        .map_err(|_| DelegationError::invalid_scope("the scope is malformed"))?;
    if scopes.is_empty() {
        return Err(DelegationError::invalid_scope("name at least one scope"));
    }
    if let Some(s) = scopes.iter().find(|s| !is_delegable(policy, s)) {
        return Err(DelegationError::invalid_scope(format!(
            "scope {s} can never be delegated"
        )));
    }
    if let Some(s) = scopes.iter().find(|s| !client.scopes.contains(s)) {
        return Err(DelegationError::invalid_scope(format!(
            "scope {s} is not available to client {}",
            client.client_id
        )));
    }
    Ok(scopes)
}

pub fn check_duration(policy: &Policy, duration: i64) -> Result<i64, DelegationError> {
    if duration < policy.min_grant_seconds || duration > policy.max_grant_seconds {
        return Err(DelegationError::invalid_request(format!(
            "duration must be between {} and {} seconds",
            policy.min_grant_seconds, policy.max_grant_seconds
        )));
    }
    Ok(duration)
}

/// Free text from agents and users: trimmed, bounded.
pub fn text(
    value: Option<&str>,
    field: &str,
    max: usize,
    required: bool,
) -> Result<String, DelegationError> {
    let value = value.unwrap_or_default().trim();
    if required && value.is_empty() {
        return Err(DelegationError::invalid_request(format!(
            "{field} is required"
        )));
    }
    if value.chars().count() > max {
        return Err(DelegationError::invalid_request(format!(
            "{field} is longer than {max} characters"
        )));
    }
    Ok(value.to_string())
}
