//! Structured JSON logs through `tracing`.
//!
//! Each request runs in a span carrying its request id and, once known, the
//! GraphQL operation name, so every line it logs can be correlated. Nothing
//! logs headers, bodies or variables: tokens, passwords and secrets travel
//! only there.

use tracing_subscriber::EnvFilter;

/// Installs the global JSON subscriber; `RUST_LOG` sets the filter
/// (default `info`). Safe to call more than once.
pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(true)
        .with_span_list(false)
        .flatten_event(true)
        .with_target(true)
        .try_init();
}
