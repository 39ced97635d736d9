//! The address a request came from, for sign-in throttling. Directly it is the
//! TCP peer; behind reverse proxies listed in `trusted_proxies` it is the
//! nearest address in `X-Forwarded-For` that no trusted proxy stands for
//! (walking the header from the right: each trusted hop vouches only for the
//! entry it appended). Entries a client wrote itself sit further left and are
//! never reached, so a client cannot choose its own address. A malformed entry
//! stops the walk at the proxy that passed it on.

use axum::http::HeaderMap;
use std::net::IpAddr;

pub fn client_address(peer: IpAddr, headers: &HeaderMap, trusted: &[IpAddr]) -> IpAddr {
    let mut client = peer;
    let mut hops = headers
        .get_all("x-forwarded-for")
        .iter()
        .flat_map(|value| value.to_str().unwrap_or("").split(','))
        .collect::<Vec<_>>()
        .into_iter()
        .rev();
    while trusted.contains(&client) {
        match hops
            .next()
            .and_then(|hop| hop.trim().parse::<IpAddr>().ok())
        {
            Some(next) => client = next,
            None => break,
        }
    }
    client
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn forwarded(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for v in values {
            headers.append("x-forwarded-for", v.parse().unwrap());
        }
        headers
    }

    #[test]
    fn without_trusted_proxies_the_header_is_ignored() {
        let headers = forwarded(&["192.0.2.1"]);
        assert_eq!(
            client_address(ip("203.0.113.5"), &headers, &[]),
            ip("203.0.113.5")
        );
    }

    #[test]
    fn an_untrusted_peer_cannot_name_another_address() {
        let headers = forwarded(&["192.0.2.1"]);
        let trusted = [ip("10.0.0.1")];
        assert_eq!(
            client_address(ip("203.0.113.5"), &headers, &trusted),
            ip("203.0.113.5")
        );
    }

    #[test]
    fn behind_a_trusted_proxy_the_address_it_appended_counts() {
        let trusted = [ip("10.0.0.1")];
        let headers = forwarded(&["192.0.2.1"]);
        assert_eq!(
            client_address(ip("10.0.0.1"), &headers, &trusted),
            ip("192.0.2.1")
        );
    }

    #[test]
    fn what_a_client_wrote_itself_is_never_reached() {
        // The client sent "X-Forwarded-For: 198.51.100.9"; the proxy appended its peer.
        let trusted = [ip("10.0.0.1")];
        let headers = forwarded(&["198.51.100.9, 192.0.2.1"]);
        assert_eq!(
            client_address(ip("10.0.0.1"), &headers, &trusted),
            ip("192.0.2.1")
        );
    }

    #[test]
    fn a_chain_of_trusted_proxies_is_walked_from_the_right() {
        let trusted = [ip("10.0.0.1"), ip("10.0.0.2")];
        let headers = forwarded(&["198.51.100.9", "192.0.2.1, 10.0.0.2"]);
        assert_eq!(
            client_address(ip("10.0.0.1"), &headers, &trusted),
            ip("192.0.2.1")
        );
    }

    #[test]
    fn a_missing_or_malformed_entry_stops_at_the_proxy() {
        let trusted = [ip("10.0.0.1")];
        assert_eq!(
            client_address(ip("10.0.0.1"), &HeaderMap::new(), &trusted),
            ip("10.0.0.1")
        );
        let headers = forwarded(&["not-an-address"]);
        assert_eq!(
            client_address(ip("10.0.0.1"), &headers, &trusted),
            ip("10.0.0.1")
        );
    }
}
