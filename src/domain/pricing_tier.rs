//! Pricing tiers: the rate card accounts are billed on, and the maths of
//! what a call costs.

use chrono::{DateTime, Utc};
use rust_decimal::{Decimal, RoundingStrategy};
use uuid::Uuid;

use super::InvalidInput;
use super::currency::CurrencyCode;
use super::error::AtField;
use super::text::clean_text;

/// Longest tier name; names are shown in pickers and invoices.
pub const MAX_NAME_LEN: usize = 64;
/// Longest description.
pub const MAX_DESCRIPTION_LEN: usize = 500;
/// Largest rate per minute accepted, a guard against typos (`45` for `0.45`
/// is still possible, `4500000` is not).
pub const MAX_RATE_PER_MINUTE: Decimal = Decimal::from_parts(1_000_000, 0, 0, false, 0);
/// Most decimal places a rate may carry.
pub const MAX_RATE_SCALE: u32 = 8;
/// Longest billing increment: one hour.
pub const MAX_BILLING_INCREMENT_SECONDS: u32 = 3_600;
/// Longest minimum billable duration: one day.
pub const MAX_MINIMUM_DURATION_SECONDS: u32 = 86_400;
/// Decimal places of a computed call cost.
pub const COST_SCALE: u32 = 4;

/// A stored pricing tier, as the rest of the system sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PricingTier {
    /// Time-sortable identifier (UUIDv7).
    pub id: Uuid,
    /// Unique (case-insensitive) display name, e.g. `baseTier`.
    pub name: String,
    /// Optional notes for operators.
    pub description: Option<String>,
    /// Currency of `rate`.
    pub currency: CurrencyCode,
    /// How calls are priced.
    pub rate: Rate,
    /// Whether new accounts may be put on this tier.
    pub is_active: bool,
    /// Whether this is the tier new accounts get when none is named.
    pub is_default: bool,
    /// When the tier was created.
    pub created_at: DateTime<Utc>,
    /// When the tier last changed.
    pub updated_at: DateTime<Utc>,
    /// Optimistic-locking version, bumped by every write.
    pub version: u64,
}

/// The three numbers that price a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    /// Price of one minute of call time, in the tier's currency.
    pub per_minute: Decimal,
    /// Calls are billed in whole multiples of this many seconds (≥ 1).
    pub billing_increment_seconds: u32,
    /// Calls shorter than this are billed as this long (≥ 0).
    pub minimum_duration_seconds: u32,
}

impl Rate {
    /// What a call of `duration_seconds` costs: nothing for 0 seconds;
    /// otherwise the duration is raised to the minimum, rounded up to whole
    /// billing increments, priced per minute with exact decimal arithmetic and
    /// rounded to 4 places, half away from zero.
    pub fn call_cost(&self, duration_seconds: i64) -> Result<Decimal, InvalidInput> {
        let duration = u64::try_from(duration_seconds)
            .map_err(|_| InvalidInput::new("durationSeconds", "must not be negative"))?;
        if duration == 0 {
            return Ok(Decimal::new(0, COST_SCALE));
        }
        let increment = u64::from(self.billing_increment_seconds.max(1));
        let billable = duration.max(u64::from(self.minimum_duration_seconds));
        let billed_seconds = billable.div_ceil(increment) * increment;
        let cost = self.per_minute * Decimal::from(billed_seconds) / Decimal::from(60);
        let mut cost =
            cost.round_dp_with_strategy(COST_SCALE, RoundingStrategy::MidpointAwayFromZero);
        cost.rescale(COST_SCALE);
        Ok(cost)
    }
}

/// Checks a name: trimmed, 1 to 64 characters.
pub fn parse_name(raw: &str) -> Result<String, String> {
    clean_text(raw, 1, MAX_NAME_LEN)
}

/// Checks a description: trimmed, at most 500 characters; blank means none.
pub fn parse_description(raw: &str) -> Result<Option<String>, String> {
    let text = clean_text(raw, 0, MAX_DESCRIPTION_LEN)?;
    Ok((!text.is_empty()).then_some(text))
}

/// Checks a rate per minute: not negative, at most 1 000 000, at most eight
/// decimal places.
pub fn parse_rate_per_minute(value: Decimal) -> Result<Decimal, String> {
    if value.is_sign_negative() && !value.is_zero() {
        return Err("must not be negative".to_owned());
    }
    if value > MAX_RATE_PER_MINUTE {
        return Err(format!("must be at most {MAX_RATE_PER_MINUTE}"));
    }
    if value.normalize().scale() > MAX_RATE_SCALE {
        return Err(format!("must have at most {MAX_RATE_SCALE} decimal places"));
    }
    Ok(value.abs())
}

/// Checks a billing increment: 1 to 3600 seconds.
pub fn parse_billing_increment(value: i32) -> Result<u32, String> {
    u32::try_from(value)
        .ok()
        .filter(|v| (1..=MAX_BILLING_INCREMENT_SECONDS).contains(v))
        .ok_or_else(|| format!("must be between 1 and {MAX_BILLING_INCREMENT_SECONDS} seconds"))
}

/// Checks a minimum billable duration: 0 to 86400 seconds.
pub fn parse_minimum_duration(value: i32) -> Result<u32, String> {
    u32::try_from(value)
        .ok()
        .filter(|v| *v <= MAX_MINIMUM_DURATION_SECONDS)
        .ok_or_else(|| format!("must be between 0 and {MAX_MINIMUM_DURATION_SECONDS} seconds"))
}

/// The fields of a pricing tier as a client sends them, before validation.
#[derive(Debug, Clone)]
pub struct PricingTierDraft {
    /// Raw name.
    pub name: String,
    /// Raw description.
    pub description: Option<String>,
    /// Raw currency code.
    pub currency: String,
    /// Raw rate per minute.
    pub rate_per_minute: Decimal,
    /// Raw billing increment.
    pub billing_increment_seconds: i32,
    /// Raw minimum duration.
    pub minimum_duration_seconds: i32,
    /// Whether the tier starts active.
    pub is_active: bool,
    /// Whether the tier should become the default at once.
    pub is_default: bool,
}

/// A validated pricing tier that does not exist yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPricingTier {
    /// Valid name.
    pub name: String,
    /// Valid description.
    pub description: Option<String>,
    /// Currency of the rate.
    pub currency: CurrencyCode,
    /// Valid rate.
    pub rate: Rate,
    /// Whether the tier starts active.
    pub is_active: bool,
    /// Whether the tier should become the default at once (it also becomes
    /// the default when no default exists yet and it is active).
    pub make_default: bool,
}

impl NewPricingTier {
    /// Validates every field of a draft, naming the first one that is wrong.
    pub fn parse(draft: PricingTierDraft) -> Result<Self, InvalidInput> {
        let tier = Self {
            name: parse_name(&draft.name).at_field("name")?,
            description: match draft.description {
                Some(raw) => parse_description(&raw).at_field("description")?,
                None => None,
            },
            currency: CurrencyCode::parse(&draft.currency).at_field("currency")?,
            rate: Rate {
                per_minute: parse_rate_per_minute(draft.rate_per_minute)
                    .at_field("ratePerMinute")?,
                billing_increment_seconds: parse_billing_increment(draft.billing_increment_seconds)
                    .at_field("billingIncrementSeconds")?,
                minimum_duration_seconds: parse_minimum_duration(draft.minimum_duration_seconds)
                    .at_field("minimumDurationSeconds")?,
            },
            is_active: draft.is_active,
            make_default: draft.is_default,
        };
        if tier.make_default && !tier.is_active {
            return Err(InvalidInput::new(
                "isDefault",
                "an inactive tier cannot be the default",
            ));
        }
        Ok(tier)
    }
}

/// A validated partial update: `None` leaves a field as it is; for the
/// nullable description, `Some(None)` clears it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PricingTierPatch {
    /// New name.
    pub name: Option<String>,
    /// New description, or `Some(None)` to clear it.
    pub description: Option<Option<String>>,
    /// New currency.
    pub currency: Option<CurrencyCode>,
    /// New rate per minute.
    pub rate_per_minute: Option<Decimal>,
    /// New billing increment.
    pub billing_increment_seconds: Option<u32>,
    /// New minimum duration.
    pub minimum_duration_seconds: Option<u32>,
    /// Activate or deactivate.
    pub is_active: Option<bool>,
}

impl PricingTierPatch {
    /// Whether the patch changes nothing at all.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// The patch without the fields that already hold the value it names,
    /// so a patch that repeats the stored values writes nothing and leaves
    /// the version alone. A rate counts as changed when its written form
    /// differs (`0.45` → `0.4500`), since that form is what reads return.
    #[must_use]
    pub fn without_unchanged(self, current: &PricingTier) -> Self {
        fn changed<T: PartialEq>(new: Option<T>, old: &T) -> Option<T> {
            new.filter(|value| value != old)
        }
        Self {
            name: changed(self.name, &current.name),
            description: changed(self.description, &current.description),
            currency: changed(self.currency, &current.currency),
            rate_per_minute: self
                .rate_per_minute
                .filter(|rate| rate.to_string() != current.rate.per_minute.to_string()),
            billing_increment_seconds: changed(
                self.billing_increment_seconds,
                &current.rate.billing_increment_seconds,
            ),
            minimum_duration_seconds: changed(
                self.minimum_duration_seconds,
                &current.rate.minimum_duration_seconds,
            ),
            is_active: changed(self.is_active, &current.is_active),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn rate(per_minute: &str, increment: u32, minimum: u32) -> Rate {
        Rate {
            per_minute: Decimal::from_str(per_minute).unwrap(),
            billing_increment_seconds: increment,
            minimum_duration_seconds: minimum,
        }
    }

    fn cost(r: Rate, seconds: i64) -> String {
        r.call_cost(seconds).unwrap().to_string()
    }

    #[test]
    fn a_call_of_zero_seconds_costs_nothing_even_with_a_minimum() {
        assert_eq!(cost(rate("0.45", 60, 30), 0), "0.0000");
    }

    #[test]
    fn duration_rounds_up_to_whole_increments() {
        let per_minute = rate("0.45", 60, 0);
        assert_eq!(cost(per_minute, 1), "0.4500");
        assert_eq!(cost(per_minute, 60), "0.4500");
        assert_eq!(cost(per_minute, 61), "0.9000");
        let six_second = rate("0.45", 6, 0);
        assert_eq!(cost(six_second, 7), "0.0900"); // 12 s
    }

    #[test]
    fn short_calls_are_billed_at_the_minimum() {
        let r = rate("1.20", 1, 30);
        assert_eq!(cost(r, 10), "0.6000"); // 30 s
        assert_eq!(cost(r, 45), "0.9000"); // 45 s
    }

    #[test]
    fn minimum_then_increment_both_apply() {
        // 20 s raised to 45 s, then rounded up to 60 s.
        assert_eq!(cost(rate("0.60", 30, 45), 20), "0.6000");
    }

    #[test]
    fn cost_rounds_half_away_from_zero_at_four_places() {
        // 0.0003 per minute for 10 s = 0.00005 exactly → 0.0001.
        assert_eq!(cost(rate("0.0003", 1, 0), 10), "0.0001");
        // 0.0001 per minute for 1 s = 0.0000016… → 0.0000.
        assert_eq!(cost(rate("0.0001", 1, 0), 1), "0.0000");
        // 1/60 of 0.01: 0.000166… → 0.0002
        assert_eq!(cost(rate("0.01", 1, 0), 1), "0.0002");
    }

    #[test]
    fn arithmetic_is_exact_where_floats_are_not() {
        // 0.1 + 0.2 style trap: 0.07 per minute over 3 minutes = 0.21 exactly.
        assert_eq!(cost(rate("0.07", 60, 0), 180), "0.2100");
    }

    #[test]
    fn very_long_calls_do_not_overflow() {
        assert_eq!(
            cost(rate("1000000", 3600, 0), i64::from(i32::MAX)),
            "35791440000000.0000"
        );
    }

    #[test]
    fn negative_durations_are_rejected_naming_the_argument() {
        let err = rate("0.45", 60, 0).call_cost(-1).unwrap_err();
        assert_eq!(err.field, "durationSeconds");
    }

    fn draft() -> PricingTierDraft {
        PricingTierDraft {
            name: "baseTier".into(),
            description: Some("Standard".into()),
            currency: "inr".into(),
            rate_per_minute: Decimal::from_str("0.4500").unwrap(),
            billing_increment_seconds: 60,
            minimum_duration_seconds: 0,
            is_active: true,
            is_default: false,
        }
    }

    #[test]
    fn a_valid_draft_parses() {
        let tier = NewPricingTier::parse(draft()).unwrap();
        assert_eq!(tier.currency.code(), "INR");
        assert_eq!(tier.rate.per_minute.to_string(), "0.4500");
    }

    #[test]
    fn each_broken_rule_names_its_field() {
        type Breaker = Box<dyn Fn(&mut PricingTierDraft)>;
        let cases: Vec<(&str, Breaker)> = vec![
            ("name", Box::new(|d| d.name = "  ".into())),
            ("name", Box::new(|d| d.name = "x".repeat(65))),
            (
                "description",
                Box::new(|d| d.description = Some("x".repeat(501))),
            ),
            ("currency", Box::new(|d| d.currency = "ABC".into())),
            (
                "ratePerMinute",
                Box::new(|d| d.rate_per_minute = Decimal::from(-1)),
            ),
            (
                "ratePerMinute",
                Box::new(|d| d.rate_per_minute = Decimal::from(1_000_001)),
            ),
            (
                "ratePerMinute",
                Box::new(|d| d.rate_per_minute = Decimal::from_str("0.000000001").unwrap()),
            ),
            (
                "billingIncrementSeconds",
                Box::new(|d| d.billing_increment_seconds = 0),
            ),
            (
                "billingIncrementSeconds",
                Box::new(|d| d.billing_increment_seconds = 3601),
            ),
            (
                "minimumDurationSeconds",
                Box::new(|d| d.minimum_duration_seconds = -1),
            ),
            (
                "isDefault",
                Box::new(|d| {
                    d.is_default = true;
                    d.is_active = false;
                }),
            ),
        ];
        for (field, break_it) in cases {
            let mut d = draft();
            break_it(&mut d);
            assert_eq!(NewPricingTier::parse(d).unwrap_err().field, field);
        }
    }

    #[test]
    fn a_blank_description_means_none() {
        assert_eq!(parse_description("   ").unwrap(), None);
    }
}
