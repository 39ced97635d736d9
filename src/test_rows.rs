//! Rows and clients for the unit tests of the decisions: one builder each, so
//! that a test says only what differs (`Client { is_public: true, ..client(..) }`).

use crate::clients::{Client, GrantType};
use crate::store::access_requests::{AccessRequestRow, RequestState};
use crate::store::app_consents::AppConsentRow;
use crate::store::grants::GrantRow;
use crate::store::users::UserRow;

/// A confidential, third-party client named by its id.
pub fn client(id: &str, grants: &[GrantType], scopes: &[&str]) -> Client {
    Client {
        client_id: id.into(),
        secret_hash: Some(vec![0; 32]),
        is_public: false,
        first_party: false,
        name: id.into(),
        redirect_uris: vec![],
        grant_types: grants.to_vec(),
        scopes: scopes.iter().map(|s| s.to_string()).collect(),
        audiences: vec![],
        delegated_sign_in: false,
        initiate_login_uri: None,
        backchannel_logout_uri: None,
        program_agent: false,
        ciba_mode: None,
        ciba_notification_endpoint: None,
        id_token_alg: crate::tokens::signing_key::Algorithm::RS256,
    }
}

/// An enabled user whose `sub` and username are `sub`.
pub fn person(sub: &str, is_agent: bool) -> UserRow {
    UserRow {
        sub: sub.into(),
        username: sub.into(),
        password_hash: None,
        is_agent,
        created_at: 0,
        disabled_at: None,
        email: None,
        display_name: None,
        team: None,
    }
}

/// Grant `g1` from alice to bob through `desk`, active from 0 until 1000.
pub fn grant(scopes: &str, audiences: &str) -> GrantRow {
    GrantRow {
        id: "g1".into(),
        subject_sub: "alice".into(),
        agent_sub: Some("bob".into()),
        client_id: "desk".into(),
        scopes: scopes.into(),
        audiences: audiences.into(),
        reason: String::new(),
        ticket: String::new(),
        request_id: None,
        created_at: 0,
        expires_at: 1000,
        revoked_at: None,
        revoked_by: None,
        team: None,
        apps: String::new(),
        first_used_at: None,
    }
}

/// alice's remembered consent to the client `app`.
pub fn consent(scopes: &str) -> AppConsentRow {
    AppConsentRow {
        user_sub: "alice".into(),
        client_id: "app".into(),
        scopes: scopes.into(),
        granted_at: 0,
    }
}

/// bob's pending request `id` to `subject_sub` through `desk`, asked at 0.
pub fn pending_request(
    id: &str,
    subject_sub: &str,
    scopes: &str,
    expires_at: i64,
) -> AccessRequestRow {
    AccessRequestRow {
        id: id.into(),
        agent_sub: "bob".into(),
        subject_sub: subject_sub.into(),
        client_id: "desk".into(),
        scopes: scopes.into(),
        duration: 600,
        reason: "r".into(),
        ticket: String::new(),
        status: RequestState::Pending.as_str().into(),
        created_at: 0,
        expires_at,
        decided_at: None,
        grant_id: None,
        apps: String::new(),
    }
}
