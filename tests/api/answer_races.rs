//! docs/security.md E17: an approve and a deny of one request, sent at the same
//! moment, settle on one answer. The loser is told the request's real state
//! (409) and nothing of it is recorded: the request, its grant and the audit
//! trail all say what the winner did. On PostgreSQL the two run in parallel
//! transactions; on SQLite the writer orders them.

use crate::fixtures::{csrf, desk, file_request, signed_in_to_account};
use behalf::store::audit_events::{self, AuditEventRow};
use reqwest::StatusCode;

const ROUNDS: usize = 30;

fn count(events: &[AuditEventRow], action: &str) -> usize {
    events.iter().filter(|e| e.action == action).count()
}

#[tokio::test]
async fn an_approve_and_a_deny_racing_end_in_one_answer_and_the_loser_records_nothing() {
    let d = desk().await;
    let alice = signed_in_to_account(&d.app, "alice").await;
    let token = csrf(&alice.get("/account").await);
    for round in 0..ROUNDS {
        let request = file_request(&d, "read", 3600).await;
        let id = request["id"].as_str().unwrap().to_string();
        let approve_url = format!("/account/requests/{id}/approve");
        let deny_url = format!("/account/requests/{id}/deny");
        let form = [token.clone()];
        let (approved, denied) = tokio::join!(
            alice.post(&approve_url, &form),
            alice.post(&deny_url, &form)
        );
        let statuses = (approved.status, denied.status);
        let winner = match statuses {
            (StatusCode::SEE_OTHER, StatusCode::CONFLICT) => "approved",
            (StatusCode::CONFLICT, StatusCode::SEE_OTHER) => "denied",
            other => panic!("round {round}: approve and deny answered {other:?}"),
        };
        let loser = if winner == "approved" {
            &denied
        } else {
            &approved
        };
        assert!(
            loser
                .body
                .contains(&format!("no longer pending: it is {winner}")),
            "round {round}: the loser is told the real state: {}",
            loser.body
        );

        let seen = crate::fixtures::read_request_as(&d.app, &d.bob, &id).await;
        assert_eq!(seen["status"], winner, "round {round}: {seen}");
        assert_eq!(
            seen["grant_id"].is_string(),
            winner == "approved",
            "round {round}: {seen}"
        );

        let grant_id = seen["grant_id"].as_str().map(str::to_string);
        let request_id = id.clone();
        let events = d
            .app
            .state
            .db
            .run(move |c| {
                let mut events = audit_events::for_subject(c, &request_id)?;
                if let Some(grant_id) = &grant_id {
                    events.extend(audit_events::for_subject(c, grant_id)?);
                }
                Ok(events)
            })
            .await
            .unwrap();
        let (denials, grants) = (
            count(&events, "access_request.denied"),
            count(&events, "grant.created"),
        );
        assert_eq!(
            (denials, grants),
            if winner == "approved" { (0, 1) } else { (1, 0) },
            "round {round}: the trail records only the winner"
        );
    }
}
