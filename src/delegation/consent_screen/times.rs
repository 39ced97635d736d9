//! Times on the consent screen: each is a `<time datetime="RFC 3339">` whose
//! text, until `/static/behalf.js` rewrites it in the viewer's local time, is
//! the UTC time in words and marked as UTC ("1 December 2026, 19:41 UTC"), so
//! that nothing is read out as a raw ISO string.

use crate::clock::rfc3339;
use serde::Serialize;

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// What a template needs for one `<time>` element.
#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
pub struct TimeView {
    /// The `datetime` attribute (RFC 3339 UTC).
    pub datetime: String,
    /// The text without script: "1 December 2026, 19:41 UTC".
    pub utc: String,
}

pub fn at(unix: i64) -> TimeView {
    let datetime = rfc3339(unix);
    TimeView {
        utc: utc_words(&datetime),
        datetime,
    }
}

/// "2026-12-01T19:41:49Z" → "1 December 2026, 19:41 UTC".
fn utc_words(datetime: &str) -> String {
    let number = |range: std::ops::Range<usize>| {
        datetime
            .get(range)
            .and_then(|s| s.parse::<usize>().ok())
            .unwrap_or(0)
    };
    let month = MONTHS.get(number(5..7).wrapping_sub(1)).unwrap_or(&"");
    let (year, day) = (&datetime[..4], number(8..10));
    format!("{day} {month} {year}, {} UTC", &datetime[11..16])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_time_reads_as_words_marked_utc_beside_its_rfc_3339_value() {
        let view = at(1_795_608_671);
        assert_eq!(view.datetime, "2026-11-25T12:11:11Z");
        assert_eq!(view.utc, "25 November 2026, 12:11 UTC");
        assert_eq!(at(0).utc, "1 January 1970, 00:00 UTC");
    }
}
