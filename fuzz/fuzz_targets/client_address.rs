//! The client address behind trusted proxies (`web::client_address`) for any
//! peer, proxy list and `X-Forwarded-For` values. Input lines: the peer, the
//! trusted proxies separated by commas, then one header value per line.
//! Properties (docs/security.md J4; docs/contract.md `trusted_proxies`): it
//! never panics; the answer is the peer or an address written in the header;
//! an untrusted peer is always the answer; and walking from the right, every
//! hop passed over is a trusted proxy whose entry parses.

#![no_main]

use axum::http::{HeaderMap, HeaderValue};
use behalf::web::client_address::client_address;
use libfuzzer_sys::fuzz_target;
use std::net::IpAddr;

fuzz_target!(|data: &[u8]| {
    let mut lines = data.split(|&b| b == b'\n');
    let Some(peer) = lines.next().and_then(parse_address) else {
        return;
    };
    let trusted: Vec<IpAddr> = lines
        .next()
        .unwrap_or_default()
        .split(|&b| b == b',')
        .filter_map(parse_address)
        .collect();
    let mut headers = HeaderMap::new();
    for line in lines {
        if let Ok(value) = HeaderValue::from_bytes(line) {
            headers.append("x-forwarded-for", value);
        }
    }

    let answer = client_address(peer, &headers, &trusted);

    // The header's entries, nearest hop first (each proxy appends on the right).
    let entries: Vec<Option<IpAddr>> = headers
        .get_all("x-forwarded-for")
        .iter()
        .flat_map(|v| v.to_str().unwrap_or("").split(','))
        .map(|entry| entry.trim().parse().ok())
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    assert!(
        answer == peer || entries.contains(&Some(answer)),
        "{answer} is neither the peer nor in the header"
    );
    if !trusted.contains(&peer) {
        assert_eq!(answer, peer, "an untrusted peer named another address");
    }
    // The walk passes a hop only if it is trusted and the entry it vouches for parses.
    let mut hop = peer;
    for entry in &entries {
        match entry {
            Some(next) if trusted.contains(&hop) => hop = *next,
            _ => break,
        }
    }
    assert_eq!(
        answer, hop,
        "not the nearest address no trusted proxy stands for"
    );
});

fn parse_address(bytes: &[u8]) -> Option<IpAddr> {
    std::str::from_utf8(bytes).ok()?.trim().parse().ok()
}
