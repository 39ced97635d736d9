//! The delegation policy (docs/contract.md "Details clients rely on"): which
//! scopes may be delegated, for how long, and the plain words for scopes.
//! `agent` is never delegable, an agent's power is not passed on, nor is any
//! scope in `non_delegable_scopes` (docs/security.md E15).

use serde::Deserialize;

/// The scope that makes a token an agent's (docs/contract.md "Concepts").
pub const AGENT_SCOPE: &str = "agent";

/// Scopes no grant can carry, whatever the settings say.
pub const ALWAYS_NON_DELEGABLE: &[&str] = &[AGENT_SCOPE];

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Policy {
    pub min_grant_seconds: i64,
    pub max_grant_seconds: i64,
    pub delegated_token_ttl_seconds: i64,
    pub request_ttl_seconds: i64,
    /// How many requests one agent may have waiting for an answer, over all
    /// users (docs/security.md L5).
    pub max_pending_requests_per_agent: i64,
    #[serde(deserialize_with = "super::space_or_list")]
    pub non_delegable_scopes: Vec<String>,
    /// The `aud` of tokens and grants when none is asked for; the issuer when unset.
    pub default_audience: Option<String>,
    /// Plain words for scopes on the consent pages, e.g. `read = "See your orders"`.
    pub scope_descriptions: std::collections::HashMap<String, String>,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            min_grant_seconds: 60,
            max_grant_seconds: 7 * 24 * 3600,
            delegated_token_ttl_seconds: 300,
            request_ttl_seconds: 24 * 3600,
            max_pending_requests_per_agent: 20,
            non_delegable_scopes: Vec::new(),
            default_audience: None,
            scope_descriptions: Default::default(),
        }
    }
}

impl Policy {
    pub fn is_delegable(&self, scope: &str) -> bool {
        !ALWAYS_NON_DELEGABLE.contains(&scope)
            && !self.non_delegable_scopes.iter().any(|s| s == scope)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_agent_scope_and_listed_scopes_are_never_delegable() {
        let policy = Policy {
            non_delegable_scopes: vec!["admin".into()],
            ..Policy::default()
        };
        assert!(!policy.is_delegable("agent"));
        assert!(!policy.is_delegable("admin"));
        assert!(policy.is_delegable("read"));
    }
}
