//! What a person is called beyond their username (DESIGN.md "People, agents and
//! teams"): an optional email, display name and, for agents, a team. Each is
//! checked here so that what the pages and logs show is one plain line.

use crate::store::users::UserRow;

/// Longest email, display name or team accepted.
const MAX_LEN: usize = 254;

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Profile {
    pub email: Option<String>,
    pub name: Option<String>,
    pub team: Option<String>,
}

impl Profile {
    /// Refuses an empty, over-long or multi-line value, naming the field; an
    /// email must have one `@` with text on both sides.
    pub fn validate(&self) -> Result<(), String> {
        for (field, value) in [
            ("--email", &self.email),
            ("--name", &self.name),
            ("--team", &self.team),
        ] {
            let Some(value) = value else { continue };
            if value.trim().is_empty()
                || value.len() > MAX_LEN
                || value.chars().any(char::is_control)
            {
                return Err(format!(
                    "{field}: use 1 to {MAX_LEN} characters on one line, got {value:?}"
                ));
            }
        }
        if let Some(email) = &self.email {
            let parts: Vec<&str> = email.split('@').collect();
            if parts.len() != 2 || parts.iter().any(|p| p.is_empty()) || email.contains(' ') {
                return Err(format!(
                    "--email: expected an address like erin@example.com, got {email:?}"
                ));
            }
        }
        Ok(())
    }

    /// `user` with this profile.
    pub fn apply(self, user: UserRow) -> UserRow {
        UserRow {
            email: self.email,
            display_name: self.name,
            team: self.team,
            ..user
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_profile_refuses_line_breaks_and_malformed_emails_naming_the_flag() {
        let ok = Profile {
            email: Some("erin@example.com".into()),
            name: Some("Erin Example".into()),
            team: Some("Support".into()),
        };
        assert!(ok.validate().is_ok());
        let forged = Profile {
            name: Some("Erin\nINFO forged".into()),
            ..Profile::default()
        };
        assert!(forged.validate().unwrap_err().starts_with("--name"));
        let email = Profile {
            email: Some("erin".into()),
            ..Profile::default()
        };
        assert!(email.validate().unwrap_err().starts_with("--email"));
    }
}
