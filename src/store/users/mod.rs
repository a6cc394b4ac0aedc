//! Users in DynamoDB.
//!
//! Invariants and how they hold under concurrency:
//! - **Unique email** (case-insensitive): a guard item claimed and released
//!   in the same transaction as the user, also when an update moves it.
//! - **Search terms** (email, first and last name, for prefix search) are
//!   written and replaced in the user's own transactions, as customers' are.
//! - **Deletion** is refused while the user owns a customer and otherwise
//!   resumable: the user is first marked `deleting` (it stops resolving and
//!   can no longer join customers or become an owner), then each membership
//!   is removed with the role clearing of `removeCustomerUser`, and the user
//!   item with its guard and terms goes last.
//!
//! The password hash is stored here and nowhere else, and never leaves this
//! module except through [`Users::password_hash`].

use std::collections::HashMap;

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{Delete, Put, TransactWriteItem};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::codec::{Item, from_item, key, parse_timestamp, s};
use super::error::from_sdk;
use super::paging::fill_page;
use super::search::search_page;
use super::{Db, StoreError, batch, cursor, keys, unique};
use crate::domain::customer::search_key;
use crate::domain::page::{Page, PageRequest};
use crate::domain::user::{User, UserProfile, UserStatus};

mod delete;
mod write;

/// Kind of the guard that makes user emails unique.
pub(crate) const EMAIL_KIND: &str = "USER_EMAIL";
/// Attempts at an optimistic write before giving up with `CONFLICT`.
const WRITE_ATTEMPTS: u32 = 10;

fn active() -> UserStatus {
    UserStatus::Active
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct UserItem {
    pk: String,
    sk: String,
    entity: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    gsi1pk: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    gsi1sk: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    gsi2pk: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    gsi2sk: Option<String>,
    id: String,
    email: String,
    first_name: String,
    last_name: String,
    password_hash: String,
    #[serde(default = "active")]
    status: UserStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    last_login_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    deleting: Option<bool>,
    /// How many customers the user owns, moved in the same transactions as
    /// each customer's `ownerUserId`: the user's deletion is conditioned on
    /// it, since the index of its memberships can lag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    owned_count: Option<i64>,
    created_at: String,
    updated_at: String,
    version: u64,
}

impl UserItem {
    fn into_domain(self) -> Result<User, StoreError> {
        Ok(User {
            id: Uuid::parse_str(&self.id).map_err(StoreError::internal)?,
            email: self.email,
            first_name: self.first_name,
            last_name: self.last_name,
            status: self.status,
            last_login_at: self
                .last_login_at
                .as_deref()
                .map(parse_timestamp)
                .transpose()?,
            created_at: parse_timestamp(&self.created_at)?,
            updated_at: parse_timestamp(&self.updated_at)?,
            version: self.version,
        })
    }

    fn profile(&self) -> UserProfile {
        UserProfile {
            email: self.email.clone(),
            first_name: self.first_name.clone(),
            last_name: self.last_name.clone(),
        }
    }
}

/// Filters of `users(filter:)`; both optional, combined with AND.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserFilter {
    /// Only this status.
    pub status: Option<UserStatus>,
    /// Prefix of email, first or last name, already normalised with
    /// [`search_key`] and at least two characters long.
    pub search: Option<String>,
}

fn not_found(id: Uuid) -> StoreError {
    StoreError::NotFound {
        entity: "User",
        id: id.to_string(),
    }
}

fn email_taken(email: &str) -> StoreError {
    StoreError::Conflict {
        field: Some("input.email"),
        message: format!("a user with email `{email}` already exists"),
    }
}

fn too_much_contention() -> StoreError {
    StoreError::Conflict {
        field: None,
        message: "the user was being changed concurrently; try again".into(),
    }
}

fn condition_failed<R>(err: &SdkError<UpdateItemError, R>) -> bool {
    err.as_service_error()
        .is_some_and(UpdateItemError::is_conditional_check_failed_exception)
}

fn term_put(db: &Db, term: &str, id: &str) -> Result<TransactWriteItem, StoreError> {
    let mut item = key(keys::user_search_term(term, id));
    item.insert("entity".into(), s("UserSearchTerm"));
    item.insert("userId".into(), s(id));
    let put = Put::builder()
        .table_name(db.table.as_ref())
        .set_item(Some(item))
        .build()
        .map_err(StoreError::internal)?;
    Ok(TransactWriteItem::builder().put(put).build())
}

fn term_delete(db: &Db, term: &str, id: &str) -> Result<TransactWriteItem, StoreError> {
    let delete = Delete::builder()
        .table_name(db.table.as_ref())
        .set_key(Some(key(keys::user_search_term(term, id))))
        .build()
        .map_err(StoreError::internal)?;
    Ok(TransactWriteItem::builder().delete(delete).build())
}

/// Reads and writes users.
#[derive(Clone, Debug)]
pub struct Users {
    db: Db,
}

impl Users {
    pub(crate) fn new(db: Db) -> Self {
        Self { db }
    }

    async fn get_item(&self, id: Uuid) -> Result<Option<UserItem>, StoreError> {
        let output = self
            .db
            .client
            .get_item()
            .table_name(self.db.table.as_ref())
            .set_key(Some(key(keys::user(&id.to_string()))))
            .consistent_read(true)
            .send()
            .await
            .map_err(from_sdk)?;
        output.item.map(from_item).transpose()
    }

    async fn live_item(&self, id: Uuid) -> Result<Option<UserItem>, StoreError> {
        Ok(self.get_item(id).await?.filter(|i| i.deleting.is_none()))
    }

    /// The user with `id`, or `None` (also while it is being deleted).
    pub async fn get(&self, id: Uuid) -> Result<Option<User>, StoreError> {
        self.live_item(id)
            .await?
            .map(UserItem::into_domain)
            .transpose()
    }

    /// The users with these ids, in one round trip per hundred; missing or
    /// deleting users are left out.
    pub async fn get_many(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, User>, StoreError> {
        let keys = ids
            .iter()
            .map(|id| key(keys::user(&id.to_string())))
            .collect();
        let mut found = HashMap::new();
        for item in batch::get_all(&self.db, keys).await? {
            let item: UserItem = from_item(item)?;
            if item.deleting.is_none() {
                let user = item.into_domain()?;
                found.insert(user.id, user);
            }
        }
        Ok(found)
    }

    /// The id of the user with this email (case-insensitive), if any.
    pub async fn id_by_email(&self, email: &str) -> Result<Option<Uuid>, StoreError> {
        unique::owner_of(&self.db, EMAIL_KIND, email).await
    }

    /// The user with this email (case-insensitive), if any.
    pub async fn get_by_email(&self, email: &str) -> Result<Option<User>, StoreError> {
        match self.id_by_email(email).await? {
            Some(id) => self.get(id).await,
            None => Ok(None),
        }
    }

    /// The stored password hash of user `id`, for verifying a sign-in.
    pub async fn password_hash(&self, id: Uuid) -> Result<Option<String>, StoreError> {
        let output = self
            .db
            .client
            .get_item()
            .table_name(self.db.table.as_ref())
            .set_key(Some(key(keys::user(&id.to_string()))))
            .projection_expression("passwordHash")
            .consistent_read(true)
            .send()
            .await
            .map_err(from_sdk)?;
        Ok(output
            .item
            .and_then(|mut item: Item| item.remove("passwordHash"))
            .and_then(|v| v.as_s().ok().cloned()))
    }

    /// One page of users, newest first (in match order when searching),
    /// narrowed by `filter`.
    pub async fn list(
        &self,
        filter: &UserFilter,
        page: &PageRequest,
    ) -> Result<Page<User>, StoreError> {
        if let Some(search) = &filter.search {
            return self.search(search, filter.status, page).await;
        }
        let (index, pk_attr, sk_attr, partition) = match filter.status {
            Some(status) => (
                keys::GSI2,
                "gsi2pk",
                "gsi2sk",
                keys::users_with_status(status.as_str()),
            ),
            None => (keys::GSI1, "gsi1pk", "gsi1sk", keys::ALL_USERS.to_owned()),
        };
        let start = match &page.after {
            Some(after) => {
                let parts = cursor::decode(after, 1)?;
                Uuid::parse_str(&parts[0]).map_err(|_| StoreError::InvalidCursor)?;
                let mut start = key(keys::user(&parts[0]));
                start.insert(pk_attr.to_owned(), s(partition.clone()));
                start.insert(sk_attr.to_owned(), s(parts[0].clone()));
                Some(start)
            }
            None => None,
        };
        let query = self
            .db
            .client
            .query()
            .table_name(self.db.table.as_ref())
            .index_name(index)
            .key_condition_expression(format!("{pk_attr} = :pk"))
            .expression_attribute_values(":pk", s(partition))
            .scan_index_forward(false);
        let filled = fill_page::<UserItem>(query, start, page.first, 1, self.db.read_limit).await?;
        let has_next_page = filled.has_next_page;
        let resume_cursor = filled.resume_cursor(sk_attr);
        let items = filled
            .items
            .into_iter()
            .map(|item| {
                let cursor = cursor::encode(&[&item.id]);
                item.into_domain().map(|u| (u, cursor))
            })
            .collect::<Result<_, _>>()?;
        Ok(Page {
            items,
            has_next_page,
            resume_cursor,
        })
    }

    /// Prefix search over the users' search terms, in term order, reading
    /// at most the store's read limit of terms per page.
    async fn search(
        &self,
        text: &str,
        status: Option<UserStatus>,
        page: &PageRequest,
    ) -> Result<Page<User>, StoreError> {
        let prefix = search_key(text);
        let partition = keys::user_search_partition(&prefix);
        search_page(
            &self.db,
            partition,
            &prefix,
            "userId",
            page,
            |ids| async move { self.get_many(&ids).await },
            |user| status.is_none_or(|s| s == user.status),
        )
        .await
    }
}
