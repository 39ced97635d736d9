//! Scope values (RFC 6749 §3.3): space-delimited tokens of visible ASCII without
//! `"` or `\`; order kept, duplicates dropped.

use crate::error::OAuthError;

pub fn is_scope_token(token: &str) -> bool {
    !token.is_empty()
        && token
            .bytes()
            .all(|b| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b))
}

/// Parses a `scope` parameter; a malformed one is `invalid_scope`.
pub fn parse(scope: &str) -> Result<Vec<String>, OAuthError> {
    let mut out: Vec<String> = Vec::new();
    for token in scope.split(' ').filter(|t| !t.is_empty()) {
        if !is_scope_token(token) {
            return Err(OAuthError::invalid_scope(
                "the scope parameter is malformed",
            ));
        }
        if !out.iter().any(|t| t == token) {
            out.push(token.to_string());
        }
    }
    Ok(out)
}

/// The requested scopes if all are allowed; otherwise `invalid_scope` naming the first stray.
pub fn within(requested: Vec<String>, allowed: &[String]) -> Result<Vec<String>, OAuthError> {
    match requested.iter().find(|s| !allowed.contains(s)) {
        Some(stray) => Err(OAuthError::invalid_scope(format!(
            "scope {stray} is not allowed for this client"
        ))),
        None => Ok(requested),
    }
}

/// What a scope lets an app do, in plain words for the consent pages: the
/// operator's words from `policy.scope_descriptions` first, then ours.
pub fn describe(words: &std::collections::HashMap<String, String>, scope: &str) -> String {
    if let Some(description) = words.get(scope) {
        return description.clone();
    }
    match scope {
        "openid" => "Confirm who you are".into(),
        "profile" => "See your username".into(),
        "agent" => "Act as a support agent, within the access users give you".into(),
        "offline_access" => "Stay connected when you are not using it".into(),
        other => super::scope_words::fallback(other),
    }
}

/// OpenID Connect's own scopes (OIDC Core §5.4, §11): about signing in, never
/// something to act with, so never offered for a grant.
pub fn is_identity_scope(scope: &str) -> bool {
    matches!(scope, "openid" | "profile" | "email" | "offline_access")
}

pub fn join(scopes: &[String]) -> Option<String> {
    (!scopes.is_empty()).then(|| scopes.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_parse_dedupe_and_reject_bad_characters() {
        assert_eq!(parse("read  write read").unwrap(), vec!["read", "write"]);
        assert!(parse("re\"ad").is_err());
        assert!(parse("caf\u{e9}").is_err());
    }

    #[test]
    fn requested_scopes_must_be_within_the_allowed_ones() {
        let allowed = vec!["read".to_string(), "write".to_string()];
        assert!(within(vec!["read".into()], &allowed).is_ok());
        assert!(within(vec!["admin".into()], &allowed).is_err());
    }
}
