//! Customers: the top-level entity, with the profile rules of both seed
//! documents (the telephony platform's billing flags and defaults, and the
//! profile guide's status rules, addresses, telephones and documents).
//!
//! A [`CustomerDraft`] holds what a client sent; [`CustomerProfile::parse`]
//! is the one place every rule is checked. An update turns the stored
//! profile back into a draft, applies the patch and parses the result, so
//! cross-field rules hold after every write, not only at creation.
//!
//! Files by concern: [`status`] (lifecycle), [`contact`] (addresses and
//! telephones), [`billing`] (billing and telephony settings), [`profile`]
//! (the validated profile), [`draft`] (what clients send), [`parse`] (the
//! rules), [`search`] (search folding).

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::domain::InvalidInput;
use crate::domain::country::parse_country;
use crate::domain::currency::CurrencyCode;
use crate::domain::email::parse_email;
use crate::domain::error::AtField;
use crate::domain::language::parse_language;
use crate::domain::legal_document::{LegalDocument, LegalDocumentDraft};
use crate::domain::metadata::{parse_metadata, parse_settings};
use crate::domain::password::Password;
use crate::domain::phone::parse_e164;
use crate::domain::text::{clean_text, optional, optional_text};
use crate::domain::web::{parse_hostname, parse_origin, parse_subdomain, parse_web_url, slugify};

mod billing;
mod contact;
pub mod controls;
mod draft;
mod parse;
mod profile;
pub mod quotas;
mod search;
mod status;
#[cfg(test)]
mod tests;

pub use billing::*;
pub use contact::*;
pub use draft::*;
pub use parse::*;
pub use profile::*;
pub use search::*;
pub use status::*;

/// Longest first or last name.
pub const MAX_NAME_LEN: usize = 100;
/// Longest company name.
pub const MAX_COMPANY_LEN: usize = 200;
/// Longest free-text identifier (`externalId`, `tenantId`).
pub const MAX_IDENTIFIER_LEN: usize = 100;
/// Longest address line or other address part.
pub const MAX_ADDRESS_PART_LEN: usize = 200;
/// Most entries in each list of the extended profile.
pub const MAX_LIST_LEN: usize = 20;
/// Most allowed domains in each list.
pub const MAX_DOMAINS: usize = 100;
/// Largest money amount: the seed's "32 bit integer" bound.
pub const MAX_AMOUNT: Decimal = Decimal::from_parts(2_147_483_647, 0, 0, false, 0);
/// Decimal places a money amount may carry.
pub const MAX_AMOUNT_SCALE: u32 = 4;
/// Length of a generated customer key.
pub const CUSTOMER_KEY_LEN: usize = 10;

/// Business or person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CustomerType {
    /// A company; `companyName` is required.
    Business,
    /// A person.
    Personal,
}

/// A stored customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Customer {
    /// UUIDv7 identifier.
    pub id: Uuid,
    /// The client-set profile.
    pub profile: CustomerProfile,
    /// Lifecycle status.
    pub status: CustomerStatus,
    /// Why the status last changed.
    pub status_reason: Option<String>,
    /// Short random key, unique, generated at creation.
    pub customer_key: String,
    /// The one owner user.
    pub owner_user_id: Uuid,
    /// When the last low-balance alert was sent (read-only).
    pub low_balance_alert_at: Option<DateTime<Utc>>,
    /// How many low-balance alerts were sent (read-only).
    pub low_balance_alert_count: u32,
    /// Whether a deletion started and has not finished; such a customer is
    /// only listed for operators, who finish it by deleting it again.
    pub deleting: bool,
    /// The address of the request that created it, as the gateway saw it.
    pub created_by_ip: Option<String>,
    /// The limits the platform set.
    pub quotas: quotas::Quotas,
    /// What the customer uses of them.
    pub usage: quotas::Usage,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// Optimistic-locking version.
    pub version: u64,
}

impl Customer {
    /// The subdomain (always set once created).
    pub fn subdomain(&self) -> &str {
        self.profile.subdomain.as_deref().unwrap_or_default()
    }
}

/// A customer to be created: its profile, its initial status (`ACTIVE` or
/// `INACTIVE`) and the password for a newly created owner.
#[derive(Debug)]
pub struct NewCustomer {
    /// Validated profile.
    pub profile: CustomerProfile,
    /// Initial status.
    pub status: CustomerStatus,
    /// Password for the owner, used only when the owner is a new user.
    pub password: Password,
}

impl NewCustomer {
    /// Validates a new customer.
    pub fn parse(
        draft: CustomerDraft,
        status: CustomerStatus,
        password: String,
    ) -> Result<Self, InvalidInput> {
        if !matches!(status, CustomerStatus::Active | CustomerStatus::Inactive) {
            return Err(InvalidInput::new(
                "status",
                "a new customer is ACTIVE or INACTIVE",
            ));
        }
        let profile = CustomerProfile::parse(draft)?;
        let password = Password::parse(password).at_field("password")?;
        Ok(Self {
            profile,
            status,
            password,
        })
    }
}

/// Letters of generated customer keys and subdomain suffixes: digits and
/// lower-case letters without look-alikes (no `0/o`, `1/l/i`).
pub const KEY_ALPHABET: &[u8] = b"23456789abcdefghjkmnpqrstuvwxyz";

/// A fresh random customer key: 10 characters of [`KEY_ALPHABET`] from the
/// OS CSPRNG (it may serve as a key or salt, so it must not be
/// predictable).
pub fn generate_customer_key() -> String {
    crate::domain::random::string_from(KEY_ALPHABET, CUSTOMER_KEY_LEN)
}
