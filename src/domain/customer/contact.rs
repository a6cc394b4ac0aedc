//! Addresses and telephones, each typed, with one default per type.

#[allow(clippy::wildcard_imports)]
use super::*;

/// Kind of address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AddressType {
    /// Where post is sent.
    Postal,
    /// Where invoices are addressed.
    Billing,
}

/// Kind of telephone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TelephoneType {
    /// A fixed line.
    Landline,
    /// A mobile phone.
    Mobile,
}

/// A validated address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Address {
    /// Postal or billing (`None` only in drafts).
    pub address_type: Option<AddressType>,
    /// The default address of its type.
    pub default: bool,
    /// ISO 3166-1 alpha-2 country.
    pub country: String,
    /// State or province.
    pub state: Option<String>,
    /// Postal code.
    pub postal_code: Option<String>,
    /// City.
    pub city: Option<String>,
    /// First line.
    pub address_line1: Option<String>,
    /// Second line.
    pub address_line2: Option<String>,
    /// PO box.
    pub po_box: Option<String>,
    /// Building number.
    pub building_number: Option<String>,
    /// Complement (apartment, suite).
    pub complement: Option<String>,
}

/// A validated telephone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Telephone {
    /// Landline or mobile (`None` only in drafts).
    pub telephone_type: Option<TelephoneType>,
    /// The default telephone of its type.
    pub default: bool,
    /// Number in E.164.
    pub number: String,
    /// Extension digits.
    pub extension: Option<String>,
}
