//! Rendering pages: templates embedded in the binary (tera autoescapes `.html`),
//! and the headers every HTML response carries: a CSP whose only script is the
//! same-origin `/static/behalf.js` (never inline), which may fetch only from
//! this origin (`connect-src 'self'`: the console's state), with
//! `frame-ancestors 'none'`, `X-Frame-Options: DENY`, `no-store`, and no referrer.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::sync::OnceLock;
use tera::{Context, Tera};

const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
     connect-src 'self'; frame-ancestors 'none'; base-uri 'none'";

fn templates() -> &'static Tera {
    static TERA: OnceLock<Tera> = OnceLock::new();
    TERA.get_or_init(|| {
        let mut tera = Tera::new();
        tera.add_raw_templates([
            ("base.html", include_str!("../../templates/base.html")),
            ("login.html", include_str!("../../templates/login.html")),
            ("act_as.html", include_str!("../../templates/act_as.html")),
            ("consent.html", include_str!("../../templates/consent.html")),
            ("error.html", include_str!("../../templates/error.html")),
            (
                "upstream_error.html",
                include_str!("../../templates/upstream_error.html"),
            ),
            ("account.html", include_str!("../../templates/account.html")),
            ("console.html", include_str!("../../templates/console.html")),
            (
                "console_lists.html",
                include_str!("../../templates/console_lists.html"),
            ),
            (
                "activity.html",
                include_str!("../../templates/activity.html"),
            ),
            (
                "grant_activity.html",
                include_str!("../../templates/grant_activity.html"),
            ),
            ("pager.html", include_str!("../../templates/pager.html")),
            ("facts.html", include_str!("../../templates/facts.html")),
        ])
        .expect("templates parse");
        tera
    })
}

/// Adds the headers every HTML response carries.
pub fn secure(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

pub fn render(status: StatusCode, template: &str, context: &Context) -> Response {
    match templates().render(template, context) {
        Ok(html) => secure(
            (
                status,
                [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                html,
            )
                .into_response(),
        ),
        Err(e) => {
            tracing::error!(error = %e, template, "template failed");
            secure((StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response())
        }
    }
}

/// The page an error page leads back to.
#[derive(Debug, Clone, Copy)]
pub struct WayBack {
    pub href: &'static str,
    /// The link's words: "Back to your account".
    pub words: &'static str,
    /// The page as a sentence names it: "your account".
    pub place: &'static str,
}

/// `/account`, where most error pages lead.
pub const ACCOUNT: WayBack = WayBack {
    href: "/account",
    words: "Back to your account",
    place: "your account",
};

/// `/login`, where sign-in's error pages lead.
pub const SIGN_IN: WayBack = WayBack {
    href: "/login",
    words: "Back to sign-in",
    place: "sign-in",
};

/// `/console`, where the support console's error pages lead.
pub const CONSOLE: WayBack = WayBack {
    href: "/console",
    words: "Back to the support console",
    place: "the support console",
};

/// An error page: never a redirect (docs/security.md A2).
pub fn error(status: StatusCode, title: &str, message: &str) -> Response {
    error_with_way_back(status, title, message, ACCOUNT)
}

/// An error page with a link to `back`.
pub fn error_with_way_back(
    status: StatusCode,
    title: &str,
    message: &str,
    back: WayBack,
) -> Response {
    let mut context = Context::new();
    context.insert("title", title);
    context.insert("message", message);
    context.insert("back", back.href);
    context.insert("back_words", back.words);
    render(status, "error.html", &context)
}

/// 503 when the database cannot answer (the caller logs the cause).
pub fn unavailable() -> Response {
    error(
        StatusCode::SERVICE_UNAVAILABLE,
        "Temporarily unavailable",
        "The server cannot reach its database. Please try again shortly.",
    )
}

/// 303 See Other (after a POST, docs/security.md A5), with the security headers.
pub fn see_other(location: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    secure(response)
}

/// A file of `static/`, cached for an hour, never sniffed as another type.
fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=3600"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        body,
    )
        .into_response()
}

pub async fn stylesheet() -> Response {
    asset(
        "text/css; charset=utf-8",
        include_str!("../../static/behalf.css"),
    )
}

/// Local times and live countdowns; every page works without it.
pub async fn script() -> Response {
    asset(
        "text/javascript; charset=utf-8",
        include_str!("../../static/behalf.js"),
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_template_parses() {
        // A syntax error would otherwise surface only as a 500 on the page that uses it.
        assert!(super::templates().get_template_names().count() >= 10);
    }
}
