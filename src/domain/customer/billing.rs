//! Billing settings and telephony feature flags, with the telephony
//! seed's defaults.

#[allow(clippy::wildcard_imports)]
use super::*;

/// How the customer's usage is paid by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum BillMethod {
    /// From prepaid credit (the seed's default).
    Credit,
    /// From a stored payment method.
    PaymentMethod,
}

/// Billing settings, with the telephony model's defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Billing {
    /// Prepaid credit (default 0).
    pub credit: Decimal,
    /// Top-up amount for automatic refills (default 0).
    pub automatic_refill_amount: Decimal,
    /// Balance below which an alert is sent (default 0).
    pub low_balance_alert_amount: Decimal,
    /// Default bill method (default `CREDIT`).
    pub default_bill_method: BillMethod,
}

/// Telephony switches and numbers, with the telephony model's defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[expect(
    clippy::struct_excessive_bools,
    reason = "the seed's switches are independent booleans"
)]
pub struct Telephony {
    /// International calling allowed (default false).
    pub international_calling: bool,
    /// Media bypass (default false).
    pub media_bypass: bool,
    /// Account lock (default true).
    pub account_lock: bool,
    /// Call recording (default false).
    pub call_recording: bool,
    /// CNAM look-ups (default false).
    pub cnam_look_ups: bool,
    /// Hold music (default false).
    pub hold_music: bool,
    /// Call transcription (default false).
    pub transcribe_calls: bool,
    /// Call debugging (default false).
    pub call_debug: bool,
    /// Months call records are kept (default 12).
    pub cdr_retention: u32,
    /// Outbound calls per second (default 1).
    pub max_outbound_call_rate: u32,
    /// Limit of forwarded calls, if any.
    pub call_forwarding_call_limit: Option<u32>,
}

impl Default for Billing {
    fn default() -> Self {
        Self {
            credit: Decimal::ZERO,
            automatic_refill_amount: Decimal::ZERO,
            low_balance_alert_amount: Decimal::ZERO,
            default_bill_method: BillMethod::Credit,
        }
    }
}

impl Default for Telephony {
    fn default() -> Self {
        Self {
            international_calling: false,
            media_bypass: false,
            account_lock: true,
            call_recording: false,
            cnam_look_ups: false,
            hold_music: false,
            transcribe_calls: false,
            call_debug: false,
            cdr_retention: 12,
            max_outbound_call_rate: 1,
            call_forwarding_call_limit: None,
        }
    }
}
