//! The status of an access request as every reader sees it: the stored state,
//! except that a pending request past its `expires_at` reads as expired.

use crate::store::access_requests::{AccessRequestRow, RequestState};

/// The status a reader sees: a pending request past its time has expired.
/// Its schema (the API's `status` of a request) lists `as_str`'s values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestStatus {
    Pending,
    Approved,
    Denied,
    Cancelled,
    Expired,
}

impl RequestStatus {
    pub const ALL: [RequestStatus; 5] = [
        Self::Pending,
        Self::Approved,
        Self::Denied,
        Self::Cancelled,
        Self::Expired,
    ];

    pub fn of(row: &AccessRequestRow, now: i64) -> Self {
        match row.state() {
            RequestState::Pending if now >= row.expires_at => Self::Expired,
            RequestState::Pending => Self::Pending,
            RequestState::Approved => Self::Approved,
            RequestState::Denied => Self::Denied,
            RequestState::Cancelled => Self::Cancelled,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Approved => "approved",
            Self::Denied => "denied",
            Self::Cancelled => "cancelled",
            Self::Expired => "expired",
        }
    }
}

impl utoipa::PartialSchema for RequestStatus {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .enum_values(Some(Self::ALL.map(Self::as_str)))
            .into()
    }
}

impl utoipa::ToSchema for RequestStatus {}
