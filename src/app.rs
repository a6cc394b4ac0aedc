//! Wiring: the only code that knows the concrete AWS client. Builds the
//! state once per process and runs the router locally or on Lambda.

use std::net::SocketAddr;

use crate::config::Config;
use crate::http::{AppState, router};
use crate::store::{self, Store};

/// Builds the process-wide state from configuration: one DynamoDB client,
/// one schema, one token verifier.
pub async fn state(config: &Config) -> AppState {
    let client = store::client_with_timeouts(&config.dynamodb_timeouts).await;
    AppState::new(config, Store::new(client, config.table_name.clone()))
}

/// Serves the router on `addr` until Ctrl-C or SIGTERM.
pub async fn serve(state: AppState, addr: SocketAddr) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    tracing::info!(%local, "listening");
    println!("Switchboard is listening on http://{local} (GraphiQL at http://{local}/)");
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown_signal())
        .await
}

/// Runs the router as a Lambda function behind API Gateway.
pub async fn run_lambda(state: AppState) -> Result<(), lambda_http::Error> {
    lambda_http::run(router(state)).await
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut signal) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            signal.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
