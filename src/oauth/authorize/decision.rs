//! The authorization decision for a signed-in user, pure (OIDC Core §3.1.2.3,
//! §3.1.2.4): is the sign-in fresh enough for `prompt=login` and `max_age`, and
//! does the request lead to a code, the consent page, or a refusal.

use super::request::AuthorizationRequest;
use crate::config::AGENT_SCOPE;
use crate::store::app_consents::AppConsentRow;
use crate::store::sessions::SessionRow;
use crate::store::users::UserRow;

/// Whether the session's sign-in satisfies `prompt=login` and `max_age`.
pub fn sign_in_is_fresh(request: &AuthorizationRequest, session: &SessionRow, now: i64) -> bool {
    let auth_time = session.auth_time.unwrap_or(i64::MIN);
    if request.reauth_since.is_some_and(|since| auth_time >= since) {
        return true;
    }
    !request.prompt.login && request.max_age.is_none_or(|max| now - auth_time <= max)
}

/// What a signed-in user's request leads to, short of asking them.
#[derive(Debug, PartialEq, Eq)]
pub enum Decision {
    Issue,
    Consent,
    Refuse(&'static str, &'static str),
}

/// A request that no answer of the user can make good.
pub fn refusal(request: &AuthorizationRequest, user: &UserRow) -> Option<Decision> {
    (request.scopes.iter().any(|s| s == AGENT_SCOPE) && !user.is_agent).then_some(Decision::Refuse(
        "invalid_scope",
        "the agent scope is only for support agents",
    ))
}

/// Whether the consent remembered for this user and app must be read to decide.
pub fn needs_remembered_consent(request: &AuthorizationRequest) -> bool {
    !request.client.first_party && !request.prompt.consent
}

/// In this order: a refusal, a first-party app, `prompt=consent`, the remembered consent.
pub fn decide(
    request: &AuthorizationRequest,
    user: &UserRow,
    remembered: Option<&AppConsentRow>,
) -> Decision {
    if let Some(refused) = refusal(request, user) {
        return refused;
    }
    if request.client.first_party {
        return Decision::Issue;
    }
    if request.prompt.consent {
        return Decision::Consent;
    }
    match remembered {
        Some(consent) if consent.covers(&request.scopes) => Decision::Issue,
        _ => Decision::Consent,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clients::{Client, GrantType};
    use crate::oauth::authorize::request::Prompt;
    use crate::test_rows::{consent, person};
    use std::sync::Arc;

    fn request(first_party: bool, scopes: &[&str], prompt: Prompt) -> AuthorizationRequest {
        AuthorizationRequest {
            client: Arc::new(Client {
                secret_hash: None,
                is_public: true,
                first_party,
                name: "App".into(),
                redirect_uris: vec!["https://app.example/cb".into()],
                ..crate::test_rows::client("app", &[GrantType::AuthorizationCode], &[])
            }),
            redirect_uri: "https://app.example/cb".into(),
            state: None,
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
            nonce: None,
            code_challenge: "c".into(),
            prompt,
            max_age: None,
            reauth_since: None,
            login_hint: None,
            params: vec![],
        }
    }

    fn user(is_agent: bool) -> UserRow {
        person("alice", is_agent)
    }

    fn session(auth_time: i64) -> SessionRow {
        SessionRow {
            id: "s".into(),
            user_sub: Some("alice".into()),
            csrf_token: "t".into(),
            auth_time: Some(auth_time),
            created_at: 0,
            expires_at: 10_000,
        }
    }

    #[test]
    fn a_remembered_consent_that_covers_the_scopes_issues_a_code_and_a_wider_request_asks_again() {
        let asking = request(false, &["openid", "read"], Prompt::default());
        let alice = user(false);
        assert_eq!(
            decide(&asking, &alice, Some(&consent("openid read profile"))),
            Decision::Issue
        );
        assert_eq!(
            decide(&asking, &alice, Some(&consent("openid"))),
            Decision::Consent
        );
        assert_eq!(decide(&asking, &alice, None), Decision::Consent);
    }

    #[test]
    fn prompt_consent_asks_even_when_consent_is_remembered_but_first_party_apps_never_ask() {
        let prompt = Prompt {
            consent: true,
            ..Prompt::default()
        };
        let alice = user(false);
        assert_eq!(
            decide(
                &request(false, &["openid"], prompt),
                &alice,
                Some(&consent("openid"))
            ),
            Decision::Consent
        );
        assert_eq!(
            decide(&request(true, &["openid"], prompt), &alice, None),
            Decision::Issue
        );
    }

    #[test]
    fn the_agent_scope_is_refused_to_a_user_who_is_not_an_agent_even_on_a_first_party_app() {
        let asking = request(true, &["openid", "agent"], Prompt::default());
        assert!(matches!(
            decide(&asking, &user(false), None),
            Decision::Refuse("invalid_scope", _)
        ));
        assert_eq!(decide(&asking, &user(true), None), Decision::Issue);
    }

    #[test]
    fn prompt_login_and_max_age_want_a_sign_in_newer_than_the_request() {
        let login = request(
            false,
            &["openid"],
            Prompt {
                login: true,
                ..Prompt::default()
            },
        );
        assert!(!sign_in_is_fresh(&login, &session(100), 200));
        let came_back = AuthorizationRequest {
            reauth_since: Some(150),
            ..login
        };
        assert!(sign_in_is_fresh(&came_back, &session(160), 200));
        let max_age = AuthorizationRequest {
            max_age: Some(60),
            ..request(false, &["openid"], Prompt::default())
        };
        assert!(sign_in_is_fresh(&max_age, &session(150), 200));
        assert!(!sign_in_is_fresh(&max_age, &session(100), 200));
    }
}
