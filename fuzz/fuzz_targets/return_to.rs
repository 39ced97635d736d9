//! The `return_to` check (`web::return_to::validate`) on any string: what it
//! accepts comes back unchanged and is a same-origin relative path — one
//! leading `/`, not `//`, no backslash, no scheme, no control character — and a
//! WHATWG URL parser (the `url` crate, as browsers resolve `Location`) resolves
//! it against the server to the server's own origin (docs/security.md J5;
//! RFC 9700 §4.11, open redirectors).

#![no_main]

use behalf::web::return_to::{DEFAULT, or_default, validate};
use libfuzzer_sys::fuzz_target;
use std::sync::LazyLock;
use url::Url;

static SERVER: LazyLock<Url> =
    LazyLock::new(|| Url::parse("https://id.example.com/login").expect("base URL"));

fuzz_target!(|data: &[u8]| {
    let Ok(value) = std::str::from_utf8(data) else {
        return;
    };
    let Some(path) = validate(value) else {
        assert_eq!(or_default(Some(value)), DEFAULT);
        return;
    };
    assert_eq!(path, value, "validate changed the path");
    assert_eq!(or_default(Some(value)), value);
    assert!(path.starts_with('/'), "not a path: {path:?}");
    assert!(!path.starts_with("//"), "scheme-relative: {path:?}");
    assert!(!path.contains('\\'), "backslash: {path:?}");
    assert!(
        !path.chars().any(char::is_control),
        "control character: {path:?}"
    );
    let resolved = SERVER
        .join(path)
        .unwrap_or_else(|e| panic!("{path:?} does not resolve: {e}"));
    assert_eq!(
        resolved.origin(),
        SERVER.origin(),
        "{path:?} leaves the origin: {resolved}"
    );
    assert!(
        resolved.username().is_empty() && resolved.password().is_none(),
        "{path:?} adds user information: {resolved}"
    );
});
