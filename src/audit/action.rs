//! What the audit trail records: one closed set of actions, each written by
//! exactly one flow and read back by the consent screen's activity lines.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    AccessRequestCreated,
    AccessRequestDenied,
    AccessRequestCancelled,
    GrantCreated,
    GrantRevoked,
    TokenExchanged,
    TokenIntrospected,
    TokenRevoked,
    SessionSignedIn,
    /// A user withdrew an app's consent (`/account/apps/{client_id}/withdraw`).
    AppConsentWithdrawn,
    /// The trail was re-keyed at start-up (`rekey`, docs/security.md N6).
    AuditChainKeyed,
    /// An agent signed in to an app as the user (DESIGN.md "Delegated sign-in").
    DelegatedSignInStarted,
    /// A grant reached its expiry unrevoked, recorded when its `grant.ended`
    /// event is sent (DESIGN.md "Events").
    GrantExpired,
    /// An operator registered or removed a destination of events
    /// (`behalf webhook|receiver add|remove`): who is told is itself on record.
    WebhookAdded,
    WebhookRemoved,
    ReceiverAdded,
    ReceiverRemoved,
    /// An IdP's account was linked to a local user (its first upstream
    /// sign-in or trusted-issuer token), or an operator unlinked it.
    IdentityLinked,
    IdentityUnlinked,
}

impl Action {
    pub const ALL: [Action; 19] = [
        Self::AccessRequestCreated,
        Self::AccessRequestDenied,
        Self::AccessRequestCancelled,
        Self::GrantCreated,
        Self::GrantRevoked,
        Self::TokenExchanged,
        Self::TokenIntrospected,
        Self::TokenRevoked,
        Self::SessionSignedIn,
        Self::AppConsentWithdrawn,
        Self::AuditChainKeyed,
        Self::DelegatedSignInStarted,
        Self::GrantExpired,
        Self::WebhookAdded,
        Self::WebhookRemoved,
        Self::ReceiverAdded,
        Self::ReceiverRemoved,
        Self::IdentityLinked,
        Self::IdentityUnlinked,
    ];

    /// The stored name (`audit_events.action`), stable across versions.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AccessRequestCreated => "access_request.created",
            Self::AccessRequestDenied => "access_request.denied",
            Self::AccessRequestCancelled => "access_request.cancelled",
            Self::GrantCreated => "grant.created",
            Self::GrantRevoked => "grant.revoked",
            Self::TokenExchanged => "token.exchanged",
            Self::TokenIntrospected => "token.introspected",
            Self::TokenRevoked => "token.revoked",
            Self::SessionSignedIn => "session.signed_in",
            Self::AppConsentWithdrawn => "app_consent.withdrawn",
            Self::AuditChainKeyed => "audit.chain_keyed",
            Self::DelegatedSignInStarted => "delegated_sign_in.started",
            Self::GrantExpired => "grant.expired",
            Self::WebhookAdded => "webhook.added",
            Self::WebhookRemoved => "webhook.removed",
            Self::ReceiverAdded => "set_receiver.added",
            Self::ReceiverRemoved => "set_receiver.removed",
            Self::IdentityLinked => "identity.linked",
            Self::IdentityUnlinked => "identity.unlinked",
        }
    }

    pub fn parse(stored: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == stored)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_reads_back_from_its_stored_name() {
        for action in Action::ALL {
            assert_eq!(Action::parse(action.as_str()), Some(action));
        }
        assert_eq!(Action::parse("grant.exploded"), None);
    }
}
