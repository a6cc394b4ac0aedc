//! Structured JSON logs through `tracing`.
//!
//! Each request runs in a span carrying its request id and, once known, the
//! GraphQL operation name, so every line it logs can be correlated. Nothing
//! logs headers, bodies or variables: tokens, passwords and secrets travel
//! only there.

use tracing::Subscriber;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

/// The production subscriber, writing JSON lines to `writer`, filtered by
/// `filter` (`RUST_LOG` syntax).
pub fn subscriber<W>(writer: W, filter: EnvFilter) -> impl Subscriber + Send + Sync
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(true)
        .with_span_list(false)
        .flatten_event(true)
        .with_target(true)
        .with_writer(writer)
        .finish()
}

/// Installs the global JSON subscriber on stdout; `RUST_LOG` sets the
/// filter (default `info`). Safe to call more than once.
pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing::subscriber::set_global_default(subscriber(std::io::stdout, filter));
}
