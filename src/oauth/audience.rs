//! Audience selection for issued tokens: RFC 8707 `resource` (absolute URIs
//! without a fragment) and RFC 8693 `audience` (logical names), both repeatable,
//! each within what the client may ask for; none asked for means the default.

use crate::error::OAuthError;
use crate::web::form::OAuthForm;

/// RFC 3986 §4.3 absolute-URI: a scheme (a letter, then letters, digits, `+`,
/// `-`, `.`), a colon and something after it; `https://api.example` and
/// `urn:example:api` both qualify (RFC 8707 §2).
pub fn is_absolute_uri(value: &str) -> bool {
    let Some((scheme, rest)) = value.split_once(':') else {
        return false;
    };
    let scheme_ok = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
    scheme_ok && !rest.is_empty() && !value.chars().any(|c| c.is_whitespace() || c.is_control())
}

pub fn resolve(
    form: &OAuthForm,
    allowed: &[String],
    default_audience: &str,
) -> Result<Vec<String>, OAuthError> {
    let resources = form.all("resource");
    for resource in &resources {
        if !is_absolute_uri(resource) || resource.contains('#') {
            return Err(OAuthError::invalid_target(
                "resource must be an absolute URI without a fragment",
            ));
        }
    }
    let mut wanted: Vec<String> = Vec::new();
    for value in resources.into_iter().chain(form.all("audience")) {
        if value != default_audience && !allowed.iter().any(|a| a == value) {
            return Err(OAuthError::invalid_target(format!(
                "{value} is not an audience this client may ask for"
            )));
        }
        if !wanted.iter().any(|w| w == value) {
            wanted.push(value.to_string());
        }
    }
    if wanted.is_empty() {
        wanted.push(default_audience.to_string());
    }
    Ok(wanted)
}

#[cfg(test)]
mod tests {
    use super::is_absolute_uri;

    #[test]
    fn urls_and_urns_are_absolute_uris_and_relative_references_are_not() {
        for ok in [
            "https://api.example.com/x",
            "urn:bench:jwt",
            "urn:ietf:params:oauth:x",
        ] {
            assert!(is_absolute_uri(ok), "{ok}");
        }
        for bad in [
            "not-a-uri",
            "/relative",
            "1http://x",
            "https:",
            "urn:has space",
            "",
        ] {
            assert!(!is_absolute_uri(bad), "{bad}");
        }
    }
}
