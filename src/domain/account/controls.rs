//! Which account changes are the platform's: the classification of
//! `docs/access.md` for accounts. Decided on the stored account the write
//! is conditioned on, so a stale patch cannot undo a platform decision.
//!
//! - **Platform controls** (platform roles only): the risk assessment
//!   (`riskRating`, `riskStatus`, `isVerified`), the pricing tier, raising
//!   a base limit, and switching on an account the platform switched off.
//! - **Billing controls** (admin and billing roles): the credit line and
//!   turning postpaid on.
//! - **Billing settings** (`BILLING_WRITE`): buying more capacity
//!   (raising `purchasedCps` or `purchasedConcurrentCalls`).
//!
//! Everything that makes an account safer (switching it off, lowering a
//! limit, going prepaid) stays with `ACCOUNTS_WRITE`.

use super::AccountProfile;
use crate::domain::access::Action;

/// What changing `before` into `after` needs beyond `ACCOUNTS_WRITE`, each
/// with the input field that needs it.
/// The risk assessment, the tier and the credit line are the platform's
/// whatever their value, so a patch naming them is decided by the edge
/// before reading (`UpdateAccountInput::named_controls`); this covers what
/// depends on the direction of the change.
pub fn needed(before: &AccountProfile, after: &AccountProfile) -> Vec<(Action, &'static str)> {
    let mut needs = Vec::new();
    let mut platform = |field| needs.push((Action::WritePlatformControls, field));
    if after.base_cps_limit > before.base_cps_limit {
        platform("input.baseCpsLimit");
    }
    if after.base_concurrent_calls_limit > before.base_concurrent_calls_limit {
        platform("input.baseConcurrentCallsLimit");
    }
    if before.platform_hold && after.enabled && !before.enabled {
        platform("input.enabled");
    }
    if before.platform_hold && after.is_active && !before.is_active {
        platform("input.isActive");
    }
    if after.postpaid && !before.postpaid {
        needs.push((Action::WriteBillingControls, "input.postpaid"));
    }
    if after.purchased_cps > before.purchased_cps {
        needs.push((Action::WriteBilling, "input.purchasedCps"));
    }
    if after.purchased_concurrent_calls > before.purchased_concurrent_calls {
        needs.push((Action::WriteBilling, "input.purchasedConcurrentCalls"));
    }
    needs
}

/// The platform hold after a change by the platform (`by_platform`) or a
/// member: the platform switching the account off sets it, the platform
/// leaving it fully on clears it; a member never changes it.
pub fn hold_after(before: &AccountProfile, after: &AccountProfile, by_platform: bool) -> bool {
    if !by_platform {
        return before.platform_hold;
    }
    let switched_off = (before.enabled && !after.enabled) || (before.is_active && !after.is_active);
    if switched_off {
        true
    } else if after.enabled && after.is_active {
        false
    } else {
        before.platform_hold
    }
}
