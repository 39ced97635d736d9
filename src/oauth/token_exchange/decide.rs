//! The exchange decision (RFC 8693 §2.1; docs/contract.md "Token exchange
//! profile"), pure: given the rows the transaction read, whether to issue and
//! what. Refusals in this order: the agent, the grant, whose grant (its agent, or an agent of its team), which
//! client, the subject (a disabled user is `invalid_request`, docs/security.md
//! E16); then scope narrowing (§2.1 `scope`), audience narrowing (§2.1
//! `audience`/`resource`) and the lifetime: never past the policy TTL, the
//! grant's end or the actor token's `exp` (docs/security.md E10).
//! (Over 400 lines: 130 decide, the rest are the unit tests of the decision, kept beside it.)

use crate::clients::Client;
use crate::config::Policy;
use crate::error::OAuthError;
use crate::store::grants::GrantRow;
use crate::store::users::UserRow;

/// What the transaction read for one exchange: the grant, the agent (the
/// actor token's `sub`) and the user the grant is over; `None` when not found.
pub struct Parties<'a> {
    pub grant: Option<&'a GrantRow>,
    pub agent: Option<&'a UserRow>,
    pub subject: Option<&'a UserRow>,
    /// The actor token's `exp`: the delegated token never outlives it.
    pub actor_expires_at: i64,
}

/// What the client asked for beyond the grant: `None`/empty means "all of it".
pub struct Wanted {
    pub scope: Option<Vec<String>>,
    pub audiences: Vec<String>,
}

/// What to issue: a token about `subject`, acted by `agent`, under `grant_id`.
#[derive(Debug, PartialEq, Eq)]
pub struct Issue {
    pub subject: String,
    pub agent: String,
    pub grant_id: String,
    pub scopes: Vec<String>,
    pub audiences: Vec<String>,
    pub expires_at: i64,
}

fn refuse(description: &'static str) -> OAuthError {
    OAuthError::invalid_request(description)
}

pub fn decide_exchange(
    parties: Parties<'_>,
    client: &Client,
    policy: &Policy,
    wanted: Wanted,
    now: i64,
) -> Result<Issue, OAuthError> {
    let agent = parties
        .agent
        .filter(|u| u.is_active() && u.is_agent)
        .ok_or_else(|| refuse("the actor is not an active agent"))?;
    let grant = parties
        .grant
        .filter(|g| g.is_active(now))
        .ok_or_else(|| refuse("the grant is unknown, expired or revoked"))?;
    if !grant.may_be_used_by(&agent.sub, agent.team.as_deref()) {
        return Err(refuse("the grant was not given to this agent"));
    }
    if grant.client_id != client.client_id {
        return Err(refuse("the grant is bound to another client"));
    }
    if !parties
        .subject
        .is_some_and(|u| u.sub == grant.subject_sub && u.is_active())
    {
        return Err(refuse("the user the grant is over is disabled"));
    }
    let scopes = narrow_scopes(grant, client, policy, wanted.scope)?;
    let audiences = narrow_audiences(grant, wanted.audiences)?;
    Ok(Issue {
        subject: grant.subject_sub.clone(),
        agent: agent.sub.clone(),
        grant_id: grant.id.clone(),
        scopes,
        audiences,
        expires_at: (now + policy.delegated_token_ttl_seconds)
            .min(grant.expires_at)
            .min(parties.actor_expires_at),
    })
}

/// The grant's scopes that this client may still carry and the policy still
/// delegates; a wanted scope outside them is `invalid_scope`.
fn narrow_scopes(
    grant: &GrantRow,
    client: &Client,
    policy: &Policy,
    wanted: Option<Vec<String>>,
) -> Result<Vec<String>, OAuthError> {
    let usable: Vec<String> = grant
        .scope_list()
        .into_iter()
        .filter(|s| client.scopes.contains(s) && policy.is_delegable(s))
        .collect();
    let scopes = match wanted {
        Some(wanted) => {
            if let Some(stray) = wanted.iter().find(|s| !usable.contains(s)) {
                return Err(OAuthError::invalid_scope(format!(
                    "scope {stray} is not part of the grant, or cannot be delegated"
                )));
            }
            wanted
        }
        None => usable,
    };
    if scopes.is_empty() {
        return Err(OAuthError::invalid_scope(
            "no scope of the grant can be issued",
        ));
    }
    Ok(scopes)
}

/// The grant's audiences, or the wanted ones if all are among them (`invalid_target` if not).
fn narrow_audiences(grant: &GrantRow, wanted: Vec<String>) -> Result<Vec<String>, OAuthError> {
    let allowed = grant.audience_list();
    if let Some(stray) = wanted.iter().find(|a| !allowed.contains(a)) {
        return Err(OAuthError::invalid_target(format!(
            "{stray} is not an audience of the grant"
        )));
    }
    Ok(if wanted.is_empty() { allowed } else { wanted })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clients::GrantType;
    use crate::error::ErrorCode;
    use crate::test_rows::{self, client, person};

    fn grant() -> GrantRow {
        test_rows::grant("read write", "https://api.example urn:orders")
    }

    fn agent(sub: &str) -> UserRow {
        person(sub, true)
    }

    fn desk(scopes: &[&str]) -> Client {
        client("desk", &[GrantType::TokenExchange], scopes)
    }

    fn alice() -> &'static UserRow {
        Box::leak(Box::new(person("alice", false)))
    }

    /// The rows for an exchange by `agent` under `grant`, over an enabled alice,
    /// with an actor token that outlives everything.
    fn parties<'a>(grant: Option<&'a GrantRow>, agent: Option<&'a UserRow>) -> Parties<'a> {
        Parties {
            grant,
            agent,
            subject: Some(alice()),
            actor_expires_at: i64::MAX,
        }
    }

    fn all() -> Wanted {
        Wanted {
            scope: None,
            audiences: vec![],
        }
    }

    fn code(result: Result<Issue, OAuthError>) -> ErrorCode {
        result.unwrap_err().error
    }

    #[test]
    fn asking_for_nothing_gets_everything_the_grant_allows_until_the_policy_lifetime() {
        let issue = decide_exchange(
            parties(Some(&grant()), Some(&agent("bob"))),
            &desk(&["read", "write"]),
            &Policy::default(),
            all(),
            100,
        );
        assert_eq!(
            issue.unwrap(),
            Issue {
                subject: "alice".into(),
                agent: "bob".into(),
                grant_id: "g1".into(),
                scopes: vec!["read".into(), "write".into()],
                audiences: vec!["https://api.example".into(), "urn:orders".into()],
                expires_at: 100 + Policy::default().delegated_token_ttl_seconds,
            }
        );
    }

    #[test]
    fn a_token_never_outlives_its_grant() {
        let issue = decide_exchange(
            parties(Some(&grant()), Some(&agent("bob"))),
            &desk(&["read"]),
            &Policy::default(),
            all(),
            900,
        )
        .unwrap();
        assert_eq!(issue.expires_at, 1000);
    }

    #[test]
    fn a_token_never_outlives_the_actor_token_it_was_minted_with() {
        let issue = decide_exchange(
            Parties {
                actor_expires_at: 130,
                ..parties(Some(&grant()), Some(&agent("bob")))
            },
            &desk(&["read"]),
            &Policy::default(),
            all(),
            100,
        )
        .unwrap();
        assert_eq!(issue.expires_at, 130);
    }

    #[test]
    fn a_disabled_or_missing_subject_is_refused_as_invalid_request() {
        let disabled = UserRow {
            disabled_at: Some(1),
            ..person("alice", false)
        };
        for subject in [Some(&disabled), None] {
            let refused = decide_exchange(
                Parties {
                    subject,
                    ..parties(Some(&grant()), Some(&agent("bob")))
                },
                &desk(&["read"]),
                &Policy::default(),
                all(),
                100,
            )
            .unwrap_err();
            assert_eq!(refused.error, ErrorCode::InvalidRequest);
            assert_eq!(
                refused.error_description,
                "the user the grant is over is disabled"
            );
        }
    }

    #[test]
    fn scopes_narrow_to_what_is_asked_and_never_widen() {
        let client = desk(&["read", "write"]);
        let narrowed = Wanted {
            scope: Some(vec!["read".into()]),
            audiences: vec![],
        };
        let issue = decide_exchange(
            parties(Some(&grant()), Some(&agent("bob"))),
            &client,
            &Policy::default(),
            narrowed,
            100,
        )
        .unwrap();
        assert_eq!(issue.scopes, vec!["read"]);
        let widened = Wanted {
            scope: Some(vec!["admin".into()]),
            audiences: vec![],
        };
        assert_eq!(
            code(decide_exchange(
                parties(Some(&grant()), Some(&agent("bob"))),
                &client,
                &Policy::default(),
                widened,
                100
            )),
            ErrorCode::InvalidScope
        );
    }

    #[test]
    fn a_scope_the_client_lost_or_the_policy_stopped_delegating_is_left_out() {
        let policy = Policy {
            non_delegable_scopes: vec!["write".into()],
            ..Policy::default()
        };
        let issue = decide_exchange(
            parties(Some(&grant()), Some(&agent("bob"))),
            &desk(&["read", "write"]),
            &policy,
            all(),
            100,
        )
        .unwrap();
        assert_eq!(issue.scopes, vec!["read"]);
        let nothing_left = decide_exchange(
            parties(Some(&grant()), Some(&agent("bob"))),
            &desk(&["other"]),
            &Policy::default(),
            all(),
            100,
        );
        assert_eq!(code(nothing_left), ErrorCode::InvalidScope);
    }

    #[test]
    fn audiences_narrow_within_the_grant_and_a_stray_one_is_invalid_target() {
        let client = desk(&["read"]);
        let one = Wanted {
            scope: None,
            audiences: vec!["urn:orders".into()],
        };
        let issue = decide_exchange(
            parties(Some(&grant()), Some(&agent("bob"))),
            &client,
            &Policy::default(),
            one,
            100,
        )
        .unwrap();
        assert_eq!(issue.audiences, vec!["urn:orders"]);
        let stray = Wanted {
            scope: None,
            audiences: vec!["https://evil.example".into()],
        };
        assert_eq!(
            code(decide_exchange(
                parties(Some(&grant()), Some(&agent("bob"))),
                &client,
                &Policy::default(),
                stray,
                100
            )),
            ErrorCode::InvalidTarget
        );
    }

    #[test]
    fn refusals_name_the_agent_first_then_the_grant_then_its_agent_then_its_client() {
        let policy = Policy::default();
        let client = desk(&["read"]);
        let refused = |grant: Option<&GrantRow>, agent: Option<&UserRow>, client: &Client| {
            decide_exchange(parties(grant, agent), client, &policy, all(), 100)
                .unwrap_err()
                .error_description
        };
        let disabled = UserRow {
            disabled_at: Some(1),
            ..agent("bob")
        };
        assert_eq!(
            refused(None, Some(&disabled), &client),
            "the actor is not an active agent"
        );
        assert_eq!(
            refused(None, Some(&agent("bob")), &client),
            "the grant is unknown, expired or revoked"
        );
        let revoked = GrantRow {
            revoked_at: Some(5),
            ..grant()
        };
        assert_eq!(
            refused(Some(&revoked), Some(&agent("bob")), &client),
            "the grant is unknown, expired or revoked"
        );
        assert_eq!(
            refused(Some(&grant()), Some(&agent("carol")), &client),
            "the grant was not given to this agent"
        );
        let other = Client {
            client_id: "other".into(),
            ..desk(&["read"])
        };
        assert_eq!(
            refused(Some(&grant()), Some(&agent("bob")), &other),
            "the grant is bound to another client"
        );
    }

    #[test]
    fn any_agent_of_the_team_may_use_a_team_grant_and_no_one_else() {
        let team_grant = GrantRow {
            agent_sub: None,
            team: Some("Support".into()),
            ..grant()
        };
        let in_team = |name: &str, team: &str| UserRow {
            team: Some(team.into()),
            ..agent(name)
        };
        let client = desk(&["read"]);
        let issued = |who: &UserRow| {
            let parties = Parties {
                agent: Some(who),
                grant: Some(&team_grant),
                subject: Some(alice()),
                actor_expires_at: i64::MAX,
            };
            decide_exchange(parties, &client, &Policy::default(), all(), 10)
        };
        let dave = in_team("dave", "Support");
        assert_eq!(issued(&dave).unwrap().agent, "dave");
        assert!(issued(&in_team("erin", "Sales")).is_err());
        assert!(issued(&agent("bob")).is_err());
    }
}
