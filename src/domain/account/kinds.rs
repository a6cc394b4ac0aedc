//! The closed sets of an account (its kind, role, carrier, customer size,
//! risk status, billing model) and its small value objects.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Master account or sub-account of a master.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AccountType {
    /// A top-level account of its customer.
    Master,
    /// An account under a master account of the same customer.
    SubAccount,
}

impl AccountType {
    /// The wire name, as stored and as in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Master => "MASTER",
            Self::SubAccount => "SUB_ACCOUNT",
        }
    }
}

/// Role of the user associated with the account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AccountRole {
    /// Administrator.
    Admin,
    /// Ordinary user.
    User,
}

/// Kind of carrier service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CarrierType {
    /// Voice over IP.
    Voip,
    /// The public switched telephone network.
    Pstn,
}

/// Size class of the customer behind the account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AccountCustomerType {
    /// A large organisation.
    Enterprise,
    /// A small or medium business.
    Smb,
}

/// Risk status set by the platform's risk checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RiskStatus {
    /// Nothing noticed.
    Normal,
    /// Under review.
    Flagged,
    /// Blocked by risk.
    Blocked,
}

/// Prepaid or postpaid, derived from `postpaid`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BillingModel {
    /// Calls draw on credit bought in advance.
    Prepaid,
    /// Calls draw against the credit limit and are invoiced.
    Postpaid,
}

impl BillingModel {
    /// The model `postpaid` (the authoritative flag) implies.
    pub fn of(postpaid: bool) -> Self {
        if postpaid {
            Self::Postpaid
        } else {
            Self::Prepaid
        }
    }
}

/// When and by how much a prepaid account is topped up automatically.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AutoRechargeConfig {
    /// Balance below which a top-up is triggered (> 0).
    pub threshold: Decimal,
    /// Amount added per top-up (> 0).
    pub amount: Decimal,
}

/// Optional features of the account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Features {
    /// Call queues.
    pub call_queue: bool,
    /// Call transcription.
    pub transcription: bool,
}
