//! Why a delegation action was refused, in the domain's words: no HTTP here.
//! The JSON API (`api`) and the consent screen (`consent_screen::forms`) each
//! render a `Refusal` in one place. `AtField` adds the form field a refusal is
//! about, for the forms that show a message beside it.

use super::requests::status::RequestStatus;
use crate::store::{StoreError, TxError};
use std::borrow::Cow;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Unknown, or not the caller's: the two look the same (docs/security.md E8).
    NotFound,
    /// Someone answered, cancelled or let it expire first: its real state now.
    NoLongerPending(RequestStatus),
    /// The grant had already ended (revoked or expired).
    AlreadyEnded,
    /// The agent already has a request pending with this user: its id
    /// (docs/security.md L5).
    AlreadyPending(String),
    /// The agent has the most pending requests the policy allows; one frees
    /// up in `retry_after` seconds at the latest (docs/security.md L5).
    TooManyPending { retry_after: i64 },
    /// A scope that is malformed, not asked for, not the client's or never delegable.
    InvalidScope(Cow<'static, str>),
    /// Anything else wrong with what was sent, said in plain words.
    Invalid(Cow<'static, str>),
    /// The database could not answer (logged where it failed, never sent).
    Unavailable,
}

impl Refusal {
    pub fn invalid(description: impl Into<Cow<'static, str>>) -> Self {
        Self::Invalid(description.into())
    }

    pub fn invalid_scope(description: impl Into<Cow<'static, str>>) -> Self {
        Self::InvalidScope(description.into())
    }

    /// The error code the API sends (RFC 6749 §5.2 style, plus `not_found`).
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotFound => "not_found",
            Self::InvalidScope(_) => "invalid_scope",
            Self::Unavailable => "temporarily_unavailable",
            Self::TooManyPending { .. } => "too_many_requests",
            Self::NoLongerPending(_)
            | Self::AlreadyEnded
            | Self::AlreadyPending(_)
            | Self::Invalid(_) => "invalid_request",
        }
    }

    pub fn description(&self) -> Cow<'static, str> {
        match self {
            Self::NotFound => "no such request or grant".into(),
            Self::NoLongerPending(status) => format!(
                "the request is no longer pending: it is {}",
                status.as_str()
            )
            .into(),
            Self::AlreadyEnded => "the grant has already ended".into(),
            Self::AlreadyPending(_) => {
                "a request of yours to this user is already waiting for an answer".into()
            }
            Self::TooManyPending { .. } => {
                "too many of your requests are waiting for an answer; try again later".into()
            }
            Self::InvalidScope(d) | Self::Invalid(d) => d.clone(),
            Self::Unavailable => "the server cannot reach its database; try again".into(),
        }
    }
}

/// A refusal and the field of the form it is about (`None`: the whole form,
/// e.g. a database failure), so that a page can show it there.
#[derive(Debug, PartialEq, Eq)]
pub struct AtField<F> {
    pub field: Option<F>,
    pub refusal: Refusal,
}

impl<F> AtField<F> {
    pub fn at(field: F) -> impl FnOnce(Refusal) -> Self {
        move |refusal| Self {
            field: Some(field),
            refusal,
        }
    }
}

impl<F> From<Refusal> for AtField<F> {
    fn from(refusal: Refusal) -> Self {
        Self {
            field: None,
            refusal,
        }
    }
}

impl From<StoreError> for Refusal {
    fn from(e: StoreError) -> Self {
        tracing::error!(error = %e, "storage failed");
        Self::Unavailable
    }
}

impl From<TxError<Refusal>> for Refusal {
    fn from(e: TxError<Refusal>) -> Self {
        match e {
            TxError::Store(e) => e.into(),
            TxError::Abort(refusal) => refusal,
        }
    }
}
