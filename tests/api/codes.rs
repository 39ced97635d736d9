//! Authorization codes and PKCE at the token endpoint (docs/security.md B1–B6, C3, C6).

use crate::fixtures::{
    Browser, ClientSpec, add_code_client, add_user, authorize_url, pkce, query_of, redeem,
};
use crate::helpers::TestApp;
use behalf::digest::hash_hex;
use behalf::store::authorization_codes::AuthorizationCodeRow;
use behalf::store::refresh_tokens::RefreshTokenRow;
use reqwest::StatusCode;

struct Flow {
    app: TestApp,
    secret: String,
    verifier: String,
    code: String,
}

async fn code_for_alice() -> Flow {
    let app = TestApp::spawn().await;
    add_user(&app, "alice", false).await;
    let secret = add_code_client(
        &app,
        ClientSpec {
            id: "rp",
            public: false,
            first_party: true,
            refresh: true,
        },
    )
    .await
    .unwrap();
    let (verifier, challenge) = pkce();
    let location = Browser::new(&app)
        .authorize(
            &authorize_url(&app, "rp", &challenge, &[]),
            "alice",
            "approve",
        )
        .await;
    let code = query_of(&location)["code"].clone();
    Flow {
        app,
        secret,
        verifier,
        code,
    }
}

#[tokio::test]
async fn a_code_redeemed_twice_fails_and_the_first_tokens_become_inactive() {
    let f = code_for_alice().await;
    let (status, first) = redeem(&f.app, ("rp", Some(&f.secret)), &f.code, &f.verifier).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    let access = first["access_token"].as_str().unwrap();
    let userinfo = |token: String| {
        let http = f.app.http.clone();
        let url = f.app.url("/userinfo");
        async move {
            http.get(url)
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(userinfo(access.to_string()).await, StatusCode::OK);

    let (status, second) = redeem(&f.app, ("rp", Some(&f.secret)), &f.code, &f.verifier).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(second["error"], "invalid_grant");
    assert_eq!(
        userinfo(access.to_string()).await,
        StatusCode::UNAUTHORIZED,
        "access token revoked"
    );
    let refresh = first["refresh_token"].as_str().unwrap();
    let (status, _, body) = f
        .app
        .post_token(
            Some(("rp", &f.secret)),
            &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_grant", "refresh token revoked");
}

#[tokio::test]
async fn two_concurrent_redemptions_of_one_code_yield_exactly_one_success() {
    let f = code_for_alice().await;
    let attempts = (0..4).map(|_| redeem(&f.app, ("rp", Some(&f.secret)), &f.code, &f.verifier));
    let results = futures_join_all(attempts).await;
    let successes = results.iter().filter(|(s, _)| *s == StatusCode::OK).count();
    assert_eq!(successes, 1, "{results:?}");
    assert!(
        results
            .iter()
            .filter(|(s, _)| *s != StatusCode::OK)
            .all(|(_, b)| b["error"] == "invalid_grant")
    );
}

async fn futures_join_all<F: std::future::Future>(
    futures: impl Iterator<Item = F>,
) -> Vec<F::Output> {
    let handles: Vec<_> = futures.collect();
    let mut out = Vec::new();
    // Poll all at once: each request is in flight before any is awaited to completion.
    let mut pinned: Vec<_> = handles.into_iter().map(Box::pin).collect();
    let mut done: Vec<Option<F::Output>> = pinned.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (i, fut) in pinned.iter_mut().enumerate() {
            if done[i].is_none() {
                match fut.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => done[i] = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    out.extend(done.into_iter().map(Option::unwrap));
    out
}

#[tokio::test]
async fn a_code_for_another_client_another_redirect_or_after_its_ttl_is_invalid_grant() {
    let f = code_for_alice().await;
    let other_secret = add_code_client(
        &f.app,
        ClientSpec {
            id: "third",
            public: false,
            first_party: true,
            refresh: false,
        },
    )
    .await
    .unwrap();
    let (status, body) = redeem(&f.app, ("third", Some(&other_secret)), &f.code, &f.verifier).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant"))
    );

    let (status, _, body) = f
        .app
        .post_token(
            Some(("rp", &f.secret)),
            &[
                ("grant_type", "authorization_code"),
                ("code", &f.code),
                ("redirect_uri", "http://127.0.0.1:9/other"),
                ("code_verifier", &f.verifier),
            ],
        )
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant"))
    );

    // The failed attempts did not burn it; time does.
    f.app.clock.advance(61);
    let (status, body) = redeem(&f.app, ("rp", Some(&f.secret)), &f.code, &f.verifier).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant"))
    );
}

#[tokio::test]
async fn a_failed_attempt_by_another_client_does_not_burn_the_code() {
    let f = code_for_alice().await;
    let third = add_code_client(
        &f.app,
        ClientSpec {
            id: "third",
            public: false,
            first_party: true,
            refresh: false,
        },
    )
    .await
    .unwrap();
    let (status, _) = redeem(&f.app, ("third", Some(&third)), &f.code, &f.verifier).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, body) = redeem(&f.app, ("rp", Some(&f.secret)), &f.code, &f.verifier).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn a_wrong_malformed_or_missing_code_verifier_is_rejected() {
    let f = code_for_alice().await;
    let (other_verifier, _) = pkce();
    for verifier in [
        other_verifier.as_str(),
        "short",
        &"a".repeat(129),
        &f.verifier[..42],
    ] {
        let (status, body) = redeem(&f.app, ("rp", Some(&f.secret)), &f.code, verifier).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (StatusCode::BAD_REQUEST, Some("invalid_grant")),
            "{verifier}"
        );
    }
    let (status, _, body) = f
        .app
        .post_token(
            Some(("rp", &f.secret)),
            &[
                ("grant_type", "authorization_code"),
                ("code", &f.code),
                ("redirect_uri", crate::fixtures::CALLBACK),
            ],
        )
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_request"))
    );
    let (status, body) = redeem(&f.app, ("rp", Some(&f.secret)), &f.code, &f.verifier).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn one_kind_of_value_presented_as_another_is_invalid_grant() {
    let f = code_for_alice().await;
    let (_, tokens) = redeem(&f.app, ("rp", Some(&f.secret)), &f.code, &f.verifier).await;
    let refresh = tokens["refresh_token"].as_str().unwrap();
    let access = tokens["access_token"].as_str().unwrap();
    for as_code in [refresh, access] {
        let (status, body) = redeem(&f.app, ("rp", Some(&f.secret)), as_code, &f.verifier).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (StatusCode::BAD_REQUEST, Some("invalid_grant"))
        );
    }
    for as_refresh in [f.code.as_str(), access] {
        let (status, _, body) = f
            .app
            .post_token(
                Some(("rp", &f.secret)),
                &[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", as_refresh),
                ],
            )
            .await;
        assert_eq!(
            (status, body["error"].as_str()),
            (StatusCode::BAD_REQUEST, Some("invalid_grant"))
        );
    }
}

#[tokio::test]
async fn codes_and_refresh_tokens_carry_256_bits_and_only_their_hashes_are_stored() {
    let f = code_for_alice().await;
    assert!(f.code.len() >= 43, "≥ 256 bits, base64url");
    let (_, tokens) = redeem(&f.app, ("rp", Some(&f.secret)), &f.code, &f.verifier).await;
    let refresh = tokens["refresh_token"].as_str().unwrap().to_string();
    assert!(refresh.len() >= 43);
    let (code, refresh_copy) = (f.code.clone(), refresh.clone());
    let (by_value, by_hash, refresh_by_value, refresh_by_hash) = f
        .app
        .state
        .db
        .run(move |c| {
            Ok((
                AuthorizationCodeRow::find(c, &code)?,
                AuthorizationCodeRow::find(c, &hash_hex(&code))?,
                RefreshTokenRow::find(c, &refresh_copy)?,
                RefreshTokenRow::find(c, &hash_hex(&refresh_copy))?,
            ))
        })
        .await
        .unwrap();
    assert!(by_value.is_none() && by_hash.is_some());
    assert!(refresh_by_value.is_none() && refresh_by_hash.is_some());
}
