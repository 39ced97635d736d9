//! Plain words for a scope the operator gave no description: the common
//! shapes (`read`, `write`, `orders:read`, `invoices.write`, `delete`) read as
//! what they conventionally allow; anything else says plainly that it is a
//! permission nobody described, naming it, so that nothing is made up.

/// What the verbs of common scope names let an agent or an app do.
fn verb(word: &str) -> Option<&'static str> {
    match word {
        "read" | "view" | "list" | "get" => Some("See"),
        "write" | "edit" | "update" | "modify" => Some("Change"),
        "create" | "add" => Some("Add to"),
        "delete" | "remove" => Some("Delete"),
        "manage" | "admin" => Some("Manage"),
        _ => None,
    }
}

/// "orders" → "orders", "billing_history" → "billing history".
fn noun(word: &str) -> String {
    word.replace(['_', '-'], " ")
}

/// The words for `scope` when `policy.scope_descriptions` has none.
pub fn fallback(scope: &str) -> String {
    if let Some(verb) = verb(scope) {
        return format!("{verb} your account's information");
    }
    let split = scope.split_once([':', '.', '/']);
    if let Some((left, right)) = split {
        let clean = |w: &str| {
            !w.is_empty()
                && w.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        };
        if clean(left) && clean(right) {
            if let Some(verb) = verb(right) {
                return format!("{verb} your {}", noun(left));
            }
            if let Some(verb) = verb(left) {
                return format!("{verb} your {}", noun(right));
            }
        }
    }
    format!("A permission called \u{201c}{scope}\u{201d} (no description was set up for it)")
}

#[cfg(test)]
mod tests {
    use super::fallback;

    #[test]
    fn common_scope_names_read_as_what_they_allow() {
        assert_eq!(fallback("read"), "See your account's information");
        assert_eq!(fallback("write"), "Change your account's information");
        assert_eq!(fallback("orders:read"), "See your orders");
        assert_eq!(
            fallback("billing_history.write"),
            "Change your billing history"
        );
        assert_eq!(fallback("delete:files"), "Delete your files");
    }

    #[test]
    fn anything_else_is_named_and_said_to_be_undescribed() {
        assert_eq!(
            fallback("x-frobnicate"),
            "A permission called \u{201c}x-frobnicate\u{201d} (no description was set up for it)"
        );
        assert!(fallback("https://api/read").starts_with("A permission called"));
    }
}
