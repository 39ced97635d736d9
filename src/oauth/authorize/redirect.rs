//! Answers that go back to the client's redirect URI, the code or an error,
//! always with `state` and `iss` (RFC 6749 §4.1.2.1, RFC 9207), as a 303.

use crate::web::pages;
use axum::response::{IntoResponse, Response};

#[derive(Debug)]
pub struct Redirect(pub String);

impl Redirect {
    pub fn to(redirect_uri: &str, params: &[(&str, &str)]) -> Self {
        let mut query = form_urlencoded::Serializer::new(String::new());
        for (name, value) in params {
            query.append_pair(name, value);
        }
        let separator = if redirect_uri.contains('?') { '&' } else { '?' };
        Self(format!("{redirect_uri}{separator}{}", query.finish()))
    }

    pub fn error(
        issuer: &str,
        redirect_uri: &str,
        state: Option<&str>,
        error: &str,
        description: &str,
    ) -> Self {
        let mut params = vec![("error", error), ("error_description", description)];
        if let Some(state) = state {
            params.push(("state", state));
        }
        params.push(("iss", issuer));
        Self::to(redirect_uri, &params)
    }
}

impl IntoResponse for Redirect {
    fn into_response(self) -> Response {
        pages::see_other(&self.0)
    }
}
