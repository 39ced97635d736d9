//! The shop's pages: plain HTML, every text escaped.

use crate::User;
use axum::http::StatusCode;
use axum::http::header::CACHE_CONTROL;
use axum::response::{Html, IntoResponse, Response};
use std::time::SystemTime;

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:0;color:#1f2328;background:#fff}\
header{background:#14532d;color:#fff;padding:.75rem 1.25rem;font-weight:600}\
main{max-width:40rem;margin:0 auto;padding:1.25rem}\
.acting{background:#fff4ce;border:2px solid #9a6700;border-radius:.4rem;padding:.75rem 1rem;margin:0 0 1rem;color:#3d2a00}\
.notice{background:#ddf4ff;border-radius:.4rem;padding:.75rem 1rem}\
a.button,button{display:inline-block;font:inherit;background:#14532d;color:#fff;border:0;border-radius:.4rem;padding:.5rem 1rem;text-decoration:none;cursor:pointer}\
li{margin:.25rem 0}";

fn layout(status: StatusCode, title: &str, content: &str) -> Response {
    let html = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>{} · Example Shop</title><style>{STYLE}</style></head>\n\
<body><header>Example Shop</header><main>\n{content}\n</main></body></html>\n",
        escape(title)
    );
    (status, [(CACHE_CONTROL, "no-store")], Html(html)).into_response()
}

/// "42 minutes left", from now until `until`.
fn time_left(until: SystemTime) -> String {
    let seconds = until
        .duration_since(SystemTime::now())
        .map_or(0, |d| d.as_secs());
    let (hours, minutes) = (seconds / 3600, seconds % 3600 / 60);
    let plural = |n: u64, unit: &str| format!("{n} {unit}{}", if n == 1 { "" } else { "s" });
    match (hours, minutes) {
        (0, 0) => "less than a minute left".into(),
        (0, m) => format!("{} left", plural(m, "minute")),
        (h, 0) => format!("{} left", plural(h, "hour")),
        (h, m) => format!("{} {} left", plural(h, "hour"), plural(m, "minute")),
    }
}

pub fn home(user: Option<&User>, notice: Option<&str>) -> Response {
    let Some(user) = user else {
        let notice = notice.map_or(String::new(), |n| {
            format!("<p class=\"notice\" role=\"status\">{}</p>\n", escape(n))
        });
        return layout(
            StatusCode::OK,
            "Welcome",
            &format!(
                "{notice}<h1>Welcome to Example Shop</h1>\n\
<p>Sign in to see your orders.</p>\n<p><a class=\"button\" href=\"/login\">Sign in</a></p>"
            ),
        );
    };
    let name = escape(&user.username);
    // behalf names the agent by `act.sub` only: no username of theirs reaches the app.
    let banner = user.agent.as_ref().map_or(String::new(), |agent| {
        format!(
            "<p class=\"acting\" role=\"note\" data-acting><strong>{} (support) is acting as {name}</strong> — {}</p>\n",
            escape(agent),
            time_left(user.expires_at)
        )
    });
    layout(
        StatusCode::OK,
        &format!("Hello {}", user.username),
        &format!(
            "{banner}<h1>Hello {name}</h1>\n<h2>Your orders</h2>\n<ul>\n\
<li>Order 1234: a blue teapot, not shipped yet</li>\n<li>Order 1187: two mugs, delivered</li>\n</ul>\n\
<form method=\"post\" action=\"/logout\"><button type=\"submit\">Sign out</button></form>"
        ),
    )
}

pub fn problem(status: StatusCode, message: &str) -> Response {
    layout(
        status,
        "Sign-in problem",
        &format!(
            "<h1>Sign-in problem</h1>\n<p>{}</p>\n<p><a href=\"/\">Back to the shop</a></p>",
            escape(message)
        ),
    )
}
