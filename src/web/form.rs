//! The strict form extractor of the OAuth endpoints, and the declaration of
//! the parameters each accepts (RFC 6749 §3.1, §3.2):
//! `application/x-www-form-urlencoded` only, parameters without a value are
//! treated as omitted, and a parameter sent twice is `invalid_request` (only
//! `resource`, `audience` and `scope`-like lists declared repeatable may repeat).
//! Every failure is an OAuth JSON error, never axum's plain-text rejection. A
//! control character in any name or value is refused (`control_character`):
//! no OAuth parameter may hold one (RFC 6749 Appendix A), and none reaches a
//! query or a log (docs/security.md L7).

use crate::error::OAuthError;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::header::CONTENT_TYPE;

/// The parameters an endpoint or a grant accepts, declared as data: `single`
/// ones may appear once, `repeatable` ones (RFC 8707 `resource`, RFC 8693
/// `audience`) any number of times.
pub struct Parameters {
    pub single: &'static [&'static str],
    pub repeatable: &'static [&'static str],
}

#[derive(Debug, Default)]
pub struct OAuthForm {
    pairs: Vec<(String, String)>,
}

impl OAuthForm {
    pub fn parse(body: &[u8]) -> Self {
        let pairs = form_urlencoded::parse(body)
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        Self { pairs }
    }

    /// The first parameter whose name or value holds a control character.
    pub fn control_character(&self) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, v)| has_control_character(k) || has_control_character(v))
            .map(|(k, _)| k.as_str())
    }

    /// A parameter that may appear at most once.
    pub fn single(&self, name: &str) -> Result<Option<&str>, OAuthError> {
        let mut values = self.pairs.iter().filter(|(k, _)| k == name);
        let first = values.next().map(|(_, v)| v.as_str());
        if values.next().is_some() {
            return Err(OAuthError::invalid_request(format!(
                "parameter {name} is given more than once"
            )));
        }
        Ok(first)
    }

    pub fn required(&self, name: &str) -> Result<&str, OAuthError> {
        self.single(name)?
            .ok_or_else(|| OAuthError::invalid_request(format!("parameter {name} is missing")))
    }

    /// Refuses a parameter that the declarations allow once but that was sent
    /// more than once. Parameters nobody declares are ignored (RFC 6749 §3.2:
    /// "The authorization server MUST ignore unrecognized request parameters").
    pub fn check(&self, declared: &[&Parameters]) -> Result<(), OAuthError> {
        for name in declared.iter().flat_map(|d| d.single.iter()) {
            self.single(name)?;
        }
        Ok(())
    }

    /// A repeatable parameter (RFC 8707 `resource`, RFC 8693 `audience`).
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.pairs
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The words of every value of `name`: a checkbox a value, or one value
    /// listing several separated by spaces (as `scope` does).
    pub fn words(&self, name: &str) -> Vec<String> {
        self.all(name)
            .iter()
            .flat_map(|v| v.split(' '))
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    }
}

impl<S: Send + Sync> FromRequest<S> for OAuthForm {
    type Rejection = OAuthError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_form = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|essence| {
                essence
                    .trim()
                    .eq_ignore_ascii_case("application/x-www-form-urlencoded")
            });
        if !is_form {
            return Err(OAuthError::invalid_request(
                "the body must be application/x-www-form-urlencoded",
            ));
        }
        let body = Bytes::from_request(req, state)
            .await
            .map_err(|_| OAuthError::invalid_request("the request body could not be read"))?;
        let form = Self::parse(&body);
        if let Some(name) = form.control_character() {
            return Err(OAuthError::invalid_request(format!(
                "parameter {name} contains a control character"
            )));
        }
        Ok(form)
    }
}

/// C0 controls (NUL, CR, LF, ...) and DEL.
pub fn has_control_character(text: &str) -> bool {
    text.chars().any(|c| c.is_ascii_control())
}

#[cfg(test)]
mod tests {
    use super::OAuthForm;

    #[test]
    fn a_control_character_in_a_name_or_a_value_is_found() {
        assert_eq!(
            OAuthForm::parse(b"a=1&b=x%00y").control_character(),
            Some("b")
        );
        assert_eq!(
            OAuthForm::parse(b"a%0D%0A=1").control_character(),
            Some("a\r\n")
        );
        assert_eq!(
            OAuthForm::parse(b"a=x%20y&b=%C3%A9").control_character(),
            None
        );
    }

    #[test]
    fn duplicated_parameters_are_invalid_requests_and_empty_ones_absent() {
        let form = OAuthForm::parse(b"a=1&a=2&b=&c=x%20y&r=1&r=2");
        assert!(form.single("a").is_err());
        assert_eq!(form.single("b").unwrap(), None);
        assert_eq!(form.single("c").unwrap(), Some("x y"));
        assert_eq!(form.all("r"), vec!["1", "2"]);
        assert!(form.required("missing").is_err());
    }

    #[test]
    fn a_declared_single_parameter_sent_twice_is_refused_and_an_undeclared_one_ignored() {
        use super::Parameters;
        const GRANT: Parameters = Parameters {
            single: &["code"],
            repeatable: &["resource"],
        };
        assert!(OAuthForm::parse(b"code=1&code=2").check(&[&GRANT]).is_err());
        assert!(
            OAuthForm::parse(b"code=1&resource=a&resource=b&x=1&x=2")
                .check(&[&GRANT])
                .is_ok()
        );
    }
}
