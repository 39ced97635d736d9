//! `GET /account`: the consent screen (docs/contract.md "Consent screen"). Pending requests (who, why, ticket,
//! scopes in plain words, duration) with approve (shorter, fewer scopes) and
//! deny; active grants with the time left and "End access now"; ended grants
//! and why; the activity under each grant (from the audit trail); and a form to
//! give access on the user's own initiative. Read-only: it changes nothing.
//! Paged (`?page=N`): at most `PAGE` pending requests and `PAGE` ended grants
//! a page, with previous/next links (docs/security.md L5: no agent can make
//! the page grow without bound).

use super::activity;
use crate::app::{App, AppState};
use crate::clients::Client;
use crate::clock::{human_duration, rfc3339};
use crate::delegation::grants::GrantStatus;
use crate::oauth::scope;
use crate::store::access_requests::AccessRequestRow;
use crate::store::audit_events::{self, AuditEventRow};
use crate::store::clients::ClientRow;
use crate::store::grants::EndedBy;
use crate::store::grants::GrantRow;
use crate::store::sessions::SessionRow;
use crate::store::users::UserRow;
use crate::store::{AnyConnection, StoreError};
use crate::web::{pages, session};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use tera::Context;

/// Pending requests, and ended grants, shown on one page.
pub const PAGE: usize = 20;

/// `?page=N` (from 1; anything else is the first page).
#[derive(Deserialize, Default)]
pub struct PageQuery {
    page: Option<String>,
}

impl PageQuery {
    fn number(&self) -> usize {
        self.page
            .as_deref()
            .and_then(|p| p.parse::<usize>().ok())
            .filter(|p| (1..=100_000).contains(p))
            .unwrap_or(1)
    }
}

/// Durations offered when approving, before filtering by policy and the request.
const PRESETS: &[i64] = &[
    900,
    3600,
    4 * 3600,
    8 * 3600,
    86_400,
    3 * 86_400,
    7 * 86_400,
];

#[derive(Serialize)]
struct ScopeView {
    name: String,
    description: String,
}

#[derive(Serialize)]
struct DurationOption {
    value: i64,
    label: String,
    selected: bool,
}

#[derive(Serialize)]
struct PendingView {
    id: String,
    agent: String,
    reason: String,
    ticket: String,
    duration_words: String,
    scopes: Vec<ScopeView>,
    durations: Vec<DurationOption>,
}

#[derive(Serialize)]
struct ActivityLine {
    at: String,
    text: String,
}

#[derive(Serialize)]
struct GrantCard {
    id: String,
    status: &'static str,
    agent: String,
    reason: String,
    ticket: String,
    scopes: Vec<ScopeView>,
    created_at: String,
    expires_at: String,
    time_left: String,
    ended: &'static str,
    ended_at: String,
    activity: Vec<ActivityLine>,
}

#[derive(Serialize)]
struct ClientOption {
    id: String,
    name: String,
}

fn described(words: &HashMap<String, String>, scopes: &str) -> Vec<ScopeView> {
    scopes
        .split(' ')
        .filter(|s| !s.is_empty())
        .map(|s| ScopeView {
            name: s.into(),
            description: scope::describe(words, s),
        })
        .collect()
}

/// Choices from the policy minimum up to `max`, `max` itself included and selected.
fn duration_options(min: i64, max: i64) -> Vec<DurationOption> {
    let mut values: Vec<i64> = PRESETS
        .iter()
        .copied()
        .filter(|d| *d >= min && *d < max)
        .collect();
    values.push(max);
    values
        .into_iter()
        .rev()
        .map(|value| DurationOption {
            value,
            label: human_duration(value),
            selected: value == max,
        })
        .collect()
}

struct AccountData {
    pending: Vec<AccessRequestRow>,
    /// Whether a later page has more pending requests.
    more_pending: bool,
    /// Whether a later page has more ended grants.
    more_ended: bool,
    grants: Vec<GrantRow>,
    events: HashMap<String, Vec<AuditEventRow>>,
    names: HashMap<String, String>,
    clients: Vec<ClientRow>,
}

fn load(
    conn: &mut AnyConnection,
    sub: &str,
    now: i64,
    page: usize,
) -> Result<AccountData, StoreError> {
    let offset = ((page - 1) * PAGE) as i64;
    let mut pending =
        AccessRequestRow::pending_page_for_subject(conn, sub, now, offset, PAGE as i64 + 1)?;
    let more_pending = pending.len() > PAGE;
    pending.truncate(PAGE);
    // Active grants all; ended ones only this page's (newest first).
    let (active, ended): (Vec<GrantRow>, Vec<GrantRow>) = GrantRow::for_subject(conn, sub)?
        .into_iter()
        .partition(|g| g.is_active(now));
    let more_ended = ended.len() > page * PAGE;
    let grants: Vec<GrantRow> = active
        .into_iter()
        .chain(ended.into_iter().skip((page - 1) * PAGE).take(PAGE))
        .collect();
    let ids: Vec<String> = grants.iter().map(|g| g.id.clone()).collect();
    let mut events: HashMap<String, Vec<AuditEventRow>> = HashMap::new();
    for event in audit_events::for_subjects(conn, &ids)? {
        let subject = event.subject.clone().unwrap_or_default();
        events.entry(subject).or_default().push(event);
    }
    let mut subs: Vec<String> = pending
        .iter()
        .map(|r| r.agent_sub.clone())
        .chain(grants.iter().map(|g| g.agent_sub.clone()))
        .chain(std::iter::once(sub.to_string()))
        .collect();
    subs.sort();
    subs.dedup();
    let clients = ClientRow::all(conn)?;
    // Clients act too (an app checking a token): their names, beside the users'.
    let names = clients
        .iter()
        .map(|c| (c.client_id.clone(), c.name.clone()))
        .chain(
            UserRow::find_by_subs(conn, &subs)?
                .into_iter()
                .map(|u| (u.sub, u.username)),
        )
        .collect();
    Ok(AccountData {
        pending,
        more_pending,
        more_ended,
        grants,
        events,
        names,
        clients,
    })
}

fn grant_card(
    words: &HashMap<String, String>,
    grant: &GrantRow,
    data: &AccountData,
    now: i64,
) -> GrantCard {
    let status = GrantStatus::of(grant, now);
    let (ended, ended_at) = match (status, grant.ended_by()) {
        (GrantStatus::Revoked, Some(EndedBy::Agent)) => ("Ended by the agent", grant.revoked_at),
        (GrantStatus::Revoked, Some(EndedBy::UserDisabled)) => {
            ("Ended: an account was disabled", grant.revoked_at)
        }
        (GrantStatus::Revoked, _) => ("Ended by you", grant.revoked_at),
        (GrantStatus::Expired, _) => ("Expired", Some(grant.expires_at)),
        (GrantStatus::Active, _) => ("", None),
    };
    let activity = data
        .events
        .get(&grant.id)
        .map(|events| {
            events
                .iter()
                .map(|e| ActivityLine {
                    at: rfc3339(e.occurred_at),
                    text: activity::line(e, &data.names),
                })
                .collect()
        })
        .unwrap_or_default();
    GrantCard {
        id: grant.id.clone(),
        status: status.as_str(),
        agent: data
            .names
            .get(&grant.agent_sub)
            .cloned()
            .unwrap_or_default(),
        reason: grant.reason.clone(),
        ticket: grant.ticket.clone(),
        scopes: described(words, &grant.scopes),
        created_at: rfc3339(grant.created_at),
        expires_at: rfc3339(grant.expires_at),
        time_left: human_duration(grant.expires_at - now),
        ended,
        ended_at: ended_at.map(rfc3339).unwrap_or_default(),
        activity,
    }
}

/// Renders the first page for a signed-in user, with an optional message (after an error).
pub async fn render(
    app: &App,
    session: &SessionRow,
    user: &UserRow,
    status: StatusCode,
    message: &str,
) -> Response {
    render_page(app, session, user, status, message, 1).await
}

/// Renders page `page` (from 1).
async fn render_page(
    app: &App,
    session: &SessionRow,
    user: &UserRow,
    status: StatusCode,
    message: &str,
    page: usize,
) -> Response {
    let (sub, now) = (user.sub.clone(), app.now());
    let data = match app.db.run(move |c| load(c, &sub, now, page)).await {
        Ok(d) => d,
        Err(e) => return unavailable(e),
    };
    let policy = &app.settings.policy;
    let pending: Vec<PendingView> = data
        .pending
        .iter()
        .map(|r| PendingView {
            id: r.id.clone(),
            agent: data.names.get(&r.agent_sub).cloned().unwrap_or_default(),
            reason: r.reason.clone(),
            ticket: r.ticket.clone(),
            duration_words: human_duration(r.duration),
            scopes: described(&policy.scope_descriptions, &r.scopes),
            durations: duration_options(policy.min_grant_seconds, r.duration),
        })
        .collect();
    let (active, ended): (Vec<GrantCard>, Vec<GrantCard>) = data
        .grants
        .iter()
        .map(|g| grant_card(&policy.scope_descriptions, g, &data, now))
        .partition(|card| card.status == "active");
    let support_clients: Vec<ClientOption> = data
        .clients
        .iter()
        .cloned()
        .map(Client::from)
        .filter(Client::can_exchange)
        .map(|c| ClientOption {
            id: c.client_id,
            name: c.name,
        })
        .collect();
    let mut context = Context::new();
    context.insert("username", &user.username);
    context.insert("csrf_token", &session.csrf_token);
    context.insert("message", message);
    context.insert("pending", &pending);
    context.insert("active", &active);
    context.insert("ended", &ended);
    context.insert("support_clients", &support_clients);
    context.insert("previous_page", &(page > 1).then(|| page - 1));
    context.insert(
        "next_page",
        &(data.more_pending || data.more_ended).then_some(page + 1),
    );
    context.insert(
        "give_durations",
        &duration_options(
            policy.min_grant_seconds,
            policy.max_grant_seconds.min(86_400),
        ),
    );
    pages::render(status, "account.html", &context)
}

fn unavailable(e: StoreError) -> Response {
    tracing::error!(error = %e, "storage failed");
    pages::unavailable()
}

pub async fn show(
    State(app): State<AppState>,
    Query(query): Query<PageQuery>,
    headers: HeaderMap,
) -> Response {
    match session::signed_in(&app.db, &headers, app.now()).await {
        Ok(Some((session, user))) => {
            let page = query.number();
            render_page(&app, &session, &user, StatusCode::OK, "", page).await
        }
        Ok(None) => pages::see_other("/login?return_to=/account"),
        Err(e) => unavailable(e),
    }
}
