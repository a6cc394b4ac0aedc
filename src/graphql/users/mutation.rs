//! User mutations; platform admins only. (Members are managed per customer
//! in `members.rs`.)

use crate::graphql::{audit, idempotency};
use crate::store::StoreError;
use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object};

use super::types::{UserNode, UserStatus, store};
use crate::domain::InvalidInput;
use crate::domain::error::AtField;
use crate::domain::password::Password;
use crate::domain::user::{NewUser, UserDraft, UserProfile};
use crate::graphql::error::ApiError;
use crate::graphql::guard::AdminGuard;
use crate::graphql::input::{non_null, parse_expected_version, parse_id};

/// A new user.
#[derive(InputObject)]
pub struct CreateUserInput {
    /// Sign-in email, unique among users (case-insensitive).
    email: String,
    /// First name (1–100 characters).
    first_name: String,
    /// Last name (1–100 characters).
    last_name: String,
    /// At least 12 characters; stored only as an Argon2id hash.
    password: String,
}

/// Changes to a user; omitted fields stay as they are.
#[derive(InputObject, Clone)]
pub struct UpdateUserInput {
    /// New email, unique among users.
    email: MaybeUndefined<String>,
    /// New first name.
    first_name: MaybeUndefined<String>,
    /// New last name.
    last_name: MaybeUndefined<String>,
}

impl UpdateUserInput {
    fn apply(self, d: &mut UserDraft) -> Result<(), ApiError> {
        if let Some(v) = non_null(self.email, "input.email")? {
            d.email = v;
        }
        if let Some(v) = non_null(self.first_name, "input.firstName")? {
            d.first_name = v;
        }
        if let Some(v) = non_null(self.last_name, "input.lastName")? {
            d.last_name = v;
        }
        Ok(())
    }
}

/// Hashes a password off the async executor (Argon2id is deliberately slow:
/// about 19 MiB and tens of milliseconds of one core each). At most one
/// hash per core runs at once, so a burst of password changes or
/// invitation accepts queues instead of taking every core and hundreds of
/// megabytes; a caller that waits longer than [`HASH_QUEUE_WAIT`] gets a
/// retryable `SERVICE_UNAVAILABLE`.
pub async fn hash_password(password: Password) -> Result<String, ApiError> {
    static HASHING: std::sync::LazyLock<tokio::sync::Semaphore> = std::sync::LazyLock::new(|| {
        tokio::sync::Semaphore::new(std::thread::available_parallelism().map_or(1, usize::from))
    });
    let permit = tokio::time::timeout(HASH_QUEUE_WAIT, HASHING.acquire())
        .await
        .map_err(|_| {
            ApiError::new(
                super::super::error::Code::ServiceUnavailable,
                "too many passwords are being hashed right now; try again",
            )
        })?
        .map_err(ApiError::internal)?;
    crate::metrics::record_password_hash();
    // The permit goes with the hash, not the request: a request dropped
    // mid-hash (its deadline passed) leaves the hash running, which still
    // holds its core.
    tokio::task::spawn_blocking(move || {
        let _permit = permit;
        password.hash()
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(ApiError::internal)
}

/// Longest a password hash waits for a free core.
pub const HASH_QUEUE_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// User mutations; platform admins only.
#[derive(Default)]
pub struct UserMutation;

#[Object]
impl UserMutation {
    /// Creates an ACTIVE user. `CONFLICT` on `input.email` when the email
    /// is taken.
    #[graphql(guard = "AdminGuard")]
    async fn create_user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The values to use; see the input type for each field and its rules.")]
        input: CreateUserInput,
        #[graphql(
            desc = "Makes a retry safe: a repeated call with this key (1 to 64 characters, scoped to the caller, remembered 24 hours) and the same arguments returns the first result instead of creating again; with other arguments it is `CONFLICT`."
        )]
        idempotency_key: Option<String>,
    ) -> Result<UserNode, ApiError> {
        let key = idempotency::key(ctx, idempotency_key, "createUser")?;
        let profile = UserProfile::parse(&UserDraft {
            email: input.email,
            first_name: input.first_name,
            last_name: input.last_name,
        })
        .map_err(|e| e.within("input"))?;
        let password = Password::parse(input.password)
            .at_field("password")
            .map_err(|e| e.within("input"))?;
        let users = store(ctx).users();
        let change = audit::change(ctx)?;
        let create = async {
            let password_hash = hash_password(password)
                .await
                .map_err(|err| StoreError::internal(err.message))?;
            let new = NewUser {
                email: profile.email,
                first_name: profile.first_name,
                last_name: profile.last_name,
                password_hash,
            };
            users.create_once(&new, key.as_ref(), &change).await
        };
        let (user, _) = Box::pin(idempotency::once(ctx, key.as_ref(), create, |id| {
            users.get(id)
        }))
        .await?;
        Ok(UserNode(user))
    }

    /// Changes the fields given in `input`; a new email must be free. With
    /// `expectedVersion`, fails with `CONFLICT` unless the user is still at
    /// that version.
    #[graphql(guard = "AdminGuard")]
    async fn update_user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The id (UUID) of the user.")] id: ID,
        #[graphql(desc = "The values to use; see the input type for each field and its rules.")]
        input: UpdateUserInput,
        #[graphql(
            desc = "Fail with `CONFLICT` unless the entity is still at this `version` (no lost updates)."
        )]
        expected_version: Option<i32>,
    ) -> Result<UserNode, ApiError> {
        let id = parse_id(&id, "id")?;
        let expected = parse_expected_version(expected_version)?;
        let mut probe = UserDraft::default();
        input.clone().apply(&mut probe)?;
        let user = store(ctx)
            .users()
            .update(id, expected, &audit::change(ctx)?, |current| {
                let mut draft = UserDraft::from(&current.profile());
                input
                    .clone()
                    .apply(&mut draft)
                    .map_err(|e| InvalidInput::new(e.field.unwrap_or_default(), e.message))?;
                UserProfile::parse(&draft).map_err(|e| e.within("input"))
            })
            .await?;
        Ok(UserNode(user))
    }

    /// Replaces the user's password (at least 12 characters).
    #[graphql(guard = "AdminGuard")]
    async fn set_user_password(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The id (UUID) of the user.")] id: ID,
        #[graphql(desc = "The new password (Argon2id-hashed; never stored or shown as given).")]
        password: String,
    ) -> Result<UserNode, ApiError> {
        let id = parse_id(&id, "id")?;
        let password = Password::parse(password).at_field("password")?;
        let hash = hash_password(password).await?;
        Ok(UserNode(
            store(ctx)
                .users()
                .set_password_hash(id, &hash, &audit::change(ctx)?)
                .await?,
        ))
    }

    /// Enables or disables the user. A disabled user's tokens are refused
    /// at once; its memberships stay.
    #[graphql(guard = "AdminGuard")]
    async fn set_user_status(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The id (UUID) of the user.")] id: ID,
        #[graphql(desc = "The status to move to (or, for a list, the only status to list).")]
        status: UserStatus,
    ) -> Result<UserNode, ApiError> {
        let id = parse_id(&id, "id")?;
        Ok(UserNode(
            store(ctx)
                .users()
                .set_status(id, status.into(), &audit::change(ctx)?)
                .await?,
        ))
    }

    /// Deletes the user with its memberships, clearing every customer role
    /// that named it, and returns its id. `FAILED_PRECONDITION` while it
    /// owns a customer (transfer the ownership first). Safe to retry.
    #[graphql(guard = "AdminGuard")]
    async fn delete_user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The id (UUID) of the user.")] id: ID,
    ) -> Result<ID, ApiError> {
        let uuid = parse_id(&id, "id")?;
        store(ctx)
            .users()
            .delete(uuid, &audit::change(ctx)?)
            .await?;
        Ok(ID(uuid.to_string()))
    }
}
