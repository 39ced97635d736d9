//! The one place that wires paths to handlers (docs/contract.md lists them),
//! and the middleware every request passes: request ids, tracing without
//! secrets, one info line per request (`web::request_log`), body limit (its 413 as JSON), timeout, panic catching, metrics,
//! and `no-store` on every path where a token or an agent's request can appear.

use crate::accounts::{sign_in, upstream_sign_in};
use crate::app::AppState;
use crate::delegation::consent_screen::{activity_page, allow_support, forms, home, page};
use crate::delegation::console;
use crate::delegation::{api, api_lists, backchannel_authentication};
use crate::oauth::authorize::{act_as, app_consent, endpoint};
use crate::oauth::{
    audit_checkpoint, discovery, introspection, jwks, revocation, ssf_configuration,
    token_endpoint, userinfo,
};
use crate::openapi;
use crate::ops::{health, metrics};
use crate::web::{no_store, not_found, pages, request_log, too_large, uri_guard};
use axum::Router;
use axum::http::{HeaderName, Request, header};
use axum::routing::{get, post};
use std::time::Duration;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::sensitive_headers::SetSensitiveRequestHeadersLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
/// OAuth requests are small; nothing legitimate comes near this.
const BODY_LIMIT: usize = 64 * 1024;

/// Every path; `/metrics` among them unless `metrics_listen` serves it apart
/// (`metrics_router`).
pub fn router(state: AppState, with_metrics: bool) -> Router {
    let middleware = ServiceBuilder::new()
        .layer(SetSensitiveRequestHeadersLayer::new([
            header::AUTHORIZATION,
            header::COOKIE,
            header::PROXY_AUTHORIZATION,
        ]))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .layer(
            // Only the method, path and request id are logged: never the query
            // string, headers or body, which may carry secrets.
            TraceLayer::new_for_http()
                .make_span_with(|req: &Request<_>| {
                    let request_id = req
                        .headers()
                        .get(REQUEST_ID)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("-");
                    tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id)
                })
                // The layer's own line per request at debug; server errors are
                // logged at error by its failure hook. The info line per request
                // is `request_log`'s (route template, status, ms, request id).
                .on_response(DefaultOnResponse::new().level(Level::DEBUG)),
        )
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(axum::middleware::from_fn(|request, next| {
            request_log::log(REQUEST_ID, request, next)
        }))
        .layer(CatchPanicLayer::new())
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(30),
        ))
        .layer(axum::middleware::from_fn(uri_guard::refuse_control_characters))
        .layer(axum::middleware::from_fn(too_large::json_413))
        .layer(RequestBodyLimitLayer::new(BODY_LIMIT));

    // Where tokens, introspection answers and agents' requests and grants travel.
    let never_cached = Router::new()
        .route("/token", post(token_endpoint::token))
        .route("/introspect", post(introspection::introspect))
        .route("/bc-authorize", post(backchannel_authentication::authorize))
        .route("/revoke", post(revocation::revoke))
        .route(
            "/userinfo",
            get(userinfo::userinfo).post(userinfo::userinfo),
        )
        .route(
            "/api/access-requests",
            get(api_lists::list_requests).post(api::create_request),
        )
        .route(
            "/api/access-requests/{id}",
            get(api::get_request).delete(api::cancel_request),
        )
        .route("/api/grants", get(api_lists::list_grants))
        .route(
            "/api/grants/{id}",
            get(api_lists::get_grant).delete(api::end_grant),
        )
        .route("/console/state", get(console::state::show))
        .route("/audit/checkpoint", get(audit_checkpoint::latest))
        .route_layer(axum::middleware::from_fn(no_store::no_store));

    let mut routes = Router::new()
        .route(
            "/.well-known/openid-configuration",
            get(discovery::openid_configuration),
        )
        .route(
            "/.well-known/oauth-authorization-server",
            get(discovery::authorization_server),
        )
        .route(
            "/.well-known/ssf-configuration",
            get(ssf_configuration::ssf_configuration),
        )
        .route("/jwks.json", get(jwks::jwks))
        .route("/authorize", get(endpoint::get).post(endpoint::post))
        .route("/authorize/consent", post(app_consent::decision))
        .route("/authorize/act", post(act_as::decision))
        .route("/", get(home::show))
        .route("/login", get(sign_in::show).post(sign_in::submit))
        .route("/login/upstream/{id}", get(upstream_sign_in::start))
        .route(
            "/login/upstream/{id}/callback",
            get(upstream_sign_in::callback),
        )
        .route("/logout", post(sign_in::logout))
        .route("/account", get(page::show))
        .route("/account/requests/{id}/approve", post(forms::approve))
        .route("/account/requests/{id}/deny", post(forms::deny))
        .route("/account/grants", post(allow_support::create))
        .route("/account/grants/{id}/revoke", post(forms::revoke))
        .route("/account/grants/{id}/activity", get(activity_page::show))
        .route(
            "/account/apps/{client_id}/withdraw",
            post(forms::withdraw_app),
        )
        .route("/console", get(console::page::show))
        .route("/console/requests", post(console::ask::create))
        .route(
            "/console/requests/{id}/cancel",
            post(console::forms::cancel),
        )
        .route("/console/grants/{id}/end", post(console::forms::end))
        .route("/static/behalf.css", get(pages::stylesheet))
        .route("/static/behalf.js", get(pages::script))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/openapi.json", openapi::route(&state.issuer))
        .merge(never_cached);
    if with_metrics {
        routes = routes.route("/metrics", get(metrics::render));
    }
    routes
        .fallback(not_found::not_found)
        .route_layer(axum::middleware::from_fn(request_log::mark_route))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .layer(middleware)
        .with_state(state)
}

/// `/metrics` alone, for the listener `metrics_listen` names.
pub fn metrics_router(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(metrics::render))
        .with_state(state)
}
