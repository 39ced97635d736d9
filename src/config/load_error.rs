//! A setting that does not parse, said in an operator's words: the setting, its
//! environment variable, what is expected and what was given, e.g.
//! `session_ttl_seconds (BEHALF_SESSION_TTL_SECONDS): expected a whole number of
//! seconds, got "abc"`. The value is never shown for a secret setting.

use figment::error::{Actual, Kind};

/// Settings whose values a message never repeats.
const SECRET_KEYS: &[&str] = &["key_encryption_key", "smtp_url"];

pub fn describe(error: figment::Error) -> String {
    let key = error.path.join(".");
    let Some(field) = error.path.last().cloned() else {
        return format!("invalid setting: {error}");
    };
    let variable = format!(
        "BEHALF_{}",
        match error.path.first().map(String::as_str) {
            Some("sign_in") => format!("SIGN_IN_{}", field.to_ascii_uppercase()),
            Some("email") => format!("EMAIL_{}", field.to_ascii_uppercase()),
            _ => field.to_ascii_uppercase(),
        }
    );
    let (actual, expected) = match &error.kind {
        Kind::InvalidType(actual, expected) | Kind::InvalidValue(actual, expected) => {
            (actual, expected.as_str())
        }
        Kind::UnknownVariant(given, known) => {
            return format!(
                "{key} ({variable}): expected one of {}, got {given:?}",
                known.join(", ")
            );
        }
        _ => return format!("{key} ({variable}): {}", error.kind),
    };
    let whole = matches!(expected, "i64" | "u64" | "usize" | "u32" | "i32" | "u16");
    let expected = if whole && field.ends_with("_seconds") {
        "a whole number of seconds".to_string()
    } else if whole && field.ends_with("_ms") {
        "a whole number of milliseconds".to_string()
    } else if whole {
        "a whole number".to_string()
    } else if matches!(expected, "a boolean" | "bool") {
        "true or false".to_string()
    } else {
        expected.to_string()
    };
    if field == "smtp_url" {
        return format!("{key} ({variable}): expected a URL like smtp://127.0.0.1:25");
    }
    if SECRET_KEYS.contains(&field.as_str()) {
        return format!("{key} ({variable}): expected 32 random bytes in base64");
    }
    let given = match actual {
        Actual::Signed(n) if whole && *n < 0 => format!("\"{n}\" (must not be negative)"),
        Actual::Str(s) => format!("{s:?}"),
        Actual::Signed(n) => format!("\"{n}\""),
        Actual::Unsigned(n) => format!("\"{n}\""),
        Actual::Float(n) => format!("\"{n}\""),
        Actual::Bool(b) => format!("\"{b}\""),
        other => other.to_string(),
    };
    format!("{key} ({variable}): expected {expected}, got {given}")
}

#[cfg(test)]
mod tests {
    use crate::config::{Overrides, Settings};

    #[test]
    fn a_bad_number_in_the_settings_file_names_the_setting_its_variable_and_what_is_expected() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("behalf.toml");
        std::fs::write(
            &file,
            "session_ttl_seconds = \"abc\"\n[sign_in]\nchecks_at_once = -3\n",
        )
        .unwrap();
        let refused = Settings::load(Some(&file), &Overrides::default()).unwrap_err();
        assert_eq!(
            refused,
            "session_ttl_seconds (BEHALF_SESSION_TTL_SECONDS): expected a whole number of seconds, got \"abc\""
        );
    }
}
