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
