//! One info line per grant decision, use and ending (docs/contract.md
//! "Operations"), written after the transaction that made it commits. Each names
//! the grant (or the request), the agent and the user by their ids; never a token.

/// A user approved an agent's request: `grant` now exists.
pub fn approved(grant: &str, request: &str, agent: &str, user: &str) {
    tracing::info!(grant, request, agent, user, "grant approved");
}

/// A user denied an agent's request.
pub fn denied(request: &str, agent: &str, user: &str) {
    tracing::info!(request, agent, user, "access request denied");
}

/// A user gave an agent access on their own initiative.
pub fn given(grant: &str, agent: &str, user: &str) {
    tracing::info!(grant, agent, user, "grant given");
}

/// An agent exchanged its token under `grant` for a delegated token (RFC 8693).
pub fn used(grant: &str, agent: &str, user: &str, client: &str) {
    tracing::info!(grant, agent, user, client, "grant used");
}

/// A grant ended before its time; `by` is who ended it (`EndedBy`).
pub fn ended(grant: &str, agent: &str, user: &str, by: &str) {
    tracing::info!(grant, agent, user, by, "grant ended");
}
