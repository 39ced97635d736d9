//! `POST /account/grants`, "Allow support access": a grant the user gives on
//! their own initiative to a team or a named agent (docs/contract.md "The
//! consent screen as a product", "People, agents and teams"). `decide_give`
//! (pure: client, scopes, duration, reason, how many apps) → one transaction
//! that checks the grantee (`decide_agent`, or a team with an enabled agent)
//! and that each app is registered for delegated sign-in
//! (`policy::check_apps_registered`), and records the grant through
//! `grants::record`. Every refusal names the field it is about, so the form
//! can show it there.

use super::{GrantView, Granted, Grantee, build, load_view, record};
use crate::clients::Client;
use crate::config::Policy;
use crate::delegation::policy;
use crate::delegation::refusal::{AtField, Refusal};
use crate::store::clients::ClientRow;
use crate::store::users::UserRow;
use crate::store::{AnyConnection, Database, StoreError, TxError};
use crate::telemetry::grant_events;

/// Who the user gives access to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GiveTo {
    Team(String),
    Agent(String),
}

/// The form, as sent.
pub struct GiveAccess {
    pub to: GiveTo,
    pub scopes: Vec<String>,
    pub apps: Vec<String>,
    pub duration: i64,
    pub reason: Option<String>,
}

/// The form's fields, for saying which one a refusal is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GiveField {
    Grantee,
    Client,
    Scope,
    App,
    Duration,
    Reason,
}

impl GiveField {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Grantee => "grantee",
            Self::Client => "client_id",
            Self::Scope => "scope",
            Self::App => "app",
            Self::Duration => "duration",
            Self::Reason => "reason",
        }
    }
}

/// A refusal of the form, and the field it is about.
pub type GiveRefused = AtField<GiveField>;

/// What is given once checked: scopes, duration and the reason shown to the agent.
#[derive(Debug, PartialEq, Eq)]
pub struct Given {
    pub scopes: Vec<String>,
    pub duration: i64,
    pub reason: String,
}

/// Checks, in this order: the client can carry a grant, scopes, duration,
/// reason, how many apps (whether each is registered, in the transaction).
pub fn decide_give(
    policy: &Policy,
    client: &Client,
    form: &GiveAccess,
) -> Result<Given, GiveRefused> {
    policy::require_exchange_client(client).map_err(GiveRefused::at(GiveField::Client))?;
    let scopes = policy::grantable_scopes(policy, client, &form.scopes.join(" "))
        .map_err(GiveRefused::at(GiveField::Scope))?;
    let duration = policy::check_duration(policy, form.duration)
        .map_err(GiveRefused::at(GiveField::Duration))?;
    let reason = policy::text(form.reason.as_deref(), "reason", 2000, false)
        .map_err(GiveRefused::at(GiveField::Reason))?;
    policy::check_app_count(&form.apps).map_err(GiveRefused::at(GiveField::App))?;
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

/// The grantee, checked in the transaction: the agent's `sub`, or the team.
fn find_grantee(
    conn: &mut AnyConnection,
    user: &UserRow,
    to: &GiveTo,
) -> Result<Result<GiveTo, Refusal>, StoreError> {
    Ok(match to {
        GiveTo::Agent(username) => {
            let found = UserRow::find_by_username(conn, username)?;
            decide_agent(user, found).map(|a| GiveTo::Agent(a.sub))
        }
        GiveTo::Team(team) if UserRow::team_has_enabled_agent(conn, team)? => {
            Ok(GiveTo::Team(team.clone()))
        }
        GiveTo::Team(_) => Err(Refusal::invalid("no such team")),
    })
}

pub async fn give(
    db: &Database,
    policy: &Policy,
    audience: &str,
    now: i64,
    user: &UserRow,
    client: &Client,
    form: GiveAccess,
) -> Result<GrantView, GiveRefused> {
    let given = decide_give(policy, client, &form)?;
    let (user, client_id, audience) =
        (user.clone(), client.client_id.clone(), audience.to_string());
    let given = db
        .transaction(move |c| {
            let grantee = find_grantee(c, &user, &form.to)?
                .map_err(|r| TxError::Abort(GiveRefused::at(GiveField::Grantee)(r)))?;
            let registered = ClientRow::delegated_sign_in_among(c, &form.apps)?;
            policy::check_apps_registered(&form.apps, &registered)
                .map_err(|r| TxError::Abort(GiveRefused::at(GiveField::App)(r)))?;
            let grant = build(
                Granted {
                    subject_sub: &user.sub,
                    grantee: match &grantee {
                        GiveTo::Agent(sub) => Grantee::Agent(sub),
                        GiveTo::Team(team) => Grantee::Team(team),
                    },
                    client_id: &client_id,
                    scopes: &given.scopes,
                    audience: &audience,
                    reason: &given.reason,
                    ticket: "",
                    request_id: None,
                    duration: given.duration,
                    apps: &form.apps,
                },
                now,
            );
            record(c, &grant, &user.sub, now)?;
            Ok(load_view(c, &grant, now)?)
        })
        .await
        .map_err(|e| match e {
            TxError::Abort(refused) => refused,
            TxError::Store(e) => GiveRefused::from(Refusal::from(e)),
        })?;
    let to = given.agent.as_deref().or(given.team.as_deref());
    grant_events::given(&given.id, to.unwrap_or_default(), &given.subject);
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

    fn form(scopes: &[&str]) -> GiveAccess {
        GiveAccess {
            to: GiveTo::Team("Support".into()),
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
            apps: vec![],
            duration: 3600,
            reason: None,
        }
    }

    #[test]
    fn a_gift_without_a_reason_says_the_owner_gave_it() {
        let given = decide_give(&Policy::default(), &desk(), &form(&["read"])).unwrap();
        assert_eq!(given.reason, "Given by the account owner");
    }

    #[test]
    fn a_gift_of_a_non_delegable_scope_is_refused_at_the_scope_field() {
        let policy = Policy {
            non_delegable_scopes: vec!["write".into()],
            ..Policy::default()
        };
        let refused = decide_give(&policy, &desk(), &form(&["read", "write"])).unwrap_err();
        assert_eq!(refused.field, Some(GiveField::Scope));
        assert!(matches!(refused.refusal, Refusal::InvalidScope(_)));
    }

    #[test]
    fn a_gift_of_nothing_is_refused_at_the_scope_field() {
        let refused = decide_give(&Policy::default(), &desk(), &form(&[])).unwrap_err();
        assert_eq!(refused.field, Some(GiveField::Scope));
    }

    #[test]
    fn a_duration_out_of_bounds_is_refused_at_the_duration_field() {
        let too_long = GiveAccess {
            duration: 10 * 365 * 86_400,
            ..form(&["read"])
        };
        let refused = decide_give(&Policy::default(), &desk(), &too_long).unwrap_err();
        assert_eq!(refused.field, Some(GiveField::Duration));
    }

    #[test]
    fn access_goes_only_to_an_active_agent_other_than_the_user() {
        let alice = person("alice", true);
        assert!(decide_agent(&alice, Some(person("bob", true))).is_ok());
        assert!(decide_agent(&alice, Some(person("carol", false))).is_err());
        assert!(decide_agent(&alice, Some(alice.clone())).is_err());
        assert!(decide_agent(&alice, None).is_err());
    }

    #[test]
    fn more_apps_than_one_access_may_name_are_refused_at_the_app_field() {
        let many = GiveAccess {
            apps: (0..=policy::MAX_APPS).map(|i| format!("app{i}")).collect(),
            ..form(&["read"])
        };
        let refused = decide_give(&Policy::default(), &desk(), &many).unwrap_err();
        assert_eq!(refused.field, Some(GiveField::App));
    }
}
