//! The strict OAuth form parser (`web::form::OAuthForm`) on any body: it never
//! panics, and its answers agree with each other for every name in the body
//! and every name the grants declare (RFC 6749 §3.1, §3.2; docs/contract.md
//! "a parameter given twice is an error"): a parameter `single` returns was given
//! exactly once, one given twice is refused by `single` and by `check` when
//! declared single, empty values count as omitted, and repeatable parameters
//! never make `check` fail.

#![no_main]

use behalf::oauth::{authorization_code, client_credentials, refresh_token, token_exchange};
use behalf::web::form::{OAuthForm, Parameters};
use libfuzzer_sys::fuzz_target;

const DECLARED: [&Parameters; 4] = [
    &authorization_code::PARAMETERS,
    &refresh_token::PARAMETERS,
    &client_credentials::PARAMETERS,
    &token_exchange::PARAMETERS,
];

/// At most this many distinct names from the body are probed per input.
const NAMES_FROM_BODY: usize = 32;

fuzz_target!(|body: &[u8]| {
    let form = OAuthForm::parse(body);

    let mut names: Vec<String> = form_urlencoded::parse(body)
        .map(|(name, _)| name.into_owned())
        .take(NAMES_FROM_BODY)
        .collect();
    for declared in DECLARED {
        names.extend(declared.single.iter().map(|n| n.to_string()));
        names.extend(declared.repeatable.iter().map(|n| n.to_string()));
    }
    for name in &names {
        let all = form.all(name);
        assert!(
            all.iter().all(|v| !v.is_empty()),
            "{name}: an empty value counted"
        );
        match form.single(name) {
            Ok(None) => assert!(all.is_empty(), "{name}: single saw none, all saw {all:?}"),
            Ok(Some(value)) => assert_eq!(all, [value], "{name}: single saw one value"),
            Err(_) => assert!(all.len() >= 2, "{name}: refused though given {all:?}"),
        }
        assert_eq!(
            form.required(name).ok(),
            form.single(name).ok().flatten(),
            "{name}: required disagrees with single"
        );
    }

    for declared in DECLARED {
        let repeated_single = declared.single.iter().any(|n| form.all(n).len() >= 2);
        assert_eq!(
            form.check(&[declared]).is_err(),
            repeated_single,
            "check disagrees with the repeated single parameters"
        );
    }
    let any_repeated_single = DECLARED
        .iter()
        .flat_map(|d| d.single.iter())
        .any(|n| form.all(n).len() >= 2);
    assert_eq!(form.check(&DECLARED).is_err(), any_repeated_single);
});
