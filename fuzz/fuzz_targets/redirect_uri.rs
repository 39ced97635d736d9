//! Matching a requested `redirect_uri` against a registered one
//! (`oauth::authorize::redirect_uri::redirect_uri_matches`), for a public and a
//! confidential client, with the registered URI one that registration accepts
//! (`oauth::registration::validate_redirect_uri`). Input: `requested\nregistered`.
//! Properties (RFC 6749 §3.1.2, RFC 8252 §7.3, RFC 9700 §4.1.3; docs/security.md
//! A1, A3): an accepted URI has no user information, no fragment, a lower-case
//! scheme and, if it names a port, a valid one; a confidential client's is the
//! registered one byte for byte; a public client's differs from it only in the
//! port of an `http` loopback URI.

#![no_main]

use behalf::clients::Client;
use behalf::oauth::authorize::redirect_uri::redirect_uri_matches;
use behalf::oauth::registration::validate_redirect_uri;
use libfuzzer_sys::fuzz_target;
use std::sync::LazyLock;

fn client(is_public: bool) -> Client {
    Client {
        client_id: "app".into(),
        secret_hash: None,
        is_public,
        first_party: false,
        name: "App".into(),
        redirect_uris: Vec::new(),
        grant_types: Vec::new(),
        scopes: Vec::new(),
        audiences: Vec::new(),
    }
}

static PUBLIC: LazyLock<Client> = LazyLock::new(|| client(true));
static CONFIDENTIAL: LazyLock<Client> = LazyLock::new(|| client(false));

const LOOPBACK_HOSTS: [&str; 3] = ["127.0.0.1", "[::1]", "localhost"];

/// `uri` split as `scheme ":" ["//" authority] rest`.
fn split(uri: &str) -> Option<(&str, Option<&str>, &str)> {
    let (scheme, after) = uri.split_once(':')?;
    let Some(hier) = after.strip_prefix("//") else {
        return Some((scheme, None, after));
    };
    let end = hier.find(['/', '?', '#']).unwrap_or(hier.len());
    Some((scheme, Some(&hier[..end]), &hier[end..]))
}

/// The host and the port (`None` without a `:`) of an authority.
fn host_and_port(authority: &str) -> (&str, Option<&str>) {
    let host_end = if authority.starts_with('[') {
        authority.find(']').map_or(authority.len(), |i| i + 1)
    } else {
        authority.find(':').unwrap_or(authority.len())
    };
    let (host, rest) = authority.split_at(host_end);
    (host, rest.strip_prefix(':'))
}

/// An `http` loopback URI without its port: host and the rest (an empty path
/// is `/`, RFC 3986 §6.2.3).
fn loopback_without_port(uri: &str) -> Option<(&str, String)> {
    let (scheme, authority, rest) = split(uri)?;
    let (host, _) = host_and_port(authority?);
    if scheme != "http" || !LOOPBACK_HOSTS.contains(&host) {
        return None;
    }
    let rest = if rest.is_empty() || rest.starts_with('?') {
        format!("/{rest}")
    } else {
        rest.to_string()
    };
    Some((host, rest))
}

fn assert_safe_to_redirect_to(uri: &str) {
    assert!(!uri.contains('#'), "accepted a fragment: {uri:?}");
    let (scheme, authority, _) = split(uri).expect("accepted a URI without a scheme");
    assert!(
        !scheme.bytes().any(|b| b.is_ascii_uppercase()),
        "accepted a scheme that is not lower case: {uri:?}"
    );
    if let Some(authority) = authority {
        assert!(
            !authority.contains('@'),
            "accepted user information: {uri:?}"
        );
        if let (_, Some(port)) = host_and_port(authority) {
            assert!(
                port.bytes().all(|b| b.is_ascii_digit())
                    && port.parse::<u16>().is_ok_and(|p| p > 0),
                "accepted an invalid port {port:?}: {uri:?}"
            );
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Some((requested, registered)) = text.split_once('\n') else {
        return;
    };
    if validate_redirect_uri(registered).is_err() {
        return;
    }
    if redirect_uri_matches(&CONFIDENTIAL, requested, registered) {
        assert_eq!(
            requested, registered,
            "a confidential client's URI was not exact"
        );
        assert_safe_to_redirect_to(requested);
    }
    if redirect_uri_matches(&PUBLIC, requested, registered) {
        assert_safe_to_redirect_to(requested);
        if requested != registered {
            let (a, b) = (
                loopback_without_port(requested),
                loopback_without_port(registered),
            );
            assert!(
                a.is_some() && a == b,
                "{requested:?} differs from {registered:?} in more than a loopback port"
            );
        }
    }
});
