//! Quotas: the limits the platform sets on a customer (seed: "Any customer
//! can have limits and quotas set on it … like the number of accounts"),
//! and what the customer uses of them.
//!
//! A quota is `None` when unlimited. The store enforces each one with a
//! condition on counters kept on the customer item, in the same
//! transaction that adds the account, the member or the purchased
//! capacity, so concurrent creates cannot overshoot. A quota set below
//! what is already used blocks growth and removes nothing.

use super::super::InvalidInput;

/// Largest value of a quota.
pub const MAX_QUOTA: u32 = 1_000_000;

/// The limits on one customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Quotas {
    /// Most accounts (masters and sub-accounts together).
    pub max_accounts: Option<u32>,
    /// Most members (users), the owner included.
    pub max_users: Option<u32>,
    /// Most calls per second its accounts may have purchased in total.
    pub max_purchased_cps: Option<u32>,
    /// Most concurrent calls its accounts may have purchased in total.
    pub max_purchased_concurrent_calls: Option<u32>,
}

/// What a customer uses of its quotas.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Usage {
    /// Accounts.
    pub accounts: u64,
    /// Members, the owner included.
    pub users: u64,
    /// Purchased calls per second over all accounts.
    pub purchased_cps: u64,
    /// Purchased concurrent calls over all accounts.
    pub purchased_concurrent_calls: u64,
}

/// A quota value from input: 0 to [`MAX_QUOTA`], at `field`.
pub fn parse_quota(value: Option<i64>, field: &str) -> Result<Option<u32>, InvalidInput> {
    match value {
        None => Ok(None),
        Some(v) => u32::try_from(v)
            .ok()
            .filter(|v| *v <= MAX_QUOTA)
            .map(Some)
            .ok_or_else(|| InvalidInput::new(field, format!("must be between 0 and {MAX_QUOTA}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotas_are_whole_numbers_within_bounds() {
        assert_eq!(parse_quota(None, "q").unwrap(), None);
        assert_eq!(parse_quota(Some(0), "q").unwrap(), Some(0));
        assert_eq!(parse_quota(Some(10), "q").unwrap(), Some(10));
        assert_eq!(parse_quota(Some(-1), "q").unwrap_err().field, "q");
        assert!(parse_quota(Some(i64::from(MAX_QUOTA) + 1), "q").is_err());
    }
}
