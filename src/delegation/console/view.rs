//! The console's three lists as a person reads them (docs/contract.md
//! "Support console"): each a `ListView` of `cards`, what it says when empty,
//! and its links to the next and the first page; drawn by
//! `templates/console_lists.html` and, from the same JSON (`state`), by
//! `static/behalf.js`, so that a page updated by the script reads exactly as a
//! reloaded one. Pure: the rows in, the lists out.

use super::cards::{self, Card, Link, Names, Viewer};
use super::lists::{ACCESS, ENDED, Ended, Lists, Page, WAITING};
use crate::delegation::consent_screen::labels::make_distinct;
use crate::delegation::paging;
use serde::Serialize;

/// The three lists.
#[derive(Serialize)]
pub struct ConsoleView {
    pub waiting: ListView,
    pub access: ListView,
    pub ended: ListView,
}

#[derive(Serialize)]
pub struct ListView {
    /// `waiting`, `access` or `ended`: the element's `data-list`.
    name: &'static str,
    /// Its heading: "Waiting", "Your access", "Ended".
    title: &'static str,
    /// What the list says when it holds nothing.
    empty: &'static str,
    cards: Vec<Card>,
    /// The next page of this list, when there is one.
    more: Option<Link>,
    /// Back to the first page, on a later one.
    first: Option<Link>,
}

/// What a list is called and says: its name, title, words when empty, and its "more" link.
struct Words {
    name: &'static str,
    title: &'static str,
    empty: &'static str,
    more: &'static str,
}

/// A list of cards from a page of rows, with its links to the next and first pages.
fn list<T>(
    words: Words,
    page: &Page<T>,
    on_later_page: bool,
    card: impl Fn(&T) -> Card,
) -> ListView {
    let Words {
        name,
        title,
        empty,
        more,
    } = words;
    ListView {
        name,
        title,
        empty,
        cards: page.rows.iter().map(card).collect(),
        more: page.next.as_ref().map(|next| Link {
            href: format!("/console?{name}={}", paging::encode(next)),
            text: more.to_string(),
        }),
        first: on_later_page.then(|| Link {
            href: "/console".into(),
            text: "Back to the newest".into(),
        }),
    }
}

/// The lists of `lists`; `later`: which lists are past their first page
/// (waiting, access, ended).
pub fn draw(viewer: &Viewer, lists: &Lists, later: [bool; 3]) -> ConsoleView {
    let names = Names {
        usernames: &lists.usernames,
        clients: lists
            .clients
            .iter()
            .map(|c| (c.client_id.as_str(), c))
            .collect(),
        enders: &lists.enders,
    };
    let mut view = ConsoleView {
        waiting: list(
            Words {
                name: WAITING,
                title: "Waiting for an answer",
                empty: "None of your requests is waiting for an answer.",
                more: "More waiting requests",
            },
            &lists.waiting,
            later[0],
            |r| cards::waiting(viewer, &names, r),
        ),
        access: list(
            Words {
                name: ACCESS,
                title: "Your access",
                empty: "You cannot act in anyone's account right now.",
                more: "More of your access",
            },
            &lists.access,
            later[1],
            |g| cards::access(viewer, &names, g),
        ),
        ended: list(
            Words {
                name: ENDED,
                title: "Ended",
                empty: "Nothing has ended yet.",
                more: "Older ended access and requests",
            },
            &lists.ended,
            later[2],
            |e| match e {
                Ended::Grant(g) => cards::ended_grant(viewer, &names, g),
                Ended::Request(r) => cards::ended_request(viewer, &names, r),
            },
        ),
    };
    // No two buttons on the page may be named alike (two ticketless requests in one minute).
    make_distinct(
        view.waiting
            .cards
            .iter_mut()
            .chain(view.access.cards.iter_mut())
            .filter_map(|card| card.action.as_mut().map(|a| &mut a.hidden)),
    );
    view
}

/// Whose account and which ticket the card `kind` `id` on the page is about, if it is there.
pub fn about<'a>(view: &'a ConsoleView, kind: &str, id: &str) -> Option<(&'a str, &'a str)> {
    [&view.waiting, &view.access, &view.ended]
        .into_iter()
        .flat_map(|list| &list.cards)
        .find(|card| card.kind == kind && card.id == id)
        .map(|card| (card.user.as_str(), card.ticket.as_str()))
}
