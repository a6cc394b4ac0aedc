//! Users in DynamoDB. The email is unique among users through a guard item;
//! the password hash is stored here and nowhere else, and never leaves this
//! module.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{ConditionCheck, Put, TransactWriteItem};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::codec::{Item, from_item, key, parse_timestamp, timestamp, to_item};
use super::error::from_sdk;
use super::transaction::{TxError, transact};
use super::{Db, StoreError, batch, keys, unique};
use crate::domain::user::{NewUser, User};

/// Kind of the guard that makes user emails unique.
pub(crate) const EMAIL_KIND: &str = "USER_EMAIL";

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct UserItem {
    pk: String,
    sk: String,
    entity: String,
    gsi1pk: String,
    gsi1sk: String,
    id: String,
    email: String,
    first_name: String,
    last_name: String,
    password_hash: String,
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
            created_at: parse_timestamp(&self.created_at)?,
            updated_at: parse_timestamp(&self.updated_at)?,
            version: self.version,
        })
    }
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

    /// The user with `id`, or `None`.
    pub async fn get(&self, id: Uuid) -> Result<Option<User>, StoreError> {
        Ok(self.get_many(&[id]).await?.remove(&id))
    }

    /// The users with these ids, in one round trip per hundred.
    pub async fn get_many(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, User>, StoreError> {
        let keys = ids
            .iter()
            .map(|id| key(keys::user(&id.to_string())))
            .collect();
        batch::get_all(&self.db, keys)
            .await?
            .into_iter()
            .map(|item| {
                let user = from_item::<UserItem>(item)?.into_domain()?;
                Ok((user.id, user))
            })
            .collect()
    }

    /// The id of the user with this email (case-insensitive), if any.
    pub async fn id_by_email(&self, email: &str) -> Result<Option<Uuid>, StoreError> {
        unique::owner_of(&self.db, EMAIL_KIND, email).await
    }

    /// Transaction items that create `user` with id `id`: the user (only if
    /// new) and its email guard. Part of the caller's transaction.
    pub(crate) fn create_items(
        db: &Db,
        id: Uuid,
        user: &NewUser,
    ) -> Result<[TransactWriteItem; 2], StoreError> {
        let id_s = id.to_string();
        let (pk, sk) = keys::user(&id_s);
        let now = timestamp(Utc::now());
        let item = UserItem {
            pk,
            sk,
            entity: "User".into(),
            gsi1pk: keys::ALL_USERS.into(),
            gsi1sk: id_s.clone(),
            id: id_s.clone(),
            email: user.email.clone(),
            first_name: user.first_name.clone(),
            last_name: user.last_name.clone(),
            password_hash: user.password_hash.clone(),
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
        Ok([
            TransactWriteItem::builder().put(put).build(),
            unique::claim(db, EMAIL_KIND, &user.email, &id_s)?,
        ])
    }

    /// Transaction item that requires user `id` to exist.
    pub(crate) fn exists_check(db: &Db, id: Uuid) -> Result<TransactWriteItem, StoreError> {
        let check = ConditionCheck::builder()
            .table_name(db.table.as_ref())
            .set_key(Some(key(keys::user(&id.to_string()))))
            .condition_expression("attribute_exists(pk)")
            .build()
            .map_err(StoreError::internal)?;
        Ok(TransactWriteItem::builder().condition_check(check).build())
    }

    /// Creates a user on its own; `CONFLICT` on `input.email` when the
    /// email is taken.
    pub async fn create(&self, user: &NewUser) -> Result<User, StoreError> {
        let id = Uuid::now_v7();
        match transact(&self.db, Self::create_items(&self.db, id, user)?.to_vec()).await {
            Ok(()) => {}
            Err(TxError::Store(err)) => return Err(err),
            Err(TxError::Cancelled(_)) => {
                return Err(StoreError::Conflict {
                    field: Some("input.email"),
                    message: format!("a user with email `{}` already exists", user.email),
                });
            }
        }
        self.get(id)
            .await?
            .ok_or_else(|| StoreError::internal("a user just created could not be read"))
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
}
