//! Deleting a user: refused while it owns a customer; otherwise marked
//! first (it stops resolving and can no longer join a customer or become an
//! owner), its memberships removed with role clearing, and the user item
//! with its email guard and search terms last. Every step is idempotent,
//! so a retry after a crash at any point finishes the job.

use aws_sdk_dynamodb::types::{AttributeValue, Delete, TransactWriteItem};
use uuid::Uuid;

use super::{EMAIL_KIND, Users, condition_failed, not_found, term_delete};
use crate::domain::audit::{Change, EntityType};
use crate::store::codec::{key, s};
use crate::store::error::from_sdk;
use crate::store::memberships::{MemberRole, Memberships};
use crate::store::transaction::{TxError, transact};
use crate::store::{StoreError, audit, keys, unique};

impl Users {
    /// Deletes a user that owns no customer: its memberships (clearing every
    /// role that named it), then the user with its email guard and search
    /// terms. `FAILED_PRECONDITION` while it owns a customer. Safe to retry
    /// after a failure at any point.
    pub async fn delete(&self, id: Uuid, change: &Change) -> Result<(), StoreError> {
        let memberships = Memberships::new(self.db.clone());
        let Some(item) = self.get_item(id).await? else {
            return Err(not_found(id));
        };
        let owned = memberships.customers_of(id).await?;
        if item.owned_count.unwrap_or(0) > 0
            || owned.iter().any(|(_, role)| *role == MemberRole::Owner)
        {
            return Err(owner_refusal());
        }
        let id_s = id.to_string();
        // Once marked, the user can neither join a customer nor become an
        // owner (both check `deleting` in their transactions), so what is
        // found below is complete.
        let marked = self
            .db
            .client
            .update_item()
            .table_name(self.db.table.as_ref())
            .set_key(Some(key(keys::user(&id_s))))
            .update_expression("SET deleting = :true REMOVE gsi1pk, gsi1sk, gsi2pk, gsi2sk")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":true", AttributeValue::Bool(true))
            .send()
            .await;
        match marked {
            Ok(_) => {}
            Err(err) if condition_failed(&err) => return Err(not_found(id)),
            Err(err) => return Err(from_sdk(err)),
        }
        for (customer_id, _) in memberships.customers_of(id).await? {
            match memberships.remove_for_deletion(customer_id, id).await {
                Ok(()) => {}
                Err(StoreError::FailedPrecondition(_)) => {
                    self.unmark(id).await?;
                    return Err(owner_refusal());
                }
                Err(err) => return Err(err),
            }
        }
        // Owning no customer, by the count the ownership transactions keep
        // on the user itself: the memberships index read above can lag an
        // ownership committed just before the mark.
        let delete = Delete::builder()
            .table_name(self.db.table.as_ref())
            .set_key(Some(key(keys::user(&id_s))))
            .condition_expression(
                "deleting = :true AND (attribute_not_exists(ownedCount) OR ownedCount <= :zero)",
            )
            .expression_attribute_values(":true", AttributeValue::Bool(true))
            .expression_attribute_values(":zero", AttributeValue::N("0".into()))
            .build()
            .map_err(StoreError::internal)?;
        let mut items = vec![
            TransactWriteItem::builder().delete(delete).build(),
            unique::release(&self.db, EMAIL_KIND, &item.email, &id_s)?,
            audit::record(&self.db, change, EntityType::User, id, None)?,
        ];
        for term in item.profile().search_terms() {
            items.push(term_delete(&self.db, &term, &id_s)?);
        }
        match transact(&self.db, items).await {
            Ok(()) => Ok(()),
            Err(TxError::Store(err)) => Err(err),
            Err(TxError::Cancelled(_)) => match self.get_item(id).await? {
                // A concurrent call finished the deletion first: done.
                None => Ok(()),
                // It became an owner just before the mark.
                Some(now) if now.owned_count.unwrap_or(0) > 0 => {
                    self.unmark(id).await?;
                    Err(owner_refusal())
                }
                Some(_) => Err(StoreError::internal(format!(
                    "user {id_s}: the final delete of the item and its guard failed its conditions"
                ))),
            },
        }
    }

    /// The refusal to give when `email` is still reserved by a user whose
    /// deletion was interrupted (a crash or timeout after the mark): such a
    /// user no longer resolves, so without its id in the message nobody
    /// could finish the deletion and free the email. `None` when the email
    /// is free or held by a live user.
    pub(crate) async fn held_by_interrupted_deletion(
        &self,
        email: &str,
    ) -> Result<Option<StoreError>, StoreError> {
        let Some(holder) = unique::owner_of(&self.db, EMAIL_KIND, email).await? else {
            return Ok(None);
        };
        let deleting = self
            .get_item(holder)
            .await?
            .is_some_and(|item| item.deleting.is_some());
        Ok(deleting.then(|| {
            StoreError::FailedPrecondition(format!(
                "the email `{email}` is still held by user {holder}, whose deletion was interrupted; \
                 finish it with deleteUser(id: \"{holder}\") and try again"
            ))
        }))
    }

    /// Undoes the deletion mark (the user turned out to own a customer).
    async fn unmark(&self, id: Uuid) -> Result<(), StoreError> {
        let id_s = id.to_string();
        let item = self.get_item(id).await?.ok_or_else(|| not_found(id))?;
        self.db
            .client
            .update_item()
            .table_name(self.db.table.as_ref())
            .set_key(Some(key(keys::user(&id_s))))
            .update_expression(
                "SET gsi1pk = :all, gsi1sk = :id, gsi2pk = :status, gsi2sk = :id REMOVE deleting",
            )
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":all", s(keys::ALL_USERS))
            .expression_attribute_values(":id", s(id_s.clone()))
            .expression_attribute_values(
                ":status",
                s(keys::users_with_status(item.status.as_str())),
            )
            .send()
            .await
            .map_err(from_sdk)?;
        Ok(())
    }
}

fn owner_refusal() -> StoreError {
    StoreError::FailedPrecondition("the user owns a customer; transfer the ownership first".into())
}
