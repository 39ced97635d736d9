//! How a request or a grant is named to a person, in headings, notices and
//! the hidden part of each button's accessible name: "bob's request
//! (SUP-42)", or, without a ticket, "bob's request of 1 December 2026, 19:41
//! UTC", so that no two buttons on the page say the same thing (and where
//! two would still, `make_distinct` numbers them).

/// `thing`: "request" or "access"; `asked_at`: the UTC words of when it began.
pub fn whose(agent: &str, thing: &str, ticket: &str, asked_at: &str) -> String {
    let agent = if agent.is_empty() { "an agent" } else { agent };
    if ticket.is_empty() {
        format!("{agent}'s {thing} of {asked_at}")
    } else {
        format!("{agent}'s {thing} ({ticket})")
    }
}

/// `who` as the first words of a sentence: "the Support team" becomes "The
/// Support team"; a username keeps its own spelling ("bob").
pub fn at_sentence_start(who: &str) -> String {
    match who.strip_prefix("the ") {
        Some(rest) => format!("The {rest}"),
        None => who.to_string(),
    }
}

/// Makes the labels of one page distinct: a label seen before gets "(2)",
/// "(3)", ... in page order (two ticketless grants to bob in one minute).
pub fn make_distinct<'a>(labels: impl Iterator<Item = &'a mut String>) {
    let mut seen = std::collections::HashMap::<String, usize>::new();
    for label in labels {
        let count = seen.entry(label.clone()).or_insert(0);
        *count += 1;
        if *count > 1 {
            label.push_str(&format!(" ({count})"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{at_sentence_start, make_distinct, whose};

    #[test]
    fn a_team_starts_a_sentence_with_a_capital_and_a_username_keeps_its_case() {
        assert_eq!(at_sentence_start("the Support team"), "The Support team");
        assert_eq!(at_sentence_start("bob"), "bob");
    }

    #[test]
    fn repeated_labels_on_a_page_are_numbered() {
        let mut labels = vec![
            "bob's access".to_string(),
            "carol's".into(),
            "bob's access".into(),
        ];
        make_distinct(labels.iter_mut());
        assert_eq!(labels, ["bob's access", "carol's", "bob's access (2)"]);
    }

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
