//! Pages of the agent API's lists (docs/contract.md "Access requests API",
//! "Lists"): `limit` (default 50, at most 100), the opaque cursor `after`
//! (base64url of the last item's `created_at` and `id`, for keyset paging) and
//! the answer `{"items", "next"}`. Pure: no HTTP, no storage.

use super::refusal::Refusal;
use crate::store::Keyset;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;

pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 100;

/// Which page is asked for: at most `limit` items after `after`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageAsk {
    pub limit: i64,
    pub after: Option<Keyset>,
}

impl PageAsk {
    /// From the `limit` and `after` query parameters as sent.
    pub fn parse(limit: Option<&str>, after: Option<&str>) -> Result<Self, Refusal> {
        let limit = match limit {
            None => DEFAULT_LIMIT,
            Some(value) => value
                .parse::<i64>()
                .ok()
                .filter(|n| (1..=MAX_LIMIT).contains(n))
                .ok_or_else(|| {
                    Refusal::invalid(format!(
                        "limit must be a whole number from 1 to {MAX_LIMIT}"
                    ))
                })?,
        };
        let after = after.map(decode).transpose()?;
        Ok(Self { limit, after })
    }

    /// How many rows to read: one more than the page, to know whether another follows.
    pub fn rows(&self) -> i64 {
        self.limit + 1
    }
}

/// One page of a list, as the API answers it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// The cursor of the next page (pass it as `after`); `null` on the last.
    #[schema(required)]
    pub next: Option<String>,
}

/// The page out of rows read with `ask.rows()`: the first `ask.limit` of
/// them, and a cursor after the last of those if more were read.
pub fn page<R, T>(
    ask: &PageAsk,
    mut rows: Vec<R>,
    key: impl Fn(&R) -> Keyset,
    view: impl FnMut(R) -> T,
) -> Page<T> {
    let limit = usize::try_from(ask.limit).unwrap_or(0);
    let more = rows.len() > limit;
    rows.truncate(limit);
    let next = match rows.last() {
        Some(last) if more => Some(encode(&key(last))),
        _ => None,
    };
    Page {
        items: rows.into_iter().map(view).collect(),
        next,
    }
}

pub fn encode(key: &Keyset) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}:{}", key.created_at, key.id))
}

/// A cursor `encode` made; anything else is refused.
pub fn decode(cursor: &str) -> Result<Keyset, Refusal> {
    let malformed = || Refusal::invalid("after is not a cursor this list gave");
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| malformed())?;
    let text = String::from_utf8(bytes).map_err(|_| malformed())?;
    let (created_at, id) = text.split_once(':').ok_or_else(malformed)?;
    let created_at = created_at.parse().map_err(|_| malformed())?;
    let id_chars = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_');
    if id.is_empty() || id.len() > 128 || !id.chars().all(id_chars) {
        return Err(malformed());
    }
    Ok(Keyset {
        created_at,
        id: id.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(created_at: i64, id: &str) -> Keyset {
        Keyset {
            created_at,
            id: id.into(),
        }
    }

    #[test]
    fn a_cursor_reads_back_as_the_place_it_was_made_from() {
        let place = key(1_780_000_000, "Zm9v-bar_1");
        assert_eq!(decode(&encode(&place)), Ok(place));
        assert_eq!(decode(&encode(&key(-5, "r1"))), Ok(key(-5, "r1")));
    }

    #[test]
    fn a_malformed_cursor_is_refused() {
        let made = |text: &str| URL_SAFE_NO_PAD.encode(text);
        for bad in [
            "not base64!".to_string(),
            made("no-colon"),
            made("soon:r1"),
            made("12:"),
            made("12:with space"),
            made(&format!("12:{}", "a".repeat(129))),
        ] {
            assert!(decode(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_limit_defaults_to_50_and_is_a_number_from_1_to_100() {
        assert_eq!(PageAsk::parse(None, None).unwrap().limit, DEFAULT_LIMIT);
        assert_eq!(PageAsk::parse(Some("100"), None).unwrap().limit, 100);
        for bad in ["0", "101", "-1", "ten", "", "1.5"] {
            assert!(PageAsk::parse(Some(bad), None).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_page_names_a_next_cursor_only_when_more_rows_were_read() {
        let ask = PageAsk {
            limit: 2,
            after: None,
        };
        let rows = |n: i64| (0..n).map(|i| key(100 - i, &format!("r{i}"))).collect();
        let full = page(&ask, rows(3), Clone::clone, |k| k.id);
        assert_eq!(full.items, vec!["r0", "r1"]);
        assert_eq!(full.next.as_deref().map(decode), Some(Ok(key(99, "r1"))));
        let last = page(&ask, rows(2), Clone::clone, |k| k.id);
        assert_eq!((last.items.len(), last.next), (2, None));
        assert!(page(&ask, rows(0), Clone::clone, |k| k.id).next.is_none());
    }
}
