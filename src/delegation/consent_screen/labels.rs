//! How a request or a grant is named to a person, in headings, notices and
//! the hidden part of each button's accessible name: "bob's request
//! (SUP-42)", or, without a ticket, "bob's request of 1 December 2026, 19:41
//! UTC", so that no two buttons on the page say the same thing.

/// `thing`: "request" or "access"; `asked_at`: the UTC words of when it began.
pub fn whose(agent: &str, thing: &str, ticket: &str, asked_at: &str) -> String {
    let agent = if agent.is_empty() { "an agent" } else { agent };
    if ticket.is_empty() {
        format!("{agent}'s {thing} of {asked_at}")
    } else {
        format!("{agent}'s {thing} ({ticket})")
    }
}

#[cfg(test)]
mod tests {
    use super::whose;

    #[test]
    fn a_label_names_the_agent_and_the_ticket_or_the_time() {
        assert_eq!(
            whose("bob", "request", "SUP-42", "x"),
            "bob's request (SUP-42)"
        );
        assert_eq!(
            whose("bob", "access", "", "1 December 2026, 19:41 UTC"),
            "bob's access of 1 December 2026, 19:41 UTC"
        );
    }
}
