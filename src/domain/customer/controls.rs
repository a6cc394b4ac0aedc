//! Which telephony switches are platform controls: the ones that cost the
//! platform money or open it to toll fraud when turned the *less* safe
//! way. A member may always make them safer (turn international calling
//! off, lower the outbound call rate, lock the account) but never undo a
//! platform decision; `docs/access.md` gives the reason for each.
//!
//! Decided on the stored profile the write is conditioned on, so a member's
//! patch cannot re-open what the platform closed a moment before.

use super::Telephony;

/// The first switch `after` opens beyond `before` (as an input path), if
/// any: only a platform role may make that change.
pub fn loosened(before: &Telephony, after: &Telephony) -> Option<&'static str> {
    let raised = |b: Option<u32>, a: Option<u32>| match (b, a) {
        // `None` is "no limit", the loosest.
        (Some(_), None) => true,
        (Some(b), Some(a)) => a > b,
        (None, _) => false,
    };
    if after.international_calling && !before.international_calling {
        Some("input.internationalCalling")
    } else if after.media_bypass && !before.media_bypass {
        Some("input.mediaBypass")
    } else if before.account_lock && !after.account_lock {
        Some("input.accountLock")
    } else if after.max_outbound_call_rate > before.max_outbound_call_rate {
        Some("input.maxOutboundCallRate")
    } else if raised(
        before.call_forwarding_call_limit,
        after.call_forwarding_call_limit,
    ) {
        Some("input.callForwardingCallLimit")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opening_a_switch_is_a_platform_control_and_closing_it_is_not() {
        let base = Telephony::default();
        assert_eq!(loosened(&base, &base), None);
        let mut open = base;
        open.international_calling = true;
        assert_eq!(loosened(&base, &open), Some("input.internationalCalling"));
        assert_eq!(loosened(&open, &base), None, "turning it off is safer");
        let mut unlocked = base;
        unlocked.account_lock = false;
        assert_eq!(loosened(&base, &unlocked), Some("input.accountLock"));
        assert_eq!(loosened(&unlocked, &base), None);
        let mut faster = base;
        faster.max_outbound_call_rate = 1000;
        assert_eq!(loosened(&base, &faster), Some("input.maxOutboundCallRate"));
        assert_eq!(loosened(&faster, &base), None, "lowering is safer");
        let mut limited = base;
        limited.call_forwarding_call_limit = Some(5);
        assert_eq!(loosened(&base, &limited), None, "a limit where none was");
        assert_eq!(
            loosened(&limited, &base),
            Some("input.callForwardingCallLimit"),
            "dropping a limit"
        );
        let mut recorded = base;
        recorded.call_recording = true;
        assert_eq!(loosened(&base, &recorded), None, "a profile setting");
    }
}
