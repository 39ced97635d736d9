//! `POST /account/grants`: a grant the user gives on their own initiative
//! (docs/contract.md "Consent screen"). `decide_give` (pure: client, scopes,
//! duration, reason) → one transaction that finds the agent, checks it
//! (`decide_agent`) and records the grant through `grants::record`.

use super::{GrantView, Granted, build, record, view};
use crate::clients::Client;
use crate::config::Policy;
use crate::delegation::policy;
use crate::delegation::refusal::Refusal;
use crate::store::users::UserRow;
use crate::store::{Database, TxError};
use crate::telemetry::grant_events;

/// The form, as sent.
pub struct GiveAccess {
    pub agent: String,
    pub scope: String,
    pub duration: i64,
    pub reason: Option<String>,
}

/// What is given once checked: scopes, duration and the reason shown to the agent.
#[derive(Debug, PartialEq, Eq)]
pub struct Given {
    pub scopes: Vec<String>,
    pub duration: i64,
    pub reason: String,
}

/// Checks, in this order: the client can carry a grant, scopes, duration, reason.
pub fn decide_give(policy: &Policy, client: &Client, form: &GiveAccess) -> Result<Given, Refusal> {
    policy::require_exchange_client(client)?;
    let scopes = policy::grantable_scopes(policy, client, &form.scope)?;
    let duration = policy::check_duration(policy, form.duration)?;
    let reason = policy::text(form.reason.as_deref(), "reason", 2000, false)?;
    Ok(Given {
        scopes,
        duration,
        reason: if reason.is_empty() {
            "Given by the account owner".into()
        } else {
            reason
        },
    })
}

/// The agent a user may give access to: an active agent other than the user.
fn decide_agent(user: &UserRow, agent: Option<UserRow>) -> Result<UserRow, Refusal> {
    agent
        .filter(|a| a.is_agent && a.is_active() && a.sub != user.sub)
        .ok_or_else(|| Refusal::invalid("no such agent"))
}

pub async fn give(
    db: &Database,
    policy: &Policy,
    audience: &str,
    now: i64,
    user: &UserRow,
    client: &Client,
    form: GiveAccess,
) -> Result<GrantView, Refusal> {
    let given = decide_give(policy, client, &form)?;
    let (user, client_id, audience) =
        (user.clone(), client.client_id.clone(), audience.to_string());
    let given = db
        .transaction(move |c| {
            let found = UserRow::find_by_username(c, &form.agent)?;
            let agent = decide_agent(&user, found).map_err(TxError::Abort)?;
            let grant = build(
                Granted {
                    subject_sub: &user.sub,
                    agent_sub: &agent.sub,
                    client_id: &client_id,
                    scopes: &given.scopes,
                    audience: &audience,
                    reason: &given.reason,
                    ticket: "",
                    request_id: None,
                    duration: given.duration,
                },
                now,
            );
            record(c, &grant, &user.sub, now)?;
            Ok(view(&grant, now))
        })
        .await?;
    grant_events::given(&given.id, &given.agent, &given.subject);
    Ok(given)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clients::GrantType;
    use crate::test_rows::{client, person};

    fn desk() -> Client {
        client("desk", &[GrantType::TokenExchange], &["read", "write"])
    }

    #[test]
    fn a_gift_without_a_reason_says_the_owner_gave_it() {
        let form = GiveAccess {
            agent: "bob".into(),
            scope: "read".into(),
            duration: 3600,
            reason: None,
        };
        let given = decide_give(&Policy::default(), &desk(), &form).unwrap();
        assert_eq!(given.reason, "Given by the account owner");
    }

    #[test]
    fn a_gift_of_a_non_delegable_scope_is_refused() {
        let policy = Policy {
            non_delegable_scopes: vec!["write".into()],
            ..Policy::default()
        };
        let form = GiveAccess {
            agent: "bob".into(),
            scope: "read write".into(),
            duration: 3600,
            reason: None,
        };
        assert!(matches!(
            decide_give(&policy, &desk(), &form),
            Err(Refusal::InvalidScope(_))
        ));
    }

    #[test]
    fn access_goes_only_to_an_active_agent_other_than_the_user() {
        let alice = person("alice", true);
        assert!(decide_agent(&alice, Some(person("bob", true))).is_ok());
        assert!(decide_agent(&alice, Some(person("carol", false))).is_err());
        assert!(decide_agent(&alice, Some(alice.clone())).is_err());
        assert!(decide_agent(&alice, None).is_err());
    }
}
