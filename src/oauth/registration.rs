//! Registering a client (used by `behalf client add` and the demo): the rules a
//! registration must meet (docs/security.md A3) and the row it becomes. Of the
//! client metadata of OpenID Connect Dynamic Client Registration 1.0 §2 it
//! takes `id_token_signed_response_alg`: RS256 (the default) or ES256, never
//! `none` or a MAC (RFC 8725 §3.1: our keys sign every ID token).

use super::authorize::redirect_uri::is_valid_port;
use super::scope::is_scope_token;
use crate::clients::{CibaMode, GrantType};
use crate::config::is_loopback_host;
use crate::digest;
use crate::random;
use crate::secret::Secret;
use crate::store::clients::ClientRow;
use crate::store::users::UserRow;
use crate::tokens::id_token;
use crate::tokens::signing_key::Algorithm;

/// Secrets read from stdin are hashed with SHA-256, not a slow hash, so they
/// must carry as much entropy as generated ones could.
const MIN_SECRET_LEN: usize = 32;

#[derive(Debug, Default)]
pub struct NewClient {
    pub client_id: String,
    pub is_public: bool,
    pub first_party: bool,
    /// `None` for a confidential client means: generate one.
    pub secret: Option<Secret<String>>,
    pub redirect_uris: Vec<String>,
    pub grant_types: Vec<String>,
    pub scopes: Vec<String>,
    pub audiences: Vec<String>,
    pub name: Option<String>,
    /// DESIGN.md "Delegated sign-in into any OIDC app": agents may sign in to it as a user.
    pub delegated_sign_in: bool,
    /// OIDC Core §4 (third-party-initiated login); only with `delegated_sign_in`.
    pub initiate_login_uri: Option<String>,
    /// OIDC Back-Channel Logout 1.0 §2.2; only with `delegated_sign_in`.
    pub backchannel_logout_uri: Option<String>,
    /// DESIGN.md "Agents that are programs": it asks with CIBA and acts in its own name.
    pub program_agent: bool,
    /// `poll` or `ping` (CIBA Core §5); only for a program agent, `poll` when not given.
    pub ciba_mode: Option<String>,
    /// CIBA Core §10.2; with `ping` only.
    pub ciba_notification_endpoint: Option<String>,
    /// OIDC Dynamic Client Registration 1.0 §2: `RS256` (when not given) or `ES256`.
    pub id_token_signed_response_alg: Option<String>,
}

/// The row to store, and the secret to hand to the operator once.
pub fn register(new: NewClient, now: i64) -> Result<(ClientRow, Option<Secret<String>>), String> {
    validate_client_id(&new.client_id)?;
    validate_delegated_sign_in(&new)?;
    let ciba_mode = validate_program_agent(&new)?;
    let id_token_alg = validate_id_token_alg(new.id_token_signed_response_alg.as_deref())?;
    for uri in &new.redirect_uris {
        validate_redirect_uri(uri)?;
    }
    let mut grant_types = new.grant_types;
    if grant_types.is_empty() {
        grant_types.push(if new.redirect_uris.is_empty() {
            GrantType::ClientCredentials.as_str().into()
        } else {
            GrantType::AuthorizationCode.as_str().into()
        });
    }
    for grant in &grant_types {
        let Some(known) = GrantType::parse(grant) else {
            return Err(format!(
                "--grant-type {grant}: not a grant behalf implements"
            ));
        };
        if new.is_public && known.needs_confidential_client() {
            return Err(format!(
                "--grant-type {grant}: not allowed for a public client"
            ));
        }
    }
    if grant_types
        .iter()
        .any(|g| g == GrantType::AuthorizationCode.as_str())
        && new.redirect_uris.is_empty()
    {
        return Err("--redirect-uri: the authorization_code grant needs at least one".into());
    }
    for scope in &new.scopes {
        if !is_scope_token(scope) {
            return Err(format!("--scope {scope:?}: not a valid scope token"));
        }
    }
    for audience in &new.audiences {
        if audience.is_empty() || audience.contains(char::is_whitespace) {
            return Err(format!(
                "--audience {audience:?}: must be a URI without spaces"
            ));
        }
    }
    let secret = match (new.is_public, new.secret) {
        (true, Some(_)) => return Err("a public client has no secret".into()),
        (true, None) => None,
        (false, Some(s)) if s.expose().len() < MIN_SECRET_LEN => {
            return Err(format!(
                "the client secret must be at least {MIN_SECRET_LEN} characters"
            ));
        }
        (false, Some(s)) => Some(s),
        (false, None) => Some(Secret::new(random::secret())),
    };
    let row = ClientRow {
        name: new.name.unwrap_or_else(|| new.client_id.clone()),
        client_id: new.client_id,
        secret_hash: secret
            .as_ref()
            .map(|s| digest::sha256(s.expose().as_bytes()).to_vec()),
        is_public: new.is_public,
        first_party: new.first_party,
        redirect_uris: new.redirect_uris.join(" "),
        grant_types: grant_types.join(" "),
        scopes: new.scopes.join(" "),
        audiences: new.audiences.join(" "),
        created_at: now,
        delegated_sign_in: new.delegated_sign_in,
        initiate_login_uri: new.initiate_login_uri,
        backchannel_logout_uri: new.backchannel_logout_uri,
        program_agent: new.program_agent,
        ciba_mode: ciba_mode.map(|m| m.as_str().to_string()),
        ciba_notification_endpoint: new.ciba_notification_endpoint,
        id_token_signed_response_alg: id_token_alg.as_str().into(),
    };
    Ok((row, secret))
}

/// OIDC Dynamic Client Registration 1.0 §2: RS256 when not given.
fn validate_id_token_alg(alg: Option<&str>) -> Result<Algorithm, String> {
    let Some(name) = alg else {
        return Ok(id_token::ALGORITHMS[0]);
    };
    id_token::algorithm(name).ok_or_else(|| {
        let allowed: Vec<&str> = id_token::ALGORITHMS.map(Algorithm::as_str).to_vec();
        format!(
            "--id-token-alg {name:?}: ID tokens are signed with {}",
            allowed.join(" or ")
        )
    })
}

/// The agent account of a program agent's client `row`: `sub` and username
/// the client id, its name the client's, no password (it never signs in).
/// Requests, grants and token checks treat it as any agent, and `act.sub`
/// of its tokens is the client id (DESIGN.md "Agents that are programs").
pub fn program_agent_account(row: &ClientRow, now: i64) -> UserRow {
    UserRow {
        sub: row.client_id.clone(),
        username: row.client_id.clone(),
        password_hash: None,
        is_agent: true,
        disabled_at: None,
        created_at: now,
        email: None,
        display_name: Some(row.name.clone()),
        team: None,
    }
}

/// A program agent (DESIGN.md "Agents that are programs"): confidential, with
/// the CIBA grant, which only program agents have; `ping` needs a notification
/// endpoint (https, or http on a loopback host), `poll` has none (CIBA Core §4).
fn validate_program_agent(new: &NewClient) -> Result<Option<CibaMode>, String> {
    let ciba = new
        .grant_types
        .iter()
        .any(|g| g == GrantType::Ciba.as_str());
    if !new.program_agent {
        if ciba {
            return Err(format!(
                "--grant-type {}: only for a client registered --program-agent",
                GrantType::Ciba.as_str()
            ));
        }
        if new.ciba_mode.is_some() || new.ciba_notification_endpoint.is_some() {
            return Err("--ciba-mode, --ciba-notification-endpoint: only for a client registered --program-agent".into());
        }
        return Ok(None);
    }
    if new.is_public {
        return Err(
            "--program-agent: a program agent authenticates, so it cannot be --public".into(),
        );
    }
    if !ciba {
        return Err(format!(
            "--program-agent: it asks users with CIBA, so it needs --grant-type {}",
            GrantType::Ciba.as_str()
        ));
    }
    let mode = match new.ciba_mode.as_deref() {
        None => CibaMode::Poll,
        Some(mode) => {
            CibaMode::parse(mode).ok_or_else(|| format!("--ciba-mode {mode}: poll or ping"))?
        }
    };
    match (mode, &new.ciba_notification_endpoint) {
        (CibaMode::Ping, None) => {
            Err("--ciba-mode ping: needs --ciba-notification-endpoint".into())
        }
        (CibaMode::Poll, Some(_)) => {
            Err("--ciba-notification-endpoint: only with --ciba-mode ping".into())
        }
        (CibaMode::Ping, Some(uri)) => validate_app_uri(uri)
            .map(|()| Some(mode))
            .map_err(|why| format!("--ciba-notification-endpoint {uri}: {why}")),
        (CibaMode::Poll, None) => Ok(Some(mode)),
    }
}

/// The delegated-sign-in URIs: only for such an app; https, or http on a
/// loopback host; no fragment (OIDC Core §4, Back-Channel Logout 1.0 §2.2).
fn validate_delegated_sign_in(new: &NewClient) -> Result<(), String> {
    let uris = [
        ("--initiate-login-uri", &new.initiate_login_uri),
        ("--backchannel-logout-uri", &new.backchannel_logout_uri),
    ];
    for (flag, uri) in uris {
        let Some(uri) = uri else { continue };
        if !new.delegated_sign_in {
            return Err(format!(
                "{flag}: only for a client registered --delegated-sign-in"
            ));
        }
        validate_app_uri(uri).map_err(|why| format!("{flag} {uri}: {why}"))?;
    }
    if new.delegated_sign_in && new.redirect_uris.is_empty() {
        return Err(
            "--delegated-sign-in: the app needs a --redirect-uri to sign in through".into(),
        );
    }
    Ok(())
}

/// An absolute https URI, or http on a loopback host, without a fragment.
pub fn validate_app_uri(uri: &str) -> Result<(), &'static str> {
    if uri.contains('#') {
        return Err("must not have a fragment");
    }
    if uri.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("must not contain spaces");
    }
    let authority = |rest: &str| {
        rest.split(['/', '?'])
            .next()
            .unwrap_or_default()
            .to_string()
    };
    let ok = match (uri.strip_prefix("https://"), uri.strip_prefix("http://")) {
        (Some(rest), _) => !authority(rest).is_empty() && port_is_valid(&authority(rest)),
        (_, Some(rest)) => {
            let authority = authority(rest);
            let host = match authority.strip_prefix('[') {
                Some(v6) => v6.split(']').next().unwrap_or_default(),
                None => authority.split(':').next().unwrap_or_default(),
            };
            is_loopback_host(host) && port_is_valid(&authority)
        }
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err("use https, or http on a loopback host")
    }
}

fn validate_client_id(id: &str) -> Result<(), String> {
    let ok = !id.is_empty()
        && id.len() <= 128
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "client id {id:?}: use 1 to 128 letters, digits, '-', '.', '_' or '~'"
        ))
    }
}

/// No port, or `:` and 1 to 65535 in digits, after the host (an IPv6 host in brackets).
fn port_is_valid(authority: &str) -> bool {
    let after_host = match authority.strip_prefix('[') {
        Some(v6) => v6.split_once(']').map_or("x", |(_, rest)| rest),
        None => authority.find(':').map_or("", |i| &authority[i..]),
    };
    match after_host.strip_prefix(':') {
        None => after_host.is_empty(),
        Some(port) => is_valid_port(port),
    }
}

/// https, http on a loopback host (RFC 8252 §7.3), or a private-use scheme with
/// a dot (RFC 8252 §7.1); never a fragment, wildcard, `javascript:` or `data:`.
pub fn validate_redirect_uri(uri: &str) -> Result<(), String> {
    let bad = |why: &str| Err(format!("--redirect-uri {uri}: {why}"));
    if uri.contains('#') {
        return bad("must not have a fragment");
    }
    if uri.contains('*') {
        return bad("must not contain a wildcard");
    }
    if uri.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return bad("must not contain spaces");
    }
    let Some((scheme, rest)) = uri.split_once(':') else {
        return bad("must be an absolute URI");
    };
    // RFC 3986 §3.1, in the lower case it is compared in (docs/security.md A3, L12).
    let scheme_is_valid = scheme.starts_with(|c: char| c.is_ascii_lowercase())
        && scheme
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "+-.".contains(c));
    if !scheme_is_valid {
        return bad("the scheme must be lower-case letters, digits, '+', '-' or '.'");
    }
    match scheme {
        "https" | "http" => {
            let parsed: axum::http::Uri = uri
                .parse()
                .map_err(|_| format!("--redirect-uri {uri}: not a valid URI"))?;
            let Some(host) = parsed.host() else {
                return bad("must name a host");
            };
            if scheme.eq_ignore_ascii_case("http") && !is_loopback_host(host) {
                return bad("http is allowed only for loopback hosts; use https");
            }
            let authority = parsed.authority().map(|a| a.as_str()).unwrap_or_default();
            if authority.contains('@') {
                return bad("must not carry user information");
            }
            if !port_is_valid(authority) {
                return bad("the port must be a number from 1 to 65535");
            }
            Ok(())
        }
        "javascript" | "data" | "vbscript" | "file" => bad("this scheme is never allowed"),
        private if private.contains('.') && !rest.is_empty() => Ok(()),
        _ => bad("use https, loopback http, or a private-use scheme like com.example.app:/cb"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dangerous_redirect_uris_are_refused_at_registration() {
        for uri in [
            "javascript:alert(1)",
            "data:text/html,hi",
            "https://*.example.com/cb",
            "https://app.example.com/cb#frag",
            "http://app.example.com/cb",
            "/relative/cb",
            "https://user@app.example.com/cb",
            "HTTPS://app.example.com/cb",
            "Http://localhost/cb",
            "http://127.0.0.1:99999/cb",
            "http://127.0.0.1:0/cb",
            "http://localhost:/cb",
            "https://app.example.com:8a/cb",
            "..=://o::t;",
            "Com.Example.App:/cb",
        ] {
            assert!(validate_redirect_uri(uri).is_err(), "{uri} was accepted");
        }
        for uri in [
            "https://app.example.com/cb",
            "http://127.0.0.1:9000/cb",
            "http://localhost/cb",
            "http://[::1]:3000/cb",
            "http://[::1]/cb",
            "https://app.example.com:8443/cb",
            "com.example.app:/oauth2redirect",
        ] {
            assert!(validate_redirect_uri(uri).is_ok(), "{uri} was refused");
        }
    }

    #[test]
    fn public_clients_get_no_secret_and_no_machine_grants() {
        let public = |grant: &str| NewClient {
            client_id: "spa".into(),
            is_public: true,
            redirect_uris: vec!["https://app.example.com/cb".into()],
            grant_types: vec![grant.into()],
            ..NewClient::default()
        };
        assert!(register(public(GrantType::ClientCredentials.as_str()), 0).is_err());
        assert!(register(public(GrantType::TokenExchange.as_str()), 0).is_err());
        let (row, secret) = register(public(GrantType::AuthorizationCode.as_str()), 0).unwrap();
        assert!(secret.is_none() && row.secret_hash.is_none());
    }

    #[test]
    fn confidential_clients_get_a_generated_secret_stored_as_a_hash() {
        let (row, secret) = register(
            NewClient {
                client_id: "svc".into(),
                ..NewClient::default()
            },
            0,
        )
        .unwrap();
        let secret = secret.unwrap();
        assert!(secret.expose().len() >= 43);
        assert_eq!(
            row.secret_hash.unwrap(),
            digest::sha256(secret.expose().as_bytes())
        );
        assert_eq!(row.grant_types, GrantType::ClientCredentials.as_str());
    }

    #[test]
    fn the_id_token_algorithm_is_rs256_unless_es256_is_asked_for() {
        let with = |alg: Option<&str>| {
            register(
                NewClient {
                    client_id: "rp".into(),
                    redirect_uris: vec!["https://app.example.com/cb".into()],
                    id_token_signed_response_alg: alg.map(String::from),
                    ..NewClient::default()
                },
                0,
            )
            .map(|(row, _)| row.id_token_signed_response_alg)
        };
        assert_eq!(with(None).unwrap(), "RS256");
        assert_eq!(with(Some("RS256")).unwrap(), "RS256");
        assert_eq!(with(Some("ES256")).unwrap(), "ES256");
        for refused in ["none", "HS256", "es256", "RS384", ""] {
            let error = with(Some(refused)).unwrap_err();
            assert!(error.starts_with("--id-token-alg"), "{refused:?}: {error}");
            assert!(error.ends_with("RS256 or ES256"), "{error}");
        }
    }

    #[test]
    fn short_secrets_from_stdin_are_refused() {
        let new = NewClient {
            client_id: "svc".into(),
            secret: Some(Secret::new("short".into())),
            ..NewClient::default()
        };
        assert!(register(new, 0).is_err());
    }
}
