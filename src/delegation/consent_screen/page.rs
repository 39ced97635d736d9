//! `GET /account`: the consent screen (docs/contract.md "Consent screen"). Pending requests
//! with approve (shorter, fewer scopes) and deny; active grants with the time
//! left and "End access now"; ended grants and unanswered requests and why; the
//! newest lines of each grant's activity (`activity`; all of it on
//! `activity_page`); the apps the user allowed,
//! each with "Withdraw"; the notice after an action
//! (`notice`); and a form to give access on the user's own initiative. The
//! cards are drawn in `cards`. Read-only: it changes nothing.
//! Paged (`?page=N`): at most `PAGE` pending requests and `PAGE` ended grants
//! a page, with previous/next links (docs/security.md L5: no agent can make
//! the page grow without bound).

use super::activity::Slice;
use super::allow_form::{self, Choices, MAX_AGENTS_LISTED, Sent};
use super::cards::{self, GrantCard, Known, PendingCard, UnansweredCard};
use super::labels::whose;
use super::mail_note;
use super::notice::{self, About, Done};
use super::times;
use crate::app::{App, AppState};
use crate::store::access_requests::AccessRequestRow;
use crate::store::app_consents::AppConsentRow;
use crate::store::clients::ClientRow;
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

/// Pending requests, ended grants and unanswered requests, shown on one page.
pub const PAGE: usize = 20;

/// `?page=N` (from 1; anything else is the first page), and after an action
/// `done=<outcome>` with `request=<id>` or `grant=<id>` (`notice`).
#[derive(Deserialize, Default)]
pub struct PageQuery {
    page: Option<String>,
    done: Option<String>,
    request: Option<String>,
    grant: Option<String>,
    app: Option<String>,
}

impl PageQuery {
    fn number(&self) -> usize {
        self.page
            .as_deref()
            .and_then(|p| p.parse::<usize>().ok())
            .filter(|p| (1..=100_000).contains(p))
            .unwrap_or(1)
    }

    /// The outcome to report, and the id of the request or grant it is about.
    fn done(&self) -> Option<(Done, Option<String>)> {
        let done = Done::parse(self.done.as_deref()?)?;
        let id = match done.key() {
            "request" => self.request.clone(),
            "grant" => self.grant.clone(),
            _ => self.app.clone(),
        };
        Some((done, id))
    }
}

/// One remembered app consent, as the "Apps you allowed" section shows it.
#[derive(Serialize)]
struct AppCard {
    client_id: String,
    name: String,
    scopes: Vec<cards::ScopeView>,
    since: times::TimeView,
}

/// The row a notice is about, when it is the user's own (an app: its registered name).
enum Subject {
    Request(AccessRequestRow),
    Grant(GrantRow),
    App(String),
}

struct AccountData {
    pending: Vec<AccessRequestRow>,
    unanswered: Vec<AccessRequestRow>,
    /// Whether a later page has more pending requests, ended grants or unanswered requests.
    more: bool,
    grants: Vec<GrantRow>,
    /// Each grant's newest activity, by grant id.
    events: HashMap<String, Slice>,
    names: HashMap<String, String>,
    teams: HashMap<String, String>,
    clients: Vec<ClientRow>,
    agents: Vec<UserRow>,
    consents: Vec<AppConsentRow>,
    subject: Option<Subject>,
}

/// At most `PAGE` rows of a page fetched `PAGE + 1` at a time; whether there were more.
fn page_of<T>(mut rows: Vec<T>) -> (Vec<T>, bool) {
    let more = rows.len() > PAGE;
    rows.truncate(PAGE);
    (rows, more)
}

/// The user's own request or grant `id` (anything else is `None`: nothing leaks).
fn own_subject(
    conn: &mut AnyConnection,
    sub: &str,
    about: Option<(Done, Option<String>)>,
) -> Result<Option<Subject>, StoreError> {
    let Some((done, Some(id))) = about else {
        return Ok(None);
    };
    Ok(match done.key() {
        "request" => AccessRequestRow::find(conn, &id)?
            .filter(|r| r.subject_sub == sub)
            .map(Subject::Request),
        "grant" => GrantRow::find(conn, &id)?
            .filter(|g| g.subject_sub == sub)
            .map(Subject::Grant),
        _ => ClientRow::find(conn, &id)?.map(|c| Subject::App(c.name)),
    })
}

fn load(
    conn: &mut AnyConnection,
    sub: &str,
    now: i64,
    page: usize,
    about: Option<(Done, Option<String>)>,
) -> Result<AccountData, StoreError> {
    let offset = ((page - 1) * PAGE) as i64;
    let limit = PAGE as i64 + 1;
    let (pending, more_pending) = page_of(AccessRequestRow::pending_page_for_subject(
        conn, sub, now, offset, limit,
    )?);
    let (unanswered, more_unanswered) = page_of(AccessRequestRow::unanswered_page_for_subject(
        conn, sub, now, offset, limit,
    )?);
    // Active grants all; ended ones only this page's (newest first).
    let active = GrantRow::active_for_subject(conn, sub, now)?;
    let (ended, more_ended) = page_of(GrantRow::ended_page_for_subject(
        conn, sub, now, offset, limit,
    )?);
    let grants: Vec<GrantRow> = active.into_iter().chain(ended).collect();
    // Each grant's newest lines, a bounded query each (the rest: its activity page).
    let mut events = HashMap::new();
    for grant in &grants {
        events.insert(grant.id.clone(), Slice::load(conn, &grant.id, 1)?);
    }
    let subject = own_subject(conn, sub, about)?;
    let subject_agent = match &subject {
        Some(Subject::Request(r)) => Some(r.agent_sub.clone()),
        Some(Subject::Grant(g)) => g.agent_sub.clone(),
        Some(Subject::App(_)) | None => None,
    };
    let mut subs: Vec<String> = pending
        .iter()
        .chain(unanswered.iter())
        .map(|r| r.agent_sub.clone())
        .chain(grants.iter().filter_map(|g| g.agent_sub.clone()))
        .chain(subject_agent)
        .chain(events.values().flat_map(Slice::people))
        .chain(std::iter::once(sub.to_string()))
        .collect();
    subs.sort();
    subs.dedup();
    let clients = ClientRow::all(conn)?;
    let users = UserRow::find_by_subs(conn, &subs)?;
    let (names, teams) = cards::names_and_teams(users, &clients);
    Ok(AccountData {
        pending,
        unanswered,
        more: more_pending || more_ended || more_unanswered,
        grants,
        events,
        names,
        teams,
        clients,
        agents: UserRow::enabled_agents(conn, MAX_AGENTS_LISTED)?,
        consents: AppConsentRow::for_user(conn, sub)?,
        subject,
    })
}

/// The notice's sentence for what was done, from the user's own row when there is one.
fn notice_text(done: Done, subject: Option<&Subject>, names: &HashMap<String, String>) -> String {
    let name = |sub: &str| names.get(sub).cloned().unwrap_or_default();
    let about = match subject {
        Some(Subject::Request(r)) => {
            let agent = name(&r.agent_sub);
            let asked_at = times::at(r.created_at).utc;
            Some(About {
                label: whose(&agent, "request", &r.ticket, &asked_at),
                agent,
                seconds: r.duration,
            })
        }
        Some(Subject::Grant(g)) => {
            let agent = match (&g.agent_sub, &g.team) {
                (Some(sub), _) => name(sub),
                (None, Some(team)) => format!("the {team} team"),
                (None, None) => String::new(),
            };
            let given_at = times::at(g.created_at).utc;
            Some(About {
                label: whose(&agent, "access", &g.ticket, &given_at),
                agent,
                seconds: g.expires_at - g.created_at,
            })
        }
        Some(Subject::App(name)) => Some(About {
            label: String::new(),
            agent: name.clone(),
            seconds: 0,
        }),
        None => None,
    };
    notice::sentence(done, about.as_ref())
}

/// Renders the first page for a signed-in user, with an optional message (after an error).
pub async fn render(
    app: &App,
    session: &SessionRow,
    user: &UserRow,
    status: StatusCode,
    message: &str,
) -> Response {
    let shown = Shown {
        message: message.to_string(),
        ..Shown::default()
    };
    render_page(app, session, user, status, shown).await
}

/// Renders the first page with the "Allow support access" form as sent and its error (400).
pub async fn render_allow_form(
    app: &App,
    session: &SessionRow,
    user: &UserRow,
    sent: Sent,
) -> Response {
    let shown = Shown {
        allow: sent,
        ..Shown::default()
    };
    render_page(app, session, user, StatusCode::BAD_REQUEST, shown).await
}

/// What a rendering shows beside the user's rows.
#[derive(Default)]
struct Shown {
    /// An error about the whole page (after a refused action).
    message: String,
    /// From 1; 0 means 1.
    page: usize,
    done: Option<(Done, Option<String>)>,
    /// The "Allow support access" form's values and error (empty: a fresh form).
    allow: Sent,
}

/// Renders page `shown.page`, with the notice of `shown.done` when there is one.
async fn render_page(
    app: &App,
    session: &SessionRow,
    user: &UserRow,
    status: StatusCode,
    shown: Shown,
) -> Response {
    let (page, done) = (shown.page.max(1), shown.done.clone());
    let (sub, now, about) = (user.sub.clone(), app.now(), done.clone());
    let data = match app.db.run(move |c| load(c, &sub, now, page, about)).await {
        Ok(d) => d,
        Err(e) => return unavailable(e),
    };
    let policy = &app.settings.policy;
    let known = Known {
        words: &policy.scope_descriptions,
        names: &data.names,
        teams: &data.teams,
        now,
    };
    let mut pending: Vec<PendingCard> = data
        .pending
        .iter()
        .map(|r| cards::pending(&known, r, &app.default_audience, policy.min_grant_seconds))
        .collect();
    let mut unanswered: Vec<UnansweredCard> = data
        .unanswered
        .iter()
        .map(|r| cards::unanswered(&known, r))
        .collect();
    let mut grant_cards: Vec<GrantCard> = data
        .grants
        .iter()
        .map(|g| cards::grant(&known, g, data.events.get(&g.id)))
        .collect();
    cards::make_labels_distinct(&mut pending, &mut grant_cards, &mut unanswered);
    let (active, ended): (Vec<GrantCard>, Vec<GrantCard>) = grant_cards
        .into_iter()
        .partition(|card| card.status == "active");
    let apps: Vec<AppCard> = data
        .consents
        .iter()
        .filter(|c| !c.scope_list().is_empty())
        .map(|c| AppCard {
            client_id: c.client_id.clone(),
            name: known.name(&c.client_id),
            scopes: known.scopes(&c.scopes),
            since: times::at(c.granted_at),
        })
        .collect();
    let notice = done
        .map(|(done, _)| notice_text(done, data.subject.as_ref(), &data.names))
        .unwrap_or_default();
    let mut context = Context::new();
    context.insert("username", &user.username);
    context.insert("is_agent", &user.is_agent);
    context.insert("csrf_token", &session.csrf_token);
    context.insert("message", &shown.message);
    context.insert("notice", &notice);
    let mail = mail_note::sentence(app.settings.email.smtp_url.is_some(), user.email.as_deref());
    context.insert("mail_note", &mail);
    context.insert("pending", &pending);
    context.insert("active", &active);
    context.insert("ended", &ended);
    context.insert("unanswered", &unanswered);
    // Programs ask for themselves (CIBA): they are neither a person to choose
    // nor a support tool a person acts through.
    let programs: Vec<&str> = data
        .clients
        .iter()
        .filter(|c| c.program_agent)
        .map(|c| c.client_id.as_str())
        .collect();
    let agents = data
        .agents
        .iter()
        .filter(|a| !programs.contains(&a.sub.as_str()))
        .cloned()
        .collect();
    let choices = Choices {
        agents,
        clients: data.clients.clone(),
    };
    let allow = allow_form::view(
        &choices,
        &shown.allow,
        policy,
        &user.sub,
        &policy.scope_descriptions,
    );
    context.insert("allow", &allow);
    context.insert("apps", &apps);
    context.insert("previous_page", &(page > 1).then(|| page - 1));
    context.insert("next_page", &data.more.then_some(page + 1));
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
            let shown = Shown {
                page: query.number(),
                done: query.done(),
                ..Shown::default()
            };
            render_page(&app, &session, &user, StatusCode::OK, shown).await
        }
        Ok(None) => pages::see_other("/login?return_to=/account"),
        Err(e) => unavailable(e),
    }
}
