//! Client-facing errors.
//!
//! Policy: every error a client sees carries a stable `extensions.code`
//! from [`Code`]; input errors also carry `extensions.field`, the path of
//! the offending input (`input.currency`). Internal and unavailable errors
//! are logged here with their whole cause chain and reach the client only
//! as a generic sentence. [`ApiError`] deliberately does not implement
//! `Display`: async-graphql's blanket `From<E: Display>` would otherwise
//! let any SDK or serde error's text through with a bare `?`.

use async_graphql::ErrorExtensions as _;

use crate::domain::InvalidInput;
use crate::store::StoreError;

/// The stable error codes of the API, in one place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    /// No valid bearer token.
    Unauthenticated,
    /// Authenticated, but not allowed to do this.
    Forbidden,
    /// An argument or input field breaks a rule; see `extensions.field`.
    BadUserInput,
    /// The entity to act on does not exist.
    NotFound,
    /// A unique value is taken, or the entity changed since it was read.
    Conflict,
    /// The operation is not allowed in the entity's current state.
    FailedPrecondition,
    /// The data store is unreachable or throttling; retry later.
    ServiceUnavailable,
    /// A fault on the server's side.
    InternalServerError,
    /// The HTTP request itself is malformed (not JSON, no `query`, a batch).
    BadRequest,
    /// The GraphQL document does not parse.
    GraphqlParseFailed,
    /// The GraphQL document is not valid against the schema.
    GraphqlValidationFailed,
    /// The document exceeds a depth, complexity, alias or field limit.
    QueryTooComplex,
    /// The body's media type is not `application/json`.
    UnsupportedMediaType,
    /// The body is larger than the configured limit.
    PayloadTooLarge,
    /// The `Accept` header allows no media type this server produces.
    NotAcceptable,
    /// The HTTP method is not allowed for this request (a mutation over GET).
    MethodNotAllowed,
    /// A persisted-query hash this server does not know: send the document
    /// text with the hash once.
    PersistedQueryNotFound,
    /// Only a signed-in user may do this (accepting an invitation to an
    /// email that already has an account): sign in as that user and retry.
    SignInRequired,
    /// The email could not be handed to the mail service; what was written
    /// stays, marked undelivered, and can be sent again.
    DeliveryFailed,
    /// A quota the platform set on the customer would be exceeded;
    /// `extensions.quota` names it.
    QuotaExceeded,
}

impl Code {
    /// Every code, for looking one up by its wire form.
    pub const ALL: [Self; 20] = [
        Self::Unauthenticated,
        Self::Forbidden,
        Self::BadUserInput,
        Self::NotFound,
        Self::Conflict,
        Self::FailedPrecondition,
        Self::ServiceUnavailable,
        Self::InternalServerError,
        Self::BadRequest,
        Self::GraphqlParseFailed,
        Self::GraphqlValidationFailed,
        Self::QueryTooComplex,
        Self::UnsupportedMediaType,
        Self::PayloadTooLarge,
        Self::NotAcceptable,
        Self::MethodNotAllowed,
        Self::PersistedQueryNotFound,
        Self::SignInRequired,
        Self::DeliveryFailed,
        Self::QuotaExceeded,
    ];

    /// The code whose wire form is `wire`.
    pub fn from_wire(wire: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|code| code.as_str() == wire)
    }

    /// The code's wire form, as in `extensions.code`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Unauthenticated => "UNAUTHENTICATED",
            Self::Forbidden => "FORBIDDEN",
            Self::BadUserInput => "BAD_USER_INPUT",
            Self::NotFound => "NOT_FOUND",
            Self::Conflict => "CONFLICT",
            Self::FailedPrecondition => "FAILED_PRECONDITION",
            Self::ServiceUnavailable => "SERVICE_UNAVAILABLE",
            Self::InternalServerError => "INTERNAL_SERVER_ERROR",
            Self::BadRequest => "BAD_REQUEST",
            Self::GraphqlParseFailed => "GRAPHQL_PARSE_FAILED",
            Self::GraphqlValidationFailed => "GRAPHQL_VALIDATION_FAILED",
            Self::QueryTooComplex => "QUERY_TOO_COMPLEX",
            Self::UnsupportedMediaType => "UNSUPPORTED_MEDIA_TYPE",
            Self::PayloadTooLarge => "PAYLOAD_TOO_LARGE",
            Self::NotAcceptable => "NOT_ACCEPTABLE",
            Self::MethodNotAllowed => "METHOD_NOT_ALLOWED",
            Self::PersistedQueryNotFound => "PERSISTED_QUERY_NOT_FOUND",
            Self::SignInRequired => "SIGN_IN_REQUIRED",
            Self::DeliveryFailed => "DELIVERY_FAILED",
            Self::QuotaExceeded => "QUOTA_EXCEEDED",
        }
    }
}

/// The generic message for faults whose detail only the logs may see.
pub const INTERNAL_MESSAGE: &str = "internal server error; the details are in the server log";

/// An error as a client will see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// Stable code.
    pub code: Code,
    /// Safe, human-readable message.
    pub message: String,
    /// Path of the offending input field, for input and conflict errors.
    pub field: Option<String>,
    /// Why a policy refused a correct request (`extensions.reason`, e.g.
    /// `ACCOUNT_BLOCKED`), for a machine to act on.
    pub reason: Option<&'static str>,
}

impl ApiError {
    /// An error with `code` and `message` and no field.
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            field: None,
            reason: None,
        }
    }

    /// The caller lacks the admin role.
    pub fn forbidden() -> Self {
        Self::new(Code::Forbidden, "this operation requires the admin role")
    }

    /// The request carried no valid principal.
    pub fn unauthenticated() -> Self {
        Self::new(Code::Unauthenticated, "authentication required")
    }

    /// An internal fault: `detail` goes to the log, the client gets the
    /// generic message.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        tracing::error!(error = %detail, "internal error");
        Self::new(Code::InternalServerError, INTERNAL_MESSAGE)
    }

    /// `BAD_USER_INPUT` at `field`.
    pub fn bad_input(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            code: Code::BadUserInput,
            message: message.into(),
            field: Some(field.into()),
            reason: None,
        }
    }
}

impl From<ApiError> for async_graphql::Error {
    fn from(err: ApiError) -> Self {
        let field = err.field.clone();
        async_graphql::Error::new(err.message).extend_with(|_, ext| {
            ext.set("code", err.code.as_str());
            if let Some(field) = field {
                ext.set("field", field);
            }
            if let Some(reason) = err.reason {
                ext.set("reason", reason);
            }
            // The one error a client should simply retry (with backoff).
            if err.code == Code::ServiceUnavailable {
                ext.set("retryable", true);
            }
        })
    }
}

impl From<InvalidInput> for ApiError {
    fn from(err: InvalidInput) -> Self {
        Self::bad_input(err.field, err.message)
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound { entity, id } => {
                Self::new(Code::NotFound, format!("{entity} `{id}` was not found"))
            }
            StoreError::Conflict { field, message } => Self {
                code: Code::Conflict,
                message,
                field: field.map(str::to_owned),
                reason: None,
            },
            StoreError::FailedPrecondition(message) => Self::new(Code::FailedPrecondition, message),
            StoreError::PreconditionAt { field, message } => Self {
                code: Code::FailedPrecondition,
                message,
                field: Some(field.to_owned()),
                reason: None,
            },
            StoreError::InvalidInput(invalid) => invalid.into(),
            StoreError::SignInRequired(message) => Self::new(Code::SignInRequired, message),
            StoreError::QuotaExceeded { quota, message } => Self {
                code: Code::QuotaExceeded,
                message,
                field: Some(quota.to_owned()),
                reason: None,
            },
            StoreError::IdempotencyKeyTaken => Self {
                code: Code::Conflict,
                message: "this idempotency key was used by another request that is still running; retry shortly".into(),
                field: Some("idempotencyKey".into()),
                reason: None,
            },
            StoreError::InvalidCursor => Self::bad_input(
                "after",
                "the cursor is not valid; use a cursor from a previous page of this list",
            ),
            StoreError::Unavailable(_) => {
                tracing::warn!(error = %error_chain(&err), "data store unavailable");
                Self::new(
                    Code::ServiceUnavailable,
                    "the data store is temporarily unavailable; retry shortly",
                )
            }
            StoreError::Internal(_) => {
                tracing::error!(error = %error_chain(&err), "internal store error");
                Self::new(Code::InternalServerError, INTERNAL_MESSAGE)
            }
        }
    }
}

/// Renders an error and all its sources on one line, for the logs.
pub fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code_of(err: StoreError) -> ApiError {
        ApiError::from(err)
    }

    #[test]
    fn store_errors_map_to_stable_codes() {
        let not_found = code_of(StoreError::NotFound {
            entity: "PricingTier",
            id: "x".into(),
        });
        assert_eq!(not_found.code, Code::NotFound);

        let conflict = code_of(StoreError::Conflict {
            field: Some("input.name"),
            message: "taken".into(),
        });
        assert_eq!(conflict.code, Code::Conflict);
        assert_eq!(conflict.field.as_deref(), Some("input.name"));

        let precondition = code_of(StoreError::FailedPrecondition("default".into()));
        assert_eq!(precondition.code, Code::FailedPrecondition);

        let at = code_of(StoreError::PreconditionAt {
            field: "email",
            message: "domain".into(),
        });
        assert_eq!(
            (at.code, at.field.as_deref()),
            (Code::FailedPrecondition, Some("email"))
        );

        let cursor = code_of(StoreError::InvalidCursor);
        assert_eq!(
            (cursor.code, cursor.field.as_deref()),
            (Code::BadUserInput, Some("after"))
        );
    }

    #[test]
    fn infrastructure_errors_hide_their_detail() {
        let secret_detail = "dispatch failure: connection refused to 10.1.2.3";
        let unavailable = code_of(StoreError::Unavailable(secret_detail.into()));
        assert_eq!(unavailable.code, Code::ServiceUnavailable);
        assert!(!unavailable.message.contains("10.1.2.3"));

        let internal = code_of(StoreError::Internal(secret_detail.into()));
        assert_eq!(internal.code, Code::InternalServerError);
        assert_eq!(internal.message, INTERNAL_MESSAGE);
    }

    #[test]
    fn input_errors_keep_their_field() {
        let err = ApiError::from(InvalidInput::new("currency", "bad").within("input"));
        assert_eq!(err.code, Code::BadUserInput);
        assert_eq!(err.field.as_deref(), Some("input.currency"));
    }

    #[test]
    fn the_graphql_error_carries_code_and_field() {
        let err: async_graphql::Error = ApiError::bad_input("input.name", "blank").into();
        let ext = serde_json::to_value(err.extensions.unwrap()).unwrap();
        assert_eq!(ext["code"], "BAD_USER_INPUT");
        assert_eq!(ext["field"], "input.name");
    }
}
