//! Key layout of the single table. Every key string is built here, so the
//! layout documented in `docs/data-model.md` has one source in code.

/// Partition key attribute of the table.
pub(crate) const PK: &str = "pk";
/// Sort key attribute of the table.
pub(crate) const SK: &str = "sk";
/// Name of the first global secondary index: every entity's main list.
pub(crate) const GSI1: &str = "gsi1";
/// Name of the second global secondary index: sparse filtered lists.
pub(crate) const GSI2: &str = "gsi2";
/// Name of the third global secondary index: a second filter dimension.
pub(crate) const GSI3: &str = "gsi3";

/// Partition and sort key attribute names of each index.
pub(crate) const INDEXES: [(&str, &str, &str); 3] = [
    (GSI1, "gsi1pk", "gsi1sk"),
    (GSI2, "gsi2pk", "gsi2sk"),
    (GSI3, "gsi3pk", "gsi3sk"),
];

/// Primary key of a pricing tier item.
pub(crate) fn pricing_tier(id: &str) -> (String, String) {
    (format!("PRICING_TIER#{id}"), "PRICING_TIER".to_owned())
}

/// GSI1 partition holding every pricing tier.
pub(crate) const ALL_PRICING_TIERS: &str = "PRICING_TIERS";
/// GSI2 partition holding only active pricing tiers (sparse).
pub(crate) const ACTIVE_PRICING_TIERS: &str = "PRICING_TIERS#ACTIVE";

/// Primary key of the item that names the default pricing tier.
pub(crate) fn default_pricing_tier() -> (String, String) {
    (
        "SINGLETON#DEFAULT_PRICING_TIER".to_owned(),
        "SINGLETON".to_owned(),
    )
}

/// Primary key of the guard item that reserves `value` for one owner among
/// all values of `kind` (e.g. a pricing tier name).
pub(crate) fn unique(kind: &str, value: &str) -> (String, String) {
    (format!("UNIQUE#{kind}#{value}"), "UNIQUE".to_owned())
}

/// Primary key of a user item.
pub(crate) fn user(id: &str) -> (String, String) {
    (format!("USER#{id}"), "USER".to_owned())
}

/// GSI1 partition holding every user.
pub(crate) const ALL_USERS: &str = "USERS";

/// Partition of a customer's item collection (the customer and its
/// memberships).
pub(crate) fn customer_partition(id: &str) -> String {
    format!("CUSTOMER#{id}")
}

/// Primary key of a customer item.
pub(crate) fn customer(id: &str) -> (String, String) {
    (customer_partition(id), "CUSTOMER".to_owned())
}

/// GSI1 partition holding every customer.
pub(crate) const ALL_CUSTOMERS: &str = "CUSTOMERS";

/// GSI1 partition of the customers whose deletion has started and not yet
/// finished (sparse: only they carry it), so operators can find and finish
/// a deletion a crash interrupted.
pub(crate) const DELETING_CUSTOMERS: &str = "CUSTOMERS#DELETING";

/// GSI2 partition of the customers with `status`.
pub(crate) fn customers_with_status(status: &str) -> String {
    format!("CUSTOMERS#STATUS#{status}")
}

/// GSI3 partition of the customers in `country`.
pub(crate) fn customers_in_country(country: &str) -> String {
    format!("CUSTOMERS#COUNTRY#{country}")
}

/// Sort-key prefix of memberships in a customer's collection.
pub(crate) const MEMBER_PREFIX: &str = "MEMBER#";

/// Primary key of a membership: user `user_id` in customer `customer_id`.
pub(crate) fn membership(customer_id: &str, user_id: &str) -> (String, String) {
    (
        customer_partition(customer_id),
        format!("{MEMBER_PREFIX}{user_id}"),
    )
}

/// GSI1 partition listing the customers a user belongs to.
pub(crate) fn user_memberships(user_id: &str) -> String {
    format!("USER#{user_id}#MEMBERSHIPS")
}

/// GSI1 partition listing a customer's accounts.
pub(crate) fn customer_accounts(customer_id: &str) -> String {
    format!("CUSTOMER#{customer_id}#ACCOUNTS")
}

/// Primary key of a search-term item: `term` (already normalised) of
/// customer `id`, in the partition of the term's first two characters.
pub(crate) fn customer_search_term(term: &str, id: &str) -> (String, String) {
    (customer_search_partition(term), format!("{term}#{id}"))
}

/// Partition of the search terms starting with the first two characters
/// of `text`.
pub(crate) fn customer_search_partition(text: &str) -> String {
    let head: String = text.chars().take(2).collect();
    format!("SEARCH#CUSTOMER#{head}")
}

/// Primary key of an account item.
pub(crate) fn account(id: &str) -> (String, String) {
    (format!("ACCOUNT#{id}"), "ACCOUNT".to_owned())
}

/// GSI3 partition holding every account (the unfiltered account list).
pub(crate) const ALL_ACCOUNTS: &str = "ACCOUNTS";

/// GSI2 partition listing the accounts on a pricing tier.
pub(crate) fn tier_accounts(tier_id: &str) -> String {
    format!("PRICING_TIER#{tier_id}#ACCOUNTS")
}
/// GSI2 partition of the users with `status`.
pub(crate) fn users_with_status(status: &str) -> String {
    format!("USERS#STATUS#{status}")
}

/// Primary key of a user search-term item: `term` (already normalised) of
/// user `id`, in the partition of the term's first two characters.
pub(crate) fn user_search_term(term: &str, id: &str) -> (String, String) {
    (user_search_partition(term), format!("{term}#{id}"))
}

/// Partition of the user search terms starting with the first two
/// characters of `text`.
pub(crate) fn user_search_partition(text: &str) -> String {
    let head: String = text.chars().take(2).collect();
    format!("SEARCH#USER#{head}")
}
/// Primary key of an invitation item.
pub(crate) fn invitation(id: &str) -> (String, String) {
    (format!("INVITATION#{id}"), "INVITATION".to_owned())
}

/// GSI1 partition listing a customer's invitations.
pub(crate) fn customer_invitations(customer_id: &str) -> String {
    format!("CUSTOMER#{customer_id}#INVITATIONS")
}

/// Primary key of the item that finds an invitation by the SHA-256 of its
/// token.
pub(crate) fn invitation_token(hash: &str) -> (String, String) {
    (
        format!("INVITATION_TOKEN#{hash}"),
        "INVITATION_TOKEN".to_owned(),
    )
}

/// Primary key of the pointer to the one pending invitation of a customer
/// for an email (normalised).
pub(crate) fn pending_invitation(customer_id: &str, email: &str) -> (String, String) {
    (
        format!("INVITATION_PENDING#{customer_id}#{email}"),
        "INVITATION_PENDING".to_owned(),
    )
}

/// The attribute DynamoDB's time to live reads (epoch seconds).
pub(crate) const TTL_ATTRIBUTE: &str = "ttl";
