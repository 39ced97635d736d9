//! The sentence on `/account` that says whether, and where, the user is
//! mailed about access to their account (docs/contract.md "Email"). It shows
//! the user's own address: the page is theirs alone.

/// Whether the server sends mail (`[email] smtp_url`) and the user's address.
pub fn sentence(server_sends: bool, email: Option<&str>) -> String {
    match (server_sends, email.filter(|e| !e.trim().is_empty())) {
        (false, _) => "This server does not send email, so check this page for requests.".into(),
        (true, None) => "We can't email you: your account has no email address.".into(),
        (true, Some(address)) => format!(
            "We email you at {address} when someone asks for access and when access starts, \
             is first used, is about to end and ends."
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::sentence;

    #[test]
    fn the_user_reads_whether_and_where_they_are_mailed() {
        assert!(
            sentence(true, Some("alice@example.com"))
                .starts_with("We email you at alice@example.com when")
        );
        assert_eq!(
            sentence(true, None),
            "We can't email you: your account has no email address."
        );
        assert!(
            sentence(false, Some("alice@example.com"))
                .starts_with("This server does not send email")
        );
    }
}
