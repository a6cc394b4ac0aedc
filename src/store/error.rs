//! Errors of the store layer.
//!
//! Policy: a condition that failed becomes a precise, client-meaningful
//! variant (`Conflict` naming the field, `NotFound`, `FailedPrecondition`);
//! anything else from the SDK is classified as `Unavailable` (network,
//! throttling, DynamoDB 5xx: worth retrying) or `Internal` (a bug or a
//! misconfiguration). The SDK error is kept as the source for the logs and
//! never reaches a client.

use std::error::Error as StdError;

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};

type Source = Box<dyn StdError + Send + Sync>;

/// What can go wrong when reading or writing the table.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The item to change does not exist.
    #[error("{entity} `{id}` was not found")]
    NotFound {
        /// Kind of entity, as the API names it.
        entity: &'static str,
        /// The identifier that was looked up.
        id: String,
    },
    /// A uniqueness or version condition failed, or concurrent writes kept
    /// colliding.
    #[error("{message}")]
    Conflict {
        /// The input field whose value collided (`input.name`,
        /// `expectedVersion`), when one field is to blame.
        field: Option<&'static str>,
        /// What collided.
        message: String,
    },
    /// The input refers to something that does not qualify (a role user who
    /// is not a member), or broke a rule checked against stored data.
    #[error("{0}")]
    InvalidInput(crate::domain::InvalidInput),
    /// The write is not allowed in the current state of the data.
    #[error("{0}")]
    FailedPrecondition(String),
    /// An idempotency key is already recorded: another call with it created
    /// (or is creating) the entity; read it with
    /// [`super::idempotency::Idempotency::recorded`].
    #[error("the idempotency key was used already")]
    IdempotencyKeyTaken,
    /// Like [`StoreError::FailedPrecondition`], with the input field whose
    /// value the state refuses (a user whose email domain a customer does
    /// not accept: `userId`, `email`).
    #[error("{message}")]
    PreconditionAt {
        /// The input field at fault.
        field: &'static str,
        /// What the state does not allow.
        message: String,
    },
    /// An invitation to a user who already has an account was presented
    /// without that user's sign-in: only the user may accept it.
    #[error("{0}")]
    SignInRequired(String),
    /// A quota the platform set on a customer would be exceeded.
    #[error("{message}")]
    QuotaExceeded {
        /// The quota, as the API names it (`maxAccounts`).
        quota: &'static str,
        /// What would exceed it.
        message: String,
    },
    /// A pagination cursor that this service did not issue.
    #[error("the cursor is not valid")]
    InvalidCursor,
    /// DynamoDB cannot be reached or is throttling; the client may retry.
    #[error("the data store is temporarily unavailable")]
    Unavailable(#[source] Source),
    /// A fault that retrying will not fix.
    #[error("internal store error")]
    Internal(#[source] Source),
}

impl StoreError {
    /// An internal error carrying `detail` for the logs.
    pub(crate) fn internal(detail: impl Into<Source>) -> Self {
        Self::Internal(detail.into())
    }
}

/// Fails with a conflict on `expectedVersion` when the client expected a
/// version other than the stored one.
pub(crate) fn ensure_version(
    entity: &str,
    expected: Option<u64>,
    actual: u64,
) -> Result<(), StoreError> {
    match expected {
        Some(expected) if expected != actual => Err(StoreError::Conflict {
            field: Some("expectedVersion"),
            message: format!(
                "expected version {expected}, but the {entity} is at version {actual}"
            ),
        }),
        _ => Ok(()),
    }
}

/// Error codes DynamoDB uses for throttling and transient server faults,
/// and for a plain write that met an item a transaction holds at that
/// moment (`TransactionConflictException`): each passes if tried again.
const TRANSIENT_CODES: &[&str] = &[
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
    "LimitExceededException",
    "TransactionConflictException",
];

/// Classifies an SDK error as unavailable (transient) or internal.
pub(crate) fn from_sdk<E, R>(err: SdkError<E, R>) -> StoreError
where
    E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    let transient = match &err {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            true
        }
        SdkError::ServiceError(ctx) => ctx
            .err()
            .code()
            .is_some_and(|code| TRANSIENT_CODES.contains(&code)),
        _ => false,
    };
    let source: Source = Box::new(err);
    if transient {
        StoreError::Unavailable(source)
    } else {
        StoreError::Internal(source)
    }
}
