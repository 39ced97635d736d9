//! Client authentication at the token endpoint (RFC 6749 §2.3):
//! `client_secret_basic` (§2.3.1, id and secret form-urlencoded inside Basic),
//! `client_secret_post`, and `none` for public clients. One method per request.
//! Secrets are compared as SHA-256 digests in constant time (they are ≥ 256-bit
//! random values, so a slow hash would only slow the token path).

use crate::clients::{Client, ClientRegistry};
use crate::digest;
use crate::error::OAuthError;
use crate::web::form::{OAuthForm, has_control_character};
use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use std::sync::Arc;

/// Credentials as presented, before any lookup.
enum Presented {
    Secret { client_id: String, secret: String },
    PublicId(String),
}

fn presented(headers: &HeaderMap, form: &OAuthForm) -> Result<Presented, OAuthError> {
    let body_id = form.single("client_id")?;
    let body_secret = form.single("client_secret")?;
    if let Some(value) = headers.get(AUTHORIZATION) {
        if body_secret.is_some() {
            return Err(OAuthError::invalid_request(
                "use one client authentication method, not several",
            ));
        }
        let (client_id, secret) = parse_basic(value.to_str().unwrap_or_default())
            .ok_or_else(OAuthError::invalid_client)?;
        if body_id.is_some_and(|id| id != client_id) {
            return Err(OAuthError::invalid_request(
                "client_id in the body differs from the authenticated client",
            ));
        }
        return Ok(Presented::Secret { client_id, secret });
    }
    match (body_id, body_secret) {
        (Some(id), Some(secret)) => Ok(Presented::Secret {
            client_id: id.into(),
            secret: secret.into(),
        }),
        (Some(id), None) => Ok(Presented::PublicId(id.into())),
        _ => Err(OAuthError::invalid_client()),
    }
}

/// `Basic base64(urlencode(id) ":" urlencode(secret))`.
fn parse_basic(header: &str) -> Option<(String, String)> {
    let (scheme, encoded) = header.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = STANDARD.decode(encoded.trim()).ok()?;
    let decoded = std::str::from_utf8(&decoded).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    let unescape = |s: &str| -> Option<String> {
        let bytes: Vec<u8> = form_urlencoded::parse(format!("v={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned().into_bytes())
            .unwrap_or_default();
        String::from_utf8(bytes).ok()
    };
    let (id, secret) = (unescape(id)?, unescape(secret)?);
    // No client id or secret holds a control character (docs/security.md L7).
    let printable = !has_control_character(&id) && !has_control_character(&secret);
    (!id.is_empty() && printable).then_some((id, secret))
}

/// The authenticated client, or 401 `invalid_client` without saying why.
pub async fn authenticate(
    clients: &ClientRegistry,
    headers: &HeaderMap,
    form: &OAuthForm,
) -> Result<Arc<Client>, OAuthError> {
    let presented = presented(headers, form)?;
    let client_id = match &presented {
        Presented::Secret { client_id, .. } | Presented::PublicId(client_id) => client_id,
    };
    let client = clients.find(client_id).await?;
    let accepted = match (&presented, &client) {
        (Presented::Secret { secret, .. }, Some(c)) => c
            .secret_hash
            .as_deref()
            .is_some_and(|hash| digest::matches_sha256(secret, hash)),
        (Presented::Secret { secret, .. }, None) => {
            // Same work as a known client, so timing does not reveal which ids exist.
            digest::matches_sha256(secret, &[0u8; 32]);
            false
        }
        (Presented::PublicId(_), Some(c)) => c.is_public,
        (Presented::PublicId(_), None) => false,
    };
    match client {
        Some(client) if accepted => Ok(client),
        _ => {
            tracing::info!(client_id = %client_id, "client authentication failed");
            Err(OAuthError::invalid_client())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parse_basic;

    #[test]
    fn basic_credentials_with_a_control_character_are_no_credentials() {
        for raw in ["a%0D%0AINFO:s", "a:s%00", "a\n:s"] {
            let header = format!(
                "Basic {}",
                base64::Engine::encode(&base64::engine::general_purpose::STANDARD, raw)
            );
            assert_eq!(parse_basic(&header), None, "{raw}");
        }
    }

    #[test]
    fn basic_credentials_are_form_urldecoded() {
        // "a%3Ab:s%2Bc" → id "a:b", secret "s+c"
        let header = format!(
            "Basic {}",
            base64::Engine::encode(&base64::engine::general_purpose::STANDARD, "a%3Ab:s%2Bc")
        );
        assert_eq!(parse_basic(&header), Some(("a:b".into(), "s+c".into())));
        assert_eq!(parse_basic("Bearer xyz"), None);
        assert_eq!(parse_basic("Basic !!!"), None);
    }
}
