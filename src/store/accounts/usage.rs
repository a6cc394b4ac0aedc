//! The customer's usage counters an account write moves, and the quotas
//! they are checked against (`domain::customer::quotas`): one update of
//! the customer item inside the account's own transaction, so concurrent
//! creates and purchases cannot overshoot a quota.
//!
//! DynamoDB conditions have no arithmetic, so "total + added ≤ quota" is
//! written as "total ≤ quota − added" with the quota as read, and the
//! quota itself is required to be unchanged; a quota changed meanwhile
//! fails the condition and the caller reads again.

use std::fmt::Write as _;

use aws_sdk_dynamodb::types::{ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update};

use super::super::codec::{Item, key, n, s};
use super::super::{Db, StoreError, keys};
use crate::domain::customer::quotas::Quotas;

/// How an account write changes the customer's usage.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct UsageChange {
    /// +1 for a new account, −1 for a deleted one, 0 otherwise.
    pub accounts: i64,
    /// Change of purchased calls per second.
    pub cps: i64,
    /// Change of purchased concurrent calls.
    pub calls: i64,
}

impl UsageChange {
    /// Whether the change adds to a quota's usage (and so needs the
    /// quotas read first, for purchases).
    pub fn grows_purchases(self) -> bool {
        self.cps > 0 || self.calls > 0
    }
}

/// The purchase dimensions: (attribute of the total, attribute of the quota,
/// quota's API name, value placeholder prefix).
const PURCHASES: [(&str, &str, &str, &str); 2] = [
    (
        "purchasedCpsTotal",
        "maxPurchasedCps",
        "maxPurchasedCps",
        "cps",
    ),
    (
        "purchasedConcurrentCallsTotal",
        "maxPurchasedConcurrentCalls",
        "maxPurchasedConcurrentCalls",
        "calls",
    ),
];

fn quota_of(quotas: &Quotas, attribute: &str) -> Option<u32> {
    match attribute {
        "maxPurchasedCps" => quotas.max_purchased_cps,
        _ => quotas.max_purchased_concurrent_calls,
    }
}

/// The customer update for `change`, conditioned on the customer being
/// there and not being deleted (and `ACTIVE` when `require_active`), and
/// on every quota the change grows: `maxAccounts` for a new account, and
/// the purchase quotas as `quotas` had them. A purchase beyond a quota as
/// read is refused at once.
pub(super) fn customer_update(
    db: &Db,
    customer_id: &str,
    change: UsageChange,
    quotas: &Quotas,
    require_active: bool,
) -> Result<TransactWriteItem, StoreError> {
    let mut set = vec!["accountCount = if_not_exists(accountCount, :zero) + :accounts".to_owned()];
    let mut condition = "attribute_exists(pk) AND attribute_not_exists(deleting)".to_owned();
    let mut update = Update::builder()
        .table_name(db.table.as_ref())
        .set_key(Some(key(keys::customer(customer_id))))
        .expression_attribute_values(":zero", n(0))
        .expression_attribute_values(":accounts", n(change.accounts))
        .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
    if require_active {
        condition.push_str(" AND #status = :active");
        update = update
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":active", s("ACTIVE"));
    }
    if change.accounts > 0 {
        condition.push_str(
            " AND (attribute_not_exists(maxAccounts) \
             OR (attribute_not_exists(accountCount) AND maxAccounts > :zero) \
             OR accountCount < maxAccounts)",
        );
    }
    for ((total, quota, name, tag), delta) in PURCHASES.into_iter().zip([change.cps, change.calls])
    {
        if delta == 0 {
            continue;
        }
        set.push(format!("{total} = if_not_exists({total}, :zero) + :{tag}"));
        update = update.expression_attribute_values(format!(":{tag}"), n(delta));
        if delta < 0 {
            continue;
        }
        match quota_of(quotas, quota) {
            None => {
                let _ = write!(condition, " AND attribute_not_exists({quota})");
            }
            Some(max) => {
                let room = i64::from(max) - delta;
                if room < 0 {
                    return Err(purchase_quota_reached(name, max));
                }
                let _ = write!(
                    condition,
                    " AND {quota} = :{tag}Max AND (attribute_not_exists({total}) OR {total} <= :{tag}Room)"
                );
                update = update
                    .expression_attribute_values(format!(":{tag}Max"), n(max))
                    .expression_attribute_values(format!(":{tag}Room"), n(room));
            }
        }
    }
    let update = update
        .update_expression(format!("SET {}", set.join(", ")))
        .condition_expression(condition)
        .build()
        .map_err(StoreError::internal)?;
    Ok(TransactWriteItem::builder().update(update).build())
}

fn number(item: &Item, name: &str) -> Option<i64> {
    item.get(name)
        .and_then(|v| v.as_n().ok())
        .and_then(|v| v.parse().ok())
}

fn purchase_quota_reached(name: &'static str, max: impl std::fmt::Display) -> StoreError {
    StoreError::QuotaExceeded {
        quota: name,
        message: format!(
            "the customer's accounts may purchase at most {max} in total ({name}); the platform can raise it"
        ),
    }
}

/// The quota `change` would exceed on the customer item as it was, if
/// that is why the update failed (else the caller explains it otherwise,
/// or reads again when the quota merely changed since it was read).
pub(super) fn quota_refusal(old: Option<&Item>, change: UsageChange) -> Option<StoreError> {
    let item = old?;
    if change.accounts > 0
        && let Some(max) = number(item, "maxAccounts")
        && number(item, "accountCount").unwrap_or(0) >= max
    {
        return Some(StoreError::QuotaExceeded {
            quota: "maxAccounts",
            message: format!(
                "the customer has reached its quota of {max} accounts (maxAccounts); the platform can raise it"
            ),
        });
    }
    for ((total, quota, name, _), delta) in PURCHASES.into_iter().zip([change.cps, change.calls]) {
        if delta > 0
            && let Some(max) = number(item, quota)
            && number(item, total).unwrap_or(0) + delta > max
        {
            return Some(purchase_quota_reached(name, max));
        }
    }
    None
}

/// The usage an account's purchases count for.
pub(super) fn purchases(profile: &crate::domain::account::AccountProfile) -> (i64, i64) {
    (
        i64::from(profile.purchased_cps),
        i64::from(profile.purchased_concurrent_calls),
    )
}
