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
use aws_sdk_dynamodb::types::{
    AttributeValue, ConditionCheck, Delete, Put, TransactWriteItem, Update,
};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::codec::{Item, from_item, key, n, parse_timestamp, s, timestamp, to_item};
use super::error::{ensure_version, from_sdk};
use super::idempotency::IdempotencyKey;
use super::paging::fill_page;
use super::transaction::{TxError, backoff, transact};
use super::{Db, StoreError, audit, batch, cursor, keys, unique};
use crate::domain::InvalidInput;
use crate::domain::audit::{Change, EntityType};
use crate::domain::customer::search_key;
use crate::domain::page::{Page, PageRequest};
use crate::domain::user::{NewUser, User, UserProfile, UserStatus};

mod delete;

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

    /// Transaction items that create `user` with id `id`: the user (only if
    /// new), its email guard (always second) and its search terms. Part of
    /// the caller's transaction.
    pub(crate) fn create_items(
        db: &Db,
        id: Uuid,
        user: &NewUser,
    ) -> Result<Vec<TransactWriteItem>, StoreError> {
        let id_s = id.to_string();
        let (pk, sk) = keys::user(&id_s);
        let now = timestamp(Utc::now());
        let status = UserStatus::Active;
        let item = UserItem {
            pk,
            sk,
            entity: "User".into(),
            gsi1pk: Some(keys::ALL_USERS.into()),
            gsi1sk: Some(id_s.clone()),
            gsi2pk: Some(keys::users_with_status(status.as_str())),
            gsi2sk: Some(id_s.clone()),
            id: id_s.clone(),
            email: user.email.clone(),
            first_name: user.first_name.clone(),
            last_name: user.last_name.clone(),
            password_hash: user.password_hash.clone(),
            status,
            last_login_at: None,
            deleting: None,
            created_at: now.clone(),
            updated_at: now,
            version: 1,
        };
        let put = Put::builder()
            .table_name(db.table.as_ref())
            .set_item(Some(to_item(&item)?))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map_err(StoreError::internal)?;
        let mut items = vec![
            TransactWriteItem::builder().put(put).build(),
            unique::claim(db, EMAIL_KIND, &user.email, &id_s)?,
        ];
        for term in user.profile().search_terms() {
            items.push(term_put(db, &term, &id_s)?);
        }
        Ok(items)
    }

    /// Transaction item that requires user `id` to exist and not be in
    /// deletion.
    pub(crate) fn exists_check(db: &Db, id: Uuid) -> Result<TransactWriteItem, StoreError> {
        let check = ConditionCheck::builder()
            .table_name(db.table.as_ref())
            .set_key(Some(key(keys::user(&id.to_string()))))
            .condition_expression("attribute_exists(pk) AND attribute_not_exists(deleting)")
            .build()
            .map_err(StoreError::internal)?;
        Ok(TransactWriteItem::builder().condition_check(check).build())
    }

    /// Transaction item that requires user `id` to exist, not be in
    /// deletion and still have `email` (the one a rule was checked against).
    pub(crate) fn email_check(
        db: &Db,
        id: Uuid,
        email: &str,
    ) -> Result<TransactWriteItem, StoreError> {
        let check = ConditionCheck::builder()
            .table_name(db.table.as_ref())
            .set_key(Some(key(keys::user(&id.to_string()))))
            .condition_expression(
                "attribute_exists(pk) AND attribute_not_exists(deleting) AND email = :email",
            )
            .expression_attribute_values(":email", s(email))
            .build()
            .map_err(StoreError::internal)?;
        Ok(TransactWriteItem::builder().condition_check(check).build())
    }

    /// Creates a user on its own, as the system rather than a caller (for
    /// seeding); `CONFLICT` on `input.email` when the email is taken.
    pub async fn create(&self, user: &NewUser) -> Result<User, StoreError> {
        self.create_once(user, None, &Change::system("createUser"))
            .await
    }

    /// [`Self::create`], recording `idempotency` in the same transaction.
    pub async fn create_once(
        &self,
        user: &NewUser,
        idempotency: Option<&IdempotencyKey>,
        change: &Change,
    ) -> Result<User, StoreError> {
        let id = Uuid::now_v7();
        let mut items = Self::create_items(&self.db, id, user)?;
        items.push(audit::record(&self.db, change, EntityType::User, id, None)?);
        if let Some(key) = idempotency {
            items.push(key.claim(&self.db, &id.to_string())?);
        }
        let claim = items.len() - 1;
        match transact(&self.db, items).await {
            Ok(()) => {}
            Err(TxError::Store(err)) => return Err(err),
            Err(TxError::Cancelled(c)) if idempotency.is_some() && c.condition_failed(claim) => {
                return Err(StoreError::IdempotencyKeyTaken);
            }
            Err(TxError::Cancelled(_)) => return Err(email_taken(&user.email)),
        }
        self.get(id)
            .await?
            .ok_or_else(|| StoreError::internal("a user just created could not be read"))
    }

    /// Applies a profile patch: `apply` turns the current user into the new
    /// profile (validating it). A changed email moves its guard in the same
    /// transaction. With `expected_version`, fails with a conflict unless
    /// the user is at that version; without, a concurrent change is re-read
    /// and the patch applied again.
    pub async fn update(
        &self,
        id: Uuid,
        expected_version: Option<u64>,
        change: &Change,
        apply: impl Fn(&User) -> Result<UserProfile, InvalidInput>,
    ) -> Result<User, StoreError> {
        let id_s = id.to_string();
        for attempt in 0..WRITE_ATTEMPTS {
            if attempt > 0 {
                backoff(attempt).await;
            }
            let item = self.live_item(id).await?.ok_or_else(|| not_found(id))?;
            ensure_version("user", expected_version, item.version)?;
            let current = item.clone().into_domain()?;
            let old = item.profile();
            let new = apply(&current).map_err(StoreError::InvalidInput)?;
            if new == old {
                return Ok(current);
            }
            let update = Update::builder()
                .table_name(self.db.table.as_ref())
                .set_key(Some(key(keys::user(&id_s))))
                .update_expression(
                    "SET email = :email, firstName = :first, lastName = :last, \
                     updatedAt = :now, version = version + :one",
                )
                .condition_expression("version = :expected AND attribute_not_exists(deleting)")
                .expression_attribute_values(":email", s(new.email.clone()))
                .expression_attribute_values(":first", s(new.first_name.clone()))
                .expression_attribute_values(":last", s(new.last_name.clone()))
                .expression_attribute_values(":now", s(timestamp(Utc::now())))
                .expression_attribute_values(":one", n(1))
                .expression_attribute_values(":expected", n(item.version))
                .build()
                .map_err(StoreError::internal)?;
            let mut items = vec![
                TransactWriteItem::builder().update(update).build(),
                audit::record(&self.db, change, EntityType::User, id, None)?,
            ];
            let moves_email = unique::normalize(&new.email) != unique::normalize(&old.email);
            let claim_index = if moves_email {
                items.push(unique::release(&self.db, EMAIL_KIND, &old.email, &id_s)?);
                items.push(unique::claim(&self.db, EMAIL_KIND, &new.email, &id_s)?);
                Some(items.len() - 1)
            } else {
                None
            };
            let (old_terms, new_terms) = (old.search_terms(), new.search_terms());
            for term in old_terms.iter().filter(|t| !new_terms.contains(t)) {
                items.push(term_delete(&self.db, term, &id_s)?);
            }
            for term in new_terms.iter().filter(|t| !old_terms.contains(t)) {
                items.push(term_put(&self.db, term, &id_s)?);
            }
            match transact(&self.db, items).await {
                Ok(()) => return self.get(id).await?.ok_or_else(|| not_found(id)),
                Err(TxError::Store(err)) => return Err(err),
                Err(TxError::Cancelled(c)) => {
                    if claim_index.is_some_and(|i| c.condition_failed(i)) {
                        return Err(email_taken(&new.email));
                    }
                    if expected_version.is_some() && c.condition_failed(0) {
                        return Err(StoreError::Conflict {
                            field: Some("expectedVersion"),
                            message: "the user changed concurrently".into(),
                        });
                    }
                }
            }
        }
        Err(too_much_contention())
    }

    /// Conditionally updates one live user with `expression` (values
    /// `:now`, `:one` provided); `NotFound` when it is gone.
    async fn update_live(
        &self,
        id: Uuid,
        expression: &str,
        names: &[(&str, &str)],
        values: Vec<(&str, AttributeValue)>,
        change: &Change,
    ) -> Result<User, StoreError> {
        let mut update = Update::builder()
            .table_name(self.db.table.as_ref())
            .set_key(Some(key(keys::user(&id.to_string()))))
            .update_expression(expression)
            .condition_expression("attribute_exists(pk) AND attribute_not_exists(deleting)")
            .expression_attribute_values(":now", s(timestamp(Utc::now())))
            .expression_attribute_values(":one", n(1));
        for (name, value) in values {
            update = update.expression_attribute_values(name, value);
        }
        for (placeholder, name) in names {
            update = update.expression_attribute_names(*placeholder, *name);
        }
        let update = update.build().map_err(StoreError::internal)?;
        let event = audit::record(&self.db, change, EntityType::User, id, None)?;
        if !audit::update_recorded(&self.db, update, event).await? {
            return Err(not_found(id));
        }
        self.get(id).await?.ok_or_else(|| not_found(id))
    }

    /// Replaces the password hash (a new version; the hash is never read
    /// back through the API).
    pub async fn set_password_hash(
        &self,
        id: Uuid,
        hash: &str,
        change: &Change,
    ) -> Result<User, StoreError> {
        self.update_live(
            id,
            "SET passwordHash = :hash, updatedAt = :now, version = version + :one",
            &[],
            vec![(":hash", s(hash))],
            change,
        )
        .await
    }

    /// Enables or disables the user; asking for the current status changes
    /// nothing.
    pub async fn set_status(
        &self,
        id: Uuid,
        status: UserStatus,
        change: &Change,
    ) -> Result<User, StoreError> {
        let current = self.get(id).await?.ok_or_else(|| not_found(id))?;
        if current.status == status {
            return Ok(current);
        }
        self.update_live(
            id,
            "SET #status = :status, gsi2pk = :gsi2pk, updatedAt = :now, version = version + :one",
            &[("#status", "status")],
            vec![
                (":status", s(status.as_str())),
                (":gsi2pk", s(keys::users_with_status(status.as_str()))),
            ],
            change,
        )
        .await
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
        let mut start = match &page.after {
            Some(after) => {
                let parts = cursor::decode(after, 1)?;
                if !parts[0].starts_with(&prefix) {
                    return Err(StoreError::InvalidCursor);
                }
                Some(key((partition.clone(), parts[0].clone())))
            }
            None => None,
        };
        let wanted = usize::from(page.first) + 1;
        let read_limit = self.db.read_limit.max(wanted);
        let mut read = 0usize;
        let mut found: Vec<(User, String)> = Vec::new();
        let mut resume_cursor = None;
        loop {
            let batch = 100.min(read_limit - read);
            let output = self
                .db
                .client
                .query()
                .table_name(self.db.table.as_ref())
                .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
                .expression_attribute_values(":pk", s(partition.clone()))
                .expression_attribute_values(":prefix", s(prefix.clone()))
                .limit(i32::try_from(batch).unwrap_or(100))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(from_sdk)?;
            read += usize::try_from(output.scanned_count).unwrap_or(batch);
            let hits: Vec<(Uuid, String)> = output
                .items
                .unwrap_or_default()
                .into_iter()
                .filter_map(|mut item| {
                    let sk = item.remove("sk")?.as_s().ok()?.clone();
                    let id = item.remove("userId")?.as_s().ok()?.clone();
                    Some((Uuid::parse_str(&id).ok()?, sk))
                })
                .collect();
            let ids: Vec<Uuid> = hits.iter().map(|(id, _)| *id).collect();
            let mut users = self.get_many(&ids).await?;
            for (id, sk) in hits {
                if found.len() >= wanted {
                    break;
                }
                if found.iter().any(|(u, _)| u.id == id) {
                    continue;
                }
                if let Some(user) = users.remove(&id)
                    && status.is_none_or(|s| s == user.status)
                {
                    found.push((user, cursor::encode(&[&sk])));
                }
            }
            match output.last_evaluated_key {
                Some(last) if found.len() < wanted && read >= read_limit => {
                    resume_cursor = last
                        .get("sk")
                        .and_then(|v| v.as_s().ok())
                        .map(|sk| cursor::encode(&[sk]));
                    break;
                }
                Some(last) if found.len() < wanted => start = Some(last),
                _ => break,
            }
        }
        let has_next_page = found.len() > usize::from(page.first) || resume_cursor.is_some();
        found.truncate(usize::from(page.first));
        Ok(Page {
            items: found,
            has_next_page,
            resume_cursor,
        })
    }
}
