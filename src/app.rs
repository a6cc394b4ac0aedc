//! Wiring: the only code that knows the concrete AWS client. Builds the
//! state once per process and runs the router locally or on Lambda.

use std::net::SocketAddr;

use crate::config::{Config, ConfigError};
use crate::http::{AppState, router};
use crate::store::Store;

/// Builds the process-wide state from configuration, all during init so
/// the first request pays for none of it: one AWS configuration, one
/// DynamoDB client, the HS256 secret from Secrets Manager when
/// `JWT_SECRET_ARN` names one, one schema, one token verifier with the
/// identity provider's keys already fetched.
pub async fn state(config: &Config) -> Result<AppState, ConfigError> {
    let aws = crate::store::aws_config(&config.dynamodb_timeouts).await;
    let config = match &config.jwt.secret_arn {
        Some(_) => with_secret_from(config, &aws_sdk_secretsmanager::Client::new(&aws)).await?,
        None => config.clone(),
    };
    let dynamodb = crate::store::client(&aws);
    let mailer = crate::mail::Mailer::new(config.invitation_mail.clone(), &aws);
    let state = AppState::with_mailer(
        &config,
        Store::new(dynamodb, config.table_name.clone()),
        mailer,
    );
    state.verifier.prefetch().await;
    Ok(state)
}

/// `config` with the HS256 secret read from the Secrets Manager secret
/// `JWT_SECRET_ARN` names (its `SecretString`, as the template's generated
/// secret holds it). Read once per process; a failure stops start-up with
/// a message naming the variable, never the secret.
pub async fn with_secret_from(
    config: &Config,
    secrets: &aws_sdk_secretsmanager::Client,
) -> Result<Config, ConfigError> {
    let Some(arn) = &config.jwt.secret_arn else {
        return Ok(config.clone());
    };
    let problem = |problem: String| ConfigError {
        variable: "JWT_SECRET_ARN",
        problem,
    };
    let output = secrets
        .get_secret_value()
        .secret_id(arn)
        .send()
        .await
        .map_err(|err| {
            problem(format!(
                "reading `{arn}` from Secrets Manager failed: {}",
                crate::graphql::error::error_chain(&err)
            ))
        })?;
    let secret = output
        .secret_string()
        .ok_or_else(|| problem(format!("`{arn}` has no SecretString")))?;
    let mut config = config.clone();
    config.jwt = config.jwt.with_secret(secret)?;
    Ok(config)
}

/// Serves the router on `addr` until Ctrl-C or SIGTERM.
pub async fn serve(state: AppState, addr: SocketAddr) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    tracing::info!(%local, "listening");
    println!("Switchboard is listening on http://{local} (GraphiQL at http://{local}/)");
    axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await
}

/// Runs the router as a Lambda function behind API Gateway, after
/// [`warm_up`] so the init phase (billed at full CPU, before any caller
/// waits) pays for the DynamoDB connection instead of the first request.
pub async fn run_lambda(state: AppState) -> Result<(), lambda_http::Error> {
    warm_up(&state).await;
    lambda_http::run(router(state)).await
}

/// Most time the warm-up may add to init; a DynamoDB that does not answer
/// by then is left to the first request (and its own timeouts) to report.
const WARM_UP_LIMIT: std::time::Duration = std::time::Duration::from_secs(2);

/// Opens the DynamoDB client's connection (DNS, TCP and, in production,
/// the TLS handshake: tens of milliseconds) and resolves its credentials
/// with one read of the default-tier pointer, a single small item every
/// deployment's role may read. Failures are only logged: a warm-up must
/// never stop a function that could serve later.
pub async fn warm_up(state: &AppState) {
    let started = std::time::Instant::now();
    let read =
        tokio::time::timeout(WARM_UP_LIMIT, state.store.pricing_tiers().default_tier_id()).await;
    let elapsed_ms = started.elapsed().as_millis();
    match read {
        Ok(Ok(_)) => tracing::debug!(elapsed_ms, "DynamoDB connection warmed up"),
        Ok(Err(err)) => tracing::warn!(
            elapsed_ms,
            error = %crate::graphql::error::error_chain(&err),
            "DynamoDB warm-up failed; the first request will connect"
        ),
        Err(_) => tracing::warn!(elapsed_ms, "DynamoDB warm-up timed out"),
    }
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
