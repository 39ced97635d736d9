//! `POST /api/access-requests` and the console's "Ask for access": parse →
//! `decide_new_request` (pure: scopes, duration, reason, ticket, how many
//! apps, against the policy and the client) → one transaction that finds the
//! user (by username, `sub` or email: `find_subject`), checks them
//! (`decide_subject`) and that each app is registered for delegated sign-in,
//! checks the agent's pending requests (`decide_room`: one per user, a cap in
//! all; docs/security.md L5) under a lock on the agent's requests, writes the
//! request and its audit event. Every refusal names the field it is about
//! (`RequestField`), so that the console can show it there.

use super::{RequestView, view};
use crate::audit::{self, Action};
use crate::clients::Client;
use crate::config::Policy;
use crate::delegation::events;
use crate::delegation::policy;
use crate::delegation::refusal::{AtField, Refusal};
use crate::random;
use crate::store::access_requests::{AccessRequestRow, RequestState};
use crate::store::clients::ClientRow;
use crate::store::users::UserRow;
use crate::store::{AnyConnection, Database, StoreError, TxError};
use serde::Deserialize;
use serde_json::json;

/// The JSON body, as sent. Every field is optional to the parser so that
/// `decide_new_request` can name what is missing; its schema says which ones
/// a request needs.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = NewAccessRequest)]
pub struct NewRequest {
    /// The user asked: a username or a `sub` (one line, at most 200 characters).
    #[schema(required, nullable = false)]
    pub subject: Option<String>,
    /// Space-separated scopes, each delegable and the agent's client's.
    #[schema(required, nullable = false)]
    pub scope: Option<String>,
    /// How long the grant would last, in seconds, within the policy's bounds.
    #[schema(required, nullable = false)]
    pub duration: Option<i64>,
    /// Why, in words the user reads (at most 2000 characters).
    #[schema(required, nullable = false)]
    pub reason: Option<String>,
    /// The support ticket (one line, at most 200 characters).
    pub ticket: Option<String>,
    /// Client ids of delegated-sign-in apps.
    #[schema(max_items = 20)]
    pub apps: Option<Vec<String>>,
}

/// Why a request cannot go to the user it names, as the refusal says it.
pub const NO_SUCH_USER: &str = "no such user";
pub const OWN_ACCOUNT: &str = "an agent cannot ask for access to its own account";
pub const SHARED_EMAIL: &str = "more than one user has this email; name the username";

/// The fields of a request, for saying which one a refusal is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestField {
    Subject,
    Client,
    Scope,
    App,
    Duration,
    Reason,
    Ticket,
}

impl RequestField {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Subject => "subject",
            Self::Client => "client_id",
            Self::Scope => "scope",
            Self::App => "app",
            Self::Duration => "duration",
            Self::Reason => "reason",
            Self::Ticket => "ticket",
        }
    }
}

/// A refusal of a new request, and the field it is about.
pub type RequestRefused = AtField<RequestField>;

/// A request that passed every check that needs no lookup.
#[derive(Debug, PartialEq, Eq)]
pub struct Asked {
    pub subject: String,
    pub scopes: Vec<String>,
    pub duration: i64,
    pub reason: String,
    pub ticket: String,
    pub apps: Vec<String>,
}

/// Checks, in this order: the client can carry a grant, subject, scopes,
/// duration, reason, ticket, how many apps.
pub fn decide_new_request(
    policy: &Policy,
    client: &Client,
    new: NewRequest,
) -> Result<Asked, RequestRefused> {
    use RequestField as F;
    let at = RequestRefused::at;
    policy::require_exchange_client(client).map_err(at(F::Client))?;
    let subject =
        policy::line(new.subject.as_deref(), "subject", 200, true).map_err(at(F::Subject))?;
    let scopes = policy::grantable_scopes(policy, client, new.scope.as_deref().unwrap_or_default())
        .map_err(at(F::Scope))?;
    let duration = new
        .duration
        .ok_or_else(|| Refusal::invalid("duration is required"))
        .and_then(|d| policy::check_duration(policy, d))
        .map_err(at(F::Duration))?;
    let reason =
        policy::text(new.reason.as_deref(), "reason", 2000, true).map_err(at(F::Reason))?;
    let ticket =
        policy::line(new.ticket.as_deref(), "ticket", 200, false).map_err(at(F::Ticket))?;
    let apps = new.apps.unwrap_or_default();
    policy::check_app_count(&apps).map_err(at(F::App))?;
    Ok(Asked {
        subject,
        scopes,
        duration,
        reason,
        ticket,
        apps,
    })
}

/// The user `subject` names: a username, else a `sub`, else an email that
/// exactly one user has (two with it: refused, naming the username instead).
fn find_subject(
    conn: &mut AnyConnection,
    subject: &str,
) -> Result<Result<Option<UserRow>, Refusal>, StoreError> {
    if let Some(user) = UserRow::find_by_username(conn, subject)? {
        return Ok(Ok(Some(user)));
    }
    if let Some(user) = UserRow::find_by_sub(conn, subject)? {
        return Ok(Ok(Some(user)));
    }
    if !subject.contains('@') {
        return Ok(Ok(None));
    }
    let mut found = UserRow::find_by_email(conn, subject, 2)?;
    Ok(match found.len() {
        0 | 1 => Ok(found.pop()),
        _ => Err(Refusal::invalid(SHARED_EMAIL)),
    })
}

/// The user a request may be addressed to: active, and not the agent itself.
fn decide_subject(agent: &UserRow, user: Option<UserRow>) -> Result<UserRow, Refusal> {
    let user = user
        .filter(UserRow::is_active)
        .ok_or_else(|| Refusal::invalid(NO_SUCH_USER))?;
    if user.sub == agent.sub {
        return Err(Refusal::invalid(OWN_ACCOUNT));
    }
    Ok(user)
}

/// Whether the agent may file one more request to `subject_sub`, given its
/// requests still pending (unexpired): none to this user yet (else
/// `AlreadyPending` with its id), and fewer than `max_pending` in all (else
/// `TooManyPending`, retry once the first of them expires).
pub fn decide_room(
    pending: &[AccessRequestRow],
    subject_sub: &str,
    max_pending: i64,
    now: i64,
) -> Result<(), Refusal> {
    if let Some(waiting) = pending.iter().find(|r| r.subject_sub == subject_sub) {
        return Err(Refusal::AlreadyPending(waiting.id.clone()));
    }
    if pending.len() as i64 >= max_pending {
        let first_free = pending.iter().map(|r| r.expires_at).min().unwrap_or(now);
        return Err(Refusal::TooManyPending {
            retry_after: (first_free - now).max(1),
        });
    }
    Ok(())
}

pub async fn create(
    db: &Database,
    policy: &Policy,
    now: i64,
    agent: &UserRow,
    client: &Client,
    new: NewRequest,
) -> Result<RequestView, RequestRefused> {
    let waits = policy.request_ttl_seconds;
    create_then(db, policy, now, agent, client, new, waits, |_, _| Ok(())).await
}

/// As `create`, the request waiting `waits` seconds for an answer, and `then`
/// called with the new request's id in the same transaction (a CIBA request's own row).
#[allow(clippy::too_many_arguments)]
pub async fn create_then(
    db: &Database,
    policy: &Policy,
    now: i64,
    agent: &UserRow,
    client: &Client,
    new: NewRequest,
    waits: i64,
    then: impl FnOnce(&mut AnyConnection, &str) -> Result<(), StoreError> + Send + 'static,
) -> Result<RequestView, RequestRefused> {
    let asked = decide_new_request(policy, client, new)?;
    let row = AccessRequestRow {
        id: random::identifier(),
        agent_sub: agent.sub.clone(),
        subject_sub: String::new(),
        client_id: client.client_id.clone(),
        scopes: asked.scopes.join(" "),
        duration: asked.duration,
        reason: asked.reason,
        ticket: asked.ticket,
        status: RequestState::Pending.as_str().into(),
        created_at: now,
        expires_at: now + waits,
        decided_at: None,
        grant_id: None,
        apps: asked.apps.join(" "),
    };
    let (agent, subject) = (agent.clone(), asked.subject);
    let max_pending = policy.max_pending_requests_per_agent;
    db.transaction(move |c| {
        let view = record_request(c, &agent, &subject, max_pending, row, now)?;
        then(c, &view.id)?;
        Ok(view)
    })
    .await
    .map_err(|e| match e {
        TxError::Abort(refused) => refused,
        TxError::Store(e) => RequestRefused::from(Refusal::from(e)),
    })
}

fn record_request(
    conn: &mut AnyConnection,
    agent: &UserRow,
    subject: &str,
    max_pending: i64,
    row: AccessRequestRow,
    now: i64,
) -> Result<RequestView, TxError<RequestRefused>> {
    let refused = |field| move |r| TxError::Abort(RequestRefused::at(field)(r));
    let user = find_subject(conn, subject)?
        .and_then(|found| decide_subject(agent, found))
        .map_err(refused(RequestField::Subject))?;
    let apps = row.app_list();
    let registered = ClientRow::delegated_sign_in_among(conn, &apps)?;
    policy::check_apps_registered(&apps, &registered).map_err(refused(RequestField::App))?;
    AccessRequestRow::lock_for_agent(conn, &agent.sub)?;
    let pending = AccessRequestRow::pending_of_agent(conn, &agent.sub, now)?;
    decide_room(&pending, &user.sub, max_pending, now).map_err(|refusal| {
        // One already waiting is about this user; the cap is about the whole form.
        let field = matches!(refusal, Refusal::AlreadyPending(_)).then_some(RequestField::Subject);
        TxError::Abort(RequestRefused { field, refusal })
    })?;
    let row = AccessRequestRow {
        subject_sub: user.sub.clone(),
        ..row
    };
    row.insert(conn)?;
    audit::record(
        conn,
        now,
        &agent.sub,
        Action::AccessRequestCreated,
        Some(&row.id),
        json!({
            "subject": user.sub, "agent": agent.username, "scope": row.scopes,
            "duration": row.duration, "ticket": row.ticket, "apps": row.apps,
        }),
    )?;
    let expires_at = row.expires_at;
    let shown = view(row, user.username, None, now);
    events::request_created(conn, &shown.id, &shown, expires_at, now)?;
    Ok(shown)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clients::GrantType;
    use crate::test_rows::{self, person};

    fn client(grants: Vec<GrantType>) -> Client {
        test_rows::client("desk", &grants, &["read", "write"])
    }

    fn asking(scope: &str, duration: Option<i64>, reason: &str) -> NewRequest {
        NewRequest {
            subject: Some("alice".into()),
            scope: Some(scope.into()),
            duration,
            reason: Some(reason.into()),
            ticket: Some(" T-1 ".into()),
            apps: None,
        }
    }

    fn user(sub: &str, disabled: bool) -> UserRow {
        UserRow {
            disabled_at: disabled.then_some(1),
            ..person(sub, false)
        }
    }

    #[test]
    fn a_valid_request_is_trimmed_and_keeps_the_scopes_asked() {
        let asked = decide_new_request(
            &Policy::default(),
            &client(vec![GrantType::TokenExchange]),
            asking("read write", Some(3600), " broken invoice "),
        )
        .unwrap();
        assert_eq!(asked.scopes, vec!["read", "write"]);
        assert_eq!(
            (asked.reason.as_str(), asked.ticket.as_str()),
            ("broken invoice", "T-1")
        );
    }

    #[test]
    fn the_client_is_checked_before_anything_the_agent_sent() {
        let refusal = decide_new_request(
            &Policy::default(),
            &client(vec![GrantType::ClientCredentials]),
            asking("", None, ""),
        )
        .unwrap_err();
        assert_eq!(refusal.field, Some(RequestField::Client));
        assert!(
            refusal
                .refusal
                .description()
                .contains("not allowed token exchange")
        );
    }

    #[test]
    fn a_missing_duration_and_a_missing_reason_are_refused_in_that_order() {
        let desk = client(vec![GrantType::TokenExchange]);
        let no_duration = decide_new_request(&Policy::default(), &desk, asking("read", None, ""));
        assert_eq!(
            no_duration,
            Err(RequestRefused::at(RequestField::Duration)(
                Refusal::invalid("duration is required")
            ))
        );
        let no_reason =
            decide_new_request(&Policy::default(), &desk, asking("read", Some(600), ""));
        assert_eq!(
            no_reason,
            Err(RequestRefused::at(RequestField::Reason)(Refusal::invalid(
                "reason is required"
            )))
        );
    }

    fn waiting(id: &str, subject_sub: &str, expires_at: i64) -> AccessRequestRow {
        crate::test_rows::pending_request(id, subject_sub, "read", expires_at)
    }

    #[test]
    fn a_second_pending_request_to_one_user_is_refused_naming_the_first() {
        let pending = [waiting("r1", "alice", 500)];
        assert_eq!(
            decide_room(&pending, "alice", 20, 100),
            Err(Refusal::AlreadyPending("r1".into()))
        );
        assert_eq!(decide_room(&pending, "dave", 20, 100), Ok(()));
    }

    #[test]
    fn past_the_cap_the_agent_is_told_when_the_first_slot_frees() {
        let pending = [waiting("r1", "alice", 500), waiting("r2", "dave", 300)];
        assert_eq!(
            decide_room(&pending, "erin", 2, 100),
            Err(Refusal::TooManyPending { retry_after: 200 })
        );
        assert_eq!(decide_room(&pending, "erin", 3, 100), Ok(()));
        assert_eq!(decide_room(&[], "erin", 1, 100), Ok(()));
    }

    #[test]
    fn a_request_goes_only_to_an_active_user_who_is_not_the_agent() {
        let bob = user("bob", false);
        assert!(decide_subject(&bob, Some(user("alice", false))).is_ok());
        assert!(decide_subject(&bob, Some(user("alice", true))).is_err());
        assert!(decide_subject(&bob, None).is_err());
        assert!(decide_subject(&bob, Some(bob.clone())).is_err());
    }
}
