//! Structured JSON logs through `tracing`.
//!
//! Each request runs in a span carrying its request id and, once known, the
//! GraphQL operation name, so every line it logs can be correlated. Nothing
//! logs headers, bodies or variables: tokens, passwords and secrets travel
//! only there.
//!
//! With `LOG_SPANS=on` every span also logs a line when it closes, with its
//! busy and idle time and the spans it ran in (so the request and trace ids
//! are on it): the request, the GraphQL execution (`graphql`) and each
//! DynamoDB call (the SDK's `DynamoDB.<Operation>` spans, enabled at
//! `aws_sdk_dynamodb=debug`). Off by default: disabled spans cost a filter
//! check and nothing is written.

use tracing::Subscriber;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::fmt::format::FmtSpan;

/// The production subscriber, writing JSON lines to `writer`, filtered by
/// `filter` (`RUST_LOG` syntax); with `spans`, a line for each span that
/// closes, carrying the list of spans it ran in.
pub fn subscriber<W>(writer: W, filter: EnvFilter, spans: bool) -> impl Subscriber + Send + Sync
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_span_events(if spans { FmtSpan::CLOSE } else { FmtSpan::NONE })
        .with_current_span(true)
        .with_span_list(spans)
        .flatten_event(true)
        .with_target(true)
        .with_writer(writer)
        .finish()
}

/// The filter when `RUST_LOG` is not set: `info`, and with `spans` the
/// SDK's per-call spans too.
pub fn default_filter(spans: bool) -> EnvFilter {
    EnvFilter::new(if spans {
        "info,aws_sdk_dynamodb=debug"
    } else {
        "info"
    })
}

/// Installs the global JSON subscriber on stdout; `RUST_LOG` sets the
/// filter (default [`default_filter`]), `LOG_SPANS=on` the span lines.
/// Safe to call more than once.
pub fn init() {
    let spans = std::env::var("LOG_SPANS").is_ok_and(|v| matches!(v.as_str(), "on" | "true" | "1"));
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| default_filter(spans));
    let _ = tracing::subscriber::set_global_default(subscriber(std::io::stdout, filter, spans));
}
