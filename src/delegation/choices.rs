//! What the pages' forms offer, as their templates draw it: the options of a
//! select (`Pick`), checkboxes (`Check`), the support tools (confidential
//! clients allowed token exchange), the scopes a grant through them may carry
//! in plain words, the apps open to delegated sign-in, and durations that say
//! exactly what they give. Shared by "Allow support access"
//! (`consent_screen::allow_support`), the consent screen's approve form
//! (`consent_screen::cards`) and the console's "Ask for access" (`console::ask`).

use crate::clients::Client;
use crate::clock::exact_duration;
use crate::config::Policy;
use crate::oauth::scope;
use crate::store::clients::ClientRow;
use serde::Serialize;
use std::collections::HashMap;

/// Durations offered, before filtering by policy and the request.
const PRESETS: &[i64] = &[
    900,
    3600,
    4 * 3600,
    8 * 3600,
    86_400,
    3 * 86_400,
    7 * 86_400,
];

/// The longest duration a fresh form offers to give or ask for: a day.
const LONGEST_OFFERED: i64 = 86_400;

/// What a fresh form chooses: an hour, long enough for most fixes, short
/// enough to forget safely.
const FRESH_DURATION: i64 = 3600;

/// One option of a select.
#[derive(Serialize)]
pub struct Pick {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// One checkbox.
#[derive(Serialize)]
pub struct Check {
    pub value: String,
    pub label: String,
    pub checked: bool,
}

#[derive(Serialize)]
pub struct DurationOption {
    pub value: i64,
    pub label: String,
    pub selected: bool,
}

/// Choices from the policy minimum up to `max`, `max` itself included and
/// selected; each label exact, and `max` marked "(as asked)" when it is what
/// the agent asked for.
pub fn duration_options(min: i64, max: i64, max_was_asked: bool) -> Vec<DurationOption> {
    let mut values: Vec<i64> = PRESETS
        .iter()
        .copied()
        .filter(|d| *d >= min && *d < max)
        .collect();
    values.push(max);
    values
        .into_iter()
        .rev()
        .map(|value| DurationOption {
            value,
            label: match value == max && max_was_asked {
                true => format!("{} (as asked)", exact_duration(value)),
                false => exact_duration(value),
            },
            selected: value == max,
        })
        .collect()
}

/// The durations a form to give or ask for access offers, up to a day within
/// the policy: `chosen` selected when it is one of them, else an hour.
pub fn durations(policy: &Policy, chosen: Option<i64>) -> Vec<DurationOption> {
    let mut options = duration_options(
        policy.min_grant_seconds,
        policy.max_grant_seconds.min(LONGEST_OFFERED),
        false,
    );
    let chosen = chosen.unwrap_or(FRESH_DURATION);
    if options.iter().any(|o| o.value == chosen) {
        for option in &mut options {
            option.selected = option.value == chosen;
        }
    }
    options
}

/// The support tools a grant can go through: confidential clients allowed token
/// exchange, other than program agents (they ask for themselves, with CIBA).
pub fn support_tools(clients: &[ClientRow]) -> Vec<Client> {
    clients
        .iter()
        .cloned()
        .map(Client::from)
        .filter(|c| c.can_exchange() && !c.program_agent)
        .collect()
}

/// The support tools as options: `chosen` selected, or the first when none is.
pub fn tool_picks(tools: &[Client], chosen: &str) -> Vec<Pick> {
    tools
        .iter()
        .enumerate()
        .map(|(i, c)| Pick {
            value: c.client_id.clone(),
            label: c.name.clone(),
            selected: c.client_id == chosen || (chosen.is_empty() && i == 0),
        })
        .collect()
}

/// Every scope one of `tools` can carry in a grant (delegable, not signing in
/// itself), once, in plain words (`words`: `policy.scope_descriptions`); `ticked` ticked.
pub fn scope_checks(
    tools: &[Client],
    policy: &Policy,
    words: &HashMap<String, String>,
    ticked: &[String],
) -> Vec<Check> {
    let mut names: Vec<&str> = tools
        .iter()
        .flat_map(|c| c.scopes.iter().map(String::as_str))
        .filter(|s| policy.is_delegable(s) && !scope::is_identity_scope(s))
        .collect();
    names.sort_unstable();
    names.dedup();
    names
        .into_iter()
        .map(|s| Check {
            value: s.into(),
            label: scope::describe(words, s),
            checked: ticked.iter().any(|t| t == s),
        })
        .collect()
}

/// The apps open to delegated sign-in, labelled by `label` (given the app's
/// name); `ticked` ticked.
pub fn app_checks(
    clients: &[ClientRow],
    ticked: &[String],
    label: impl Fn(&str) -> String,
) -> Vec<Check> {
    clients
        .iter()
        .filter(|c| c.delegated_sign_in)
        .map(|c| Check {
            value: c.client_id.clone(),
            label: label(&c.name),
            checked: ticked.contains(&c.client_id),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_asked_duration_is_offered_exactly_and_marked() {
        let options = duration_options(60, 90, true);
        assert_eq!(options.len(), 1);
        assert_eq!(options[0].label, "1 minute 30 seconds (as asked)");
        assert!(options[0].selected);
        let given = duration_options(900, 86_400, false);
        assert_eq!(given[0].label, "1 day");
    }

    #[test]
    fn a_fresh_form_offers_an_hour_and_a_sent_one_keeps_its_choice() {
        let selected = |chosen| {
            durations(&Policy::default(), chosen)
                .into_iter()
                .find(|o| o.selected)
                .map(|o| o.value)
        };
        assert_eq!(selected(None), Some(3600));
        assert_eq!(selected(Some(900)), Some(900));
        // A value not offered leaves the longest selected rather than none.
        assert_eq!(selected(Some(1234)), Some(86_400));
    }
}
