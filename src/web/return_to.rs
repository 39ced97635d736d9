//! Where to go after signing in: only same-origin relative paths, so the login
//! page can never be used as an open redirector (docs/security.md J5).

pub const DEFAULT: &str = "/account";

/// `Some(path)` if `value` is a path on this server: it starts with one `/`,
/// and holds no backslash, control character or scheme-relative `//`.
pub fn validate(value: &str) -> Option<&str> {
    let ok = value.starts_with('/')
        && !value.starts_with("//")
        && !value.contains('\\')
        && !value.chars().any(|c| c.is_control() || c.is_whitespace())
        && value.len() <= 4096;
    ok.then_some(value)
}

pub fn or_default(value: Option<&str>) -> &str {
    value.and_then(validate).unwrap_or(DEFAULT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_same_origin_relative_paths_are_accepted() {
        assert_eq!(
            validate("/authorize?client_id=a"),
            Some("/authorize?client_id=a")
        );
        assert_eq!(validate("/account"), Some("/account"));
        for bad in [
            "//evil.example",
            "/\\evil.example",
            "https:evil.example",
            "https://evil.example",
            "evil",
            "/\tx",
            "",
            "javascript:alert(1)",
        ] {
            assert_eq!(validate(bad), None, "{bad:?} accepted");
        }
        assert_eq!(or_default(Some("//evil")), DEFAULT);
    }
}
