//! Matching a requested `redirect_uri` against a registered one (RFC 6749
//! §3.1.2.3): byte for byte, except that a public (native) client's loopback
//! URI may name another port (RFC 8252 §7.3), and only in the exact form that
//! section describes (docs/security.md A1, L12). The port rule is shared with
//! registration (`registration::validate_redirect_uri`, A3).

use crate::clients::Client;
use crate::config::is_loopback_host;

/// A URI port: 1 to 65535, in at most five ASCII digits (no sign, no space).
pub fn is_valid_port(port: &str) -> bool {
    port.len() <= 5
        && port.bytes().all(|b| b.is_ascii_digit())
        && port.parse::<u16>().is_ok_and(|n| n > 0)
}

/// Whether `requested` is `registered`, allowing only the port of a loopback
/// redirect URI of a public (native) client to differ (RFC 8252 §7.3).
pub fn redirect_uri_matches(client: &Client, requested: &str, registered: &str) -> bool {
    if requested == registered {
        return true;
    }
    client.is_public
        && matches!(
            (loopback_parts(requested), loopback_parts(registered)),
            (Some(a), Some(b)) if a == b
        )
}

/// A native app's loopback redirect URI without its port: its host and its
/// path with query. Only the exact form RFC 8252 §7.3 describes is one:
/// `http://` in lower case, a loopback host, no user information, a port of
/// 1 to 65535 (or none), a path, and no fragment (RFC 6749 §3.1.2), so that
/// nothing looser than registration is ever redirected to (docs/security.md L12).
fn loopback_parts(uri: &str) -> Option<(&str, &str)> {
    let rest = uri.strip_prefix("http://")?;
    if uri
        .chars()
        .any(|c| c == '#' || c.is_whitespace() || c.is_control())
    {
        return None;
    }
    let path_at = rest.find(['/', '?'])?;
    let (authority, path) = rest.split_at(path_at);
    if !path.starts_with('/') || authority.contains('@') {
        return None;
    }
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port))
            if !host.ends_with(':') && (!host.starts_with('[') || host.ends_with(']')) =>
        {
            (host, Some(port))
        }
        _ => (authority, None),
    };
    (port.is_none_or(is_valid_port) && is_loopback_host(host)).then_some((host, path))
}

#[cfg(test)]
mod tests {
    use super::redirect_uri_matches;
    use crate::clients::GrantType;

    fn native_app() -> crate::clients::Client {
        let mut client =
            crate::test_rows::client("cli", &[GrantType::AuthorizationCode], &["openid"]);
        client.is_public = true;
        client
    }

    #[test]
    fn a_native_app_may_vary_only_the_port_of_its_loopback_redirect() {
        let app = native_app();
        let registered = "http://127.0.0.1/cb";
        for requested in [
            "http://127.0.0.1/cb",
            "http://127.0.0.1:53111/cb",
            "http://127.0.0.1:1/cb",
            "http://127.0.0.1:65535/cb",
        ] {
            assert!(
                redirect_uri_matches(&app, requested, registered),
                "{requested}"
            );
        }
        assert!(redirect_uri_matches(
            &app,
            "http://[::1]:8080/cb",
            "http://[::1]/cb"
        ));
        assert!(redirect_uri_matches(
            &app,
            "http://127.0.0.1:9/cb?x=1",
            "http://127.0.0.1/cb?x=1"
        ));
    }

    #[test]
    fn user_info_a_fragment_an_upper_case_scheme_or_a_bad_port_is_never_a_loopback_match() {
        let app = native_app();
        let registered = "http://127.0.0.1/cb";
        for requested in [
            "http://127.0.0.1:5000/cb#frag",
            "http://127.0.0.1:5000/cb#",
            "http://user:pw@127.0.0.1:5000/cb",
            "http://user@127.0.0.1/cb",
            "HTTP://127.0.0.1:5000/cb",
            "Http://127.0.0.1/cb",
            "http://127.0.0.1:99999/cb",
            "http://127.0.0.1:0/cb",
            "http://127.0.0.1:/cb",
            "http://127.0.0.1:+80/cb",
            "http://127.0.0.1:5000/other",
            "http://127.0.0.1:5000",
            "http://127.0.0.2:5000/cb",
            "https://127.0.0.1:5000/cb",
            "http://127.0.0.1:5000/cb\n",
        ] {
            assert!(
                !redirect_uri_matches(&app, requested, registered),
                "{requested:?}"
            );
        }
    }

    #[test]
    fn a_confidential_client_gets_byte_for_byte_matching_only() {
        let mut app = native_app();
        app.is_public = false;
        assert!(redirect_uri_matches(
            &app,
            "http://127.0.0.1/cb",
            "http://127.0.0.1/cb"
        ));
        assert!(!redirect_uri_matches(
            &app,
            "http://127.0.0.1:5/cb",
            "http://127.0.0.1/cb"
        ));
    }
}
