//! Creating and changing users: create (alone or as items of another
//! transaction), profile patches with the email guard moved in the same
//! transaction, password and status.

use aws_sdk_dynamodb::types::{AttributeValue, ConditionCheck, Put, TransactWriteItem, Update};
use chrono::Utc;
use uuid::Uuid;

use super::super::codec::{key, n, s, timestamp, to_item};
use super::super::error::ensure_version;
use super::super::idempotency::IdempotencyKey;
use super::super::transaction::{TxError, backoff, transact};
use super::super::{Db, StoreError, audit, keys, unique};
use super::{
    EMAIL_KIND, UserItem, Users, WRITE_ATTEMPTS, email_taken, not_found, term_delete, term_put,
    too_much_contention,
};
use crate::domain::InvalidInput;
use crate::domain::audit::{Change, EntityType};
use crate::domain::user::{NewUser, User, UserProfile, UserStatus};

impl Users {
    /// Transaction items that create `user` with id `id`: the user (only if
    /// new), its email guard (always second) and its search terms. Part of
    /// the caller's transaction.
    pub(crate) fn create_items(
        db: &Db,
        id: Uuid,
        user: &NewUser,
    ) -> Result<Vec<TransactWriteItem>, StoreError> {
        Self::create_items_owning(db, id, user, 0)
    }

    /// [`Self::create_items`] for a user created as the owner of `owned`
    /// customers (the one being created with it).
    pub(crate) fn create_items_owning(
        db: &Db,
        id: Uuid,
        user: &NewUser,
        owned: i64,
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
            owned_count: (owned > 0).then_some(owned),
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

    /// Transaction item: user `id` becomes the owner of one more customer.
    /// Requires it to exist, not be in deletion and, given `email`, still
    /// have it (the one a rule was checked against).
    pub(crate) fn owner_gained(
        db: &Db,
        id: Uuid,
        email: Option<&str>,
    ) -> Result<TransactWriteItem, StoreError> {
        let update = Update::builder()
            .table_name(db.table.as_ref())
            .set_key(Some(key(keys::user(&id.to_string()))))
            .update_expression("SET ownedCount = if_not_exists(ownedCount, :zero) + :one")
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":one", n(1));
        let update = match email {
            Some(email) => update
                .condition_expression(
                    "attribute_exists(pk) AND attribute_not_exists(deleting) AND email = :email",
                )
                .expression_attribute_values(":email", s(email)),
            None => update
                .condition_expression("attribute_exists(pk) AND attribute_not_exists(deleting)"),
        }
        .build()
        .map_err(StoreError::internal)?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    /// Transaction item: user `id` owns one customer fewer. A user from
    /// before counts were kept counts as owning this one. Its condition
    /// fails when the user is gone or its count is already zero (an
    /// ownership from before counts were kept): the caller then commits
    /// without this item, since there is nothing to lower.
    pub(crate) fn owner_lost(db: &Db, id: Uuid) -> Result<TransactWriteItem, StoreError> {
        let update = Update::builder()
            .table_name(db.table.as_ref())
            .set_key(Some(key(keys::user(&id.to_string()))))
            .update_expression("SET ownedCount = if_not_exists(ownedCount, :one) - :one")
            .condition_expression(
                "attribute_exists(pk) AND (attribute_not_exists(ownedCount) OR ownedCount > :zero)",
            )
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":zero", n(0))
            .build()
            .map_err(StoreError::internal)?;
        Ok(TransactWriteItem::builder().update(update).build())
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
            Err(TxError::Cancelled(_)) => {
                return Err(self
                    .held_by_interrupted_deletion(&user.email)
                    .await?
                    .unwrap_or_else(|| email_taken(&user.email)));
            }
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
                        return Err(self
                            .held_by_interrupted_deletion(&new.email)
                            .await?
                            .unwrap_or_else(|| email_taken(&new.email)));
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
}

impl Users {
    /// Records that user `id` signed in now, with a token issued at `iat`
    /// (seconds): only while its recorded sign-in is older than that token,
    /// so a token is recorded once however many requests carry it.
    /// Bookkeeping: the version stays. A sign-in recorded meanwhile by a
    /// concurrent request is no error.
    pub async fn record_sign_in(&self, id: Uuid, iat: i64) -> Result<(), StoreError> {
        let issued = chrono::DateTime::from_timestamp(iat, 0).unwrap_or_default();
        let result = self
            .db
            .client
            .update_item()
            .table_name(self.db.table.as_ref())
            .set_key(Some(key(keys::user(&id.to_string()))))
            .update_expression("SET lastLoginAt = :now")
            .condition_expression(
                "attribute_exists(pk) AND (attribute_not_exists(lastLoginAt) OR lastLoginAt < :issued)",
            )
            .expression_attribute_values(":now", s(timestamp(Utc::now())))
            .expression_attribute_values(":issued", s(timestamp(issued)))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(err)
                if err.as_service_error().is_some_and(
                    aws_sdk_dynamodb::operation::update_item::UpdateItemError::is_conditional_check_failed_exception,
                ) =>
            {
                Ok(())
            }
            Err(err) => Err(super::super::error::from_sdk(err)),
        }
    }
}
