//! What the telephony edge enforces after a credential check, beside the
//! account's own limits: the customer's telephony settings and how long
//! the answer may be cached. Platform callers only (members read the
//! settings on the customer, with `CUSTOMER_READ`).

use async_graphql::{Context, SimpleObject};

use crate::domain::customer::Telephony;
use crate::graphql::input::int;

/// How long the edge may cache a check's answer (`EDGE_CACHE_SECONDS`),
/// as schema data.
#[derive(Debug, Clone, Copy)]
pub struct EdgeCacheSeconds(pub u32);

/// The default of [`EdgeCacheSeconds`]: a status change or a block reaches
/// the edge within half a minute.
pub const DEFAULT_EDGE_CACHE_SECONDS: u32 = 30;

/// How long the edge may cache a check's answer.
pub fn cache_seconds(ctx: &Context<'_>) -> i32 {
    int(ctx
        .data_opt::<EdgeCacheSeconds>()
        .map_or(DEFAULT_EDGE_CACHE_SECONDS, |c| c.0))
}

/// A customer's telephony settings, as the edge enforces them on its
/// accounts' calls.
#[derive(SimpleObject)]
#[graphql(name = "CustomerTelephony")]
#[expect(
    clippy::struct_excessive_bools,
    reason = "the seed's switches are independent booleans"
)]
pub struct TelephonyNode {
    /// International calling allowed.
    international_calling: bool,
    /// Media bypass.
    media_bypass: bool,
    /// Account lock.
    account_lock: bool,
    /// Calls are recorded.
    call_recording: bool,
    /// Calls are transcribed.
    transcribe_calls: bool,
    /// CNAM look-ups.
    cnam_look_ups: bool,
    /// Hold music.
    hold_music: bool,
    /// Call debugging.
    call_debug: bool,
    /// Months call records are kept.
    cdr_retention: i32,
    /// Outbound calls per second.
    max_outbound_call_rate: i32,
    /// Limit of forwarded calls; `null` for none.
    call_forwarding_call_limit: Option<i32>,
}

impl From<Telephony> for TelephonyNode {
    fn from(t: Telephony) -> Self {
        Self {
            international_calling: t.international_calling,
            media_bypass: t.media_bypass,
            account_lock: t.account_lock,
            call_recording: t.call_recording,
            transcribe_calls: t.transcribe_calls,
            cnam_look_ups: t.cnam_look_ups,
            hold_music: t.hold_music,
            call_debug: t.call_debug,
            cdr_retention: int(t.cdr_retention),
            max_outbound_call_rate: int(t.max_outbound_call_rate),
            call_forwarding_call_limit: t.call_forwarding_call_limit.map(int),
        }
    }
}
