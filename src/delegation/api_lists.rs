//! The agent API's reads of many (docs/contract.md "Access requests API",
//! "Lists"): `GET /api/access-requests` and `GET /api/grants`, a page at a
//! time (`status`, `limit`, `after`), and `GET /api/grants/{id}`. The query is
//! read here; what it means is `paging` and each list's `decide_filter`.

use super::api::{agent, respond};
use super::grants::{self, GrantView};
use super::paging::Page;
use super::paging::PageAsk;
use super::refusal::Refusal;
use super::requests::{self, RequestView};
use crate::app::AppState;
use crate::web::json::ErrorBody;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

/// The query parameters a list reads; others are ignored, a repeated one is refused.
#[derive(Debug, Default, PartialEq, Eq)]
struct ListQuery {
    status: Option<String>,
    limit: Option<String>,
    after: Option<String>,
}

impl ListQuery {
    fn parse(query: Option<&str>) -> Result<Self, Refusal> {
        let mut parsed = Self::default();
        for (name, value) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
            let slot = match name.as_ref() {
                "status" => &mut parsed.status,
                "limit" => &mut parsed.limit,
                "after" => &mut parsed.after,
                _ => continue,
            };
            if slot.replace(value.into_owned()).is_some() {
                return Err(Refusal::invalid(format!("{name} is given more than once")));
            }
        }
        Ok(parsed)
    }

    fn page(&self) -> Result<PageAsk, Refusal> {
        PageAsk::parse(self.limit.as_deref(), self.after.as_deref())
    }
}

/// `GET /api/access-requests`: the caller's own requests.
#[utoipa::path(
    get,
    path = "/api/access-requests",
    tag = "agent",
    operation_id = "listAccessRequests",
    security(("agent_token" = [])),
    params(
        ("status" = Option<requests::RequestStatus>, Query, description = "Only requests with this status now"),
        ("limit" = Option<i64>, Query, minimum = 1, maximum = 100, description = "Items a page, 50 unless given"),
        ("after" = Option<String>, Query, description = "The `next` cursor of the page before"),
    ),
    responses(
        (status = 200, description = "A page of the agent's requests, newest first", body = Page<RequestView>),
        (status = 400, description = "`invalid_request`: a bad `status`, `limit` or `after`, or one given twice", body = ErrorBody),
        (status = 401, description = "`invalid_token`", body = ErrorBody),
        (status = 403, description = "`insufficient_scope`", body = ErrorBody),
        (status = 503, description = "`temporarily_unavailable`", body = ErrorBody),
    )
)]
pub async fn list_requests(
    State(app): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let agent = match agent(&app, &headers).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let listed = async {
        let query = ListQuery::parse(query.as_deref())?;
        let filter = requests::decide_filter(query.status.as_deref())?;
        requests::list(&app.db, &agent.user.sub, filter, query.page()?, app.now()).await
    };
    respond(StatusCode::OK, listed.await)
}

/// `GET /api/grants`: the grants the caller may use.
#[utoipa::path(
    get,
    path = "/api/grants",
    tag = "agent",
    operation_id = "listGrants",
    security(("agent_token" = [])),
    params(
        ("status" = Option<GrantFilterName>, Query, description = "`active`, or `ended` (revoked or expired)"),
        ("limit" = Option<i64>, Query, minimum = 1, maximum = 100, description = "Items a page, 50 unless given"),
        ("after" = Option<String>, Query, description = "The `next` cursor of the page before"),
    ),
    responses(
        (status = 200, description = "A page of the grants the agent may use (named, or through its team), newest first", body = Page<GrantView>),
        (status = 400, description = "`invalid_request`: a bad `status`, `limit` or `after`, or one given twice", body = ErrorBody),
        (status = 401, description = "`invalid_token`", body = ErrorBody),
        (status = 403, description = "`insufficient_scope`", body = ErrorBody),
        (status = 503, description = "`temporarily_unavailable`", body = ErrorBody),
    )
)]
pub async fn list_grants(
    State(app): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let agent = match agent(&app, &headers).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let listed = async {
        let query = ListQuery::parse(query.as_deref())?;
        let filter = grants::decide_filter(query.status.as_deref())?;
        grants::list(&app.db, &agent.user, filter, query.page()?, app.now()).await
    };
    respond(StatusCode::OK, listed.await)
}

/// `GET /api/grants/{id}`: a grant the caller may use, else 404.
#[utoipa::path(
    get,
    path = "/api/grants/{id}",
    tag = "agent",
    operation_id = "getGrant",
    security(("agent_token" = [])),
    params(("id" = String, Path, description = "The grant's id")),
    responses(
        (status = 200, description = "The grant as it stands now", body = GrantView),
        (status = 401, description = "`invalid_token`", body = ErrorBody),
        (status = 403, description = "`insufficient_scope`", body = ErrorBody),
        (status = 404, description = "`not_found`: unknown, or not one this agent may use", body = ErrorBody),
        (status = 503, description = "`temporarily_unavailable`", body = ErrorBody),
    )
)]
pub async fn get_grant(
    State(app): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    match agent(&app, &headers).await {
        Ok(a) => respond(
            StatusCode::OK,
            grants::get(&app.db, &a.user, &id, app.now()).await,
        ),
        Err(r) => r,
    }
}

/// The `status` of `GET /api/grants`, as `grants::decide_filter` reads it (schema only).
#[derive(utoipa::ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)]
pub enum GrantFilterName {
    Active,
    Ended,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_query_keeps_its_three_parameters_ignores_others_and_refuses_repeats() {
        let query = ListQuery::parse(Some("status=pending&limit=5&after=abc&x=1")).unwrap();
        assert_eq!(query.status.as_deref(), Some("pending"));
        assert_eq!(query.limit.as_deref(), Some("5"));
        assert_eq!(query.after.as_deref(), Some("abc"));
        assert_eq!(ListQuery::parse(None), Ok(ListQuery::default()));
        assert!(ListQuery::parse(Some("limit=5&limit=6")).is_err());
    }
}
