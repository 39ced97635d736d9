//! Audience selection for issued tokens: RFC 8707 `resource` (absolute URIs
//! without a fragment) and RFC 8693 `audience` (logical names), both repeatable,
//! each within what the client may ask for; none asked for means the default.

use crate::error::OAuthError;
use crate::http::form::OAuthForm;

pub fn resolve(
    form: &OAuthForm,
    allowed: &[String],
    default_audience: &str,
) -> Result<Vec<String>, OAuthError> {
    let resources = form.all("resource");
    for resource in &resources {
        let absolute = resource
            .parse::<axum::http::Uri>()
            .is_ok_and(|u| u.scheme().is_some() && u.host().is_some());
        if !absolute || resource.contains('#') {
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
