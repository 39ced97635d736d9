//! Refuses, before any handler runs, a request whose path or query carries a
//! percent-encoded control character (`%00`–`%1F`, `%7F`): no path segment,
//! identifier or OAuth parameter may hold one, and none may reach a database
//! query or a log line (docs/security.md L7). Raw control bytes never get this
//! far: the HTTP parser refuses them.

use super::json;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::Response;

fn hex(digit: u8) -> Option<u8> {
    (digit as char).to_digit(16).map(|d| d as u8)
}

/// Whether `raw` (a path or query as sent) percent-encodes a control character.
pub fn encodes_control_character(raw: &str) -> bool {
    raw.as_bytes().windows(3).any(|w| {
        w[0] == b'%'
            && matches!((hex(w[1]), hex(w[2])), (Some(high), Some(low)) if (high << 4 | low).is_ascii_control())
    })
}

pub async fn refuse_control_characters(request: Request, next: Next) -> Response {
    let uri = request.uri();
    if encodes_control_character(uri.path()) || uri.query().is_some_and(encodes_control_character) {
        return json::error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "the request URI contains a control character",
        );
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::encodes_control_character;

    #[test]
    fn encoded_nul_cr_lf_and_del_are_found_and_ordinary_escapes_are_not() {
        for raw in ["/a%00", "/a%0d%0a", "x=%0A", "%7f", "/%1F"] {
            assert!(encodes_control_character(raw), "{raw}");
        }
        for raw in ["/a%20b", "x=%C3%A9", "%", "%0", "%zz", "/plain", "%80"] {
            assert!(!encodes_control_character(raw), "{raw}");
        }
    }
}
