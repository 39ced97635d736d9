//! Signing-key rotation (docs/security.md H5, K5): a new key is published before it
//! signs; the old one stays published, and its tokens verify, until they expire.

use crate::helpers::{TestApp, verify_with_jwks};
use behalf::tokens::signing_key::Purpose;
use std::collections::HashSet;

async fn published_kids(app: &TestApp) -> HashSet<String> {
    app.get_json("/jwks.json").await["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_string())
        .collect()
}

fn kid_of(token: &str) -> String {
    jsonwebtoken::decode_header(token).unwrap().kid.unwrap()
}

#[tokio::test]
async fn rotation_publishes_first_then_signs_and_keeps_earlier_tokens_verifiable() {
    let app = TestApp::spawn_own_keys().await;
    let secret = app.add_client("svc", &["read"], &[]).await;
    let before = app.client_credentials_token("svc", &secret, "read").await;
    let old_kid = kid_of(&before);
    let kids_before = published_kids(&app).await;

    let lead = 600;
    let new_kids = app
        .state
        .keys
        .rotate(&app.state.db, app.clock_now(), lead)
        .await
        .unwrap();
    let kids_after = published_kids(&app).await;
    assert_eq!(
        kids_after.len(),
        kids_before.len() + 4,
        "a new key for each purpose (access tokens, ID tokens RS256 and ES256, security events)"
    );
    assert!(
        new_kids.iter().all(|k| kids_after.contains(k)),
        "published at once"
    );
    let during_lead = app.client_credentials_token("svc", &secret, "read").await;
    assert_eq!(
        kid_of(&during_lead),
        old_kid,
        "the new key does not sign before its time"
    );

    app.clock.advance(lead);
    let after = app.client_credentials_token("svc", &secret, "read").await;
    assert_ne!(kid_of(&after), old_kid);
    assert!(new_kids.contains(&kid_of(&after)));
    // Both the earlier token and the new one verify, as a resource server checks them.
    verify_with_jwks(&app, &before, app.issuer())
        .await
        .expect("earlier token still verifies");
    verify_with_jwks(&app, &after, app.issuer())
        .await
        .expect("new token verifies");

    // Once every token the old key signed has expired, it leaves the JWKS.
    let ttl = app.state.settings.access_token_ttl_seconds;
    app.clock.advance(ttl + 61);
    let kids_later = published_kids(&app).await;
    assert!(
        !kids_later.contains(&old_kid),
        "retired key still published"
    );
    assert!(kids_later.contains(&kid_of(&after)));
}

#[tokio::test]
async fn a_key_ring_reload_picks_up_keys_rotated_by_another_process() {
    let app = TestApp::spawn_own_keys().await;
    // Another process (e.g. `behalf keys rotate`) writes a key through its own ring.
    let other = behalf::tokens::keyring::KeyRing::new(
        behalf::tokens::kek::KeyEncryptionKey::from_bytes(&behalf::secret::Secret::new(
            behalf::tokens::kek::decode_key(crate::helpers::TEST_KEK).unwrap(),
        )),
        3660,
        behalf::tokens::signing_key::Algorithm::ES256,
    );
    app.clock.advance(1);
    let now = app.clock_now();
    let kids = other.rotate(&app.state.db, now, 0).await.unwrap();
    assert!(
        !published_kids(&app).await.contains(&kids[0]),
        "not yet re-read"
    );
    app.state.keys.reload(&app.state.db).await.unwrap();
    assert!(published_kids(&app).await.contains(&kids[0]));
    let keys = app.state.keys.snapshot();
    assert!(kids.contains(&keys.signing(Purpose::AccessToken, now).unwrap().kid));
}
