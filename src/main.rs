//! The `switchboard` binary: parses the command line, sets up logging and
//! configuration, and hands over to [`switchboard::app`]. No logic lives
//! here. On Lambda (`AWS_LAMBDA_RUNTIME_API` set) it always serves.

use std::net::{IpAddr, SocketAddr};
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use switchboard::auth::TokenIssuer;
use switchboard::config::{Config, ConfigError, JwtConfig};
use switchboard::store::{self, tables};
use switchboard::{app, graphql, telemetry};

/// GraphQL admin gateway for customers, users, accounts and pricing tiers.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API and GraphiQL over HTTP (the default).
    Serve {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1")]
        host: IpAddr,
        /// Port to listen on.
        #[arg(long, env = "PORT", default_value_t = 3000)]
        port: u16,
    },
    /// Create the DynamoDB table and indexes if they do not exist.
    CreateTables,
    /// Print a development JWT signed with JWT_SECRET.
    ///
    /// scripts/dev keeps its secret in .local/dev.env; outside it, load that
    /// first: `set -a; . .local/dev.env; set +a`. A token minted with another
    /// secret (for example before .local/dev.env was recreated) is refused
    /// as "not valid"; mint a new one.
    Token {
        /// Grant the admin role.
        #[arg(long)]
        admin: bool,
        /// Subject (`sub`) of the token.
        #[arg(long, default_value = "dev@switchboard.local")]
        sub: String,
        /// Lifetime, e.g. `30m`, `12h`, `7d`. The gateway tolerates
        /// JWT_LEEWAY_SECONDS (default 30) of clock skew past `exp`, so a
        /// token is accepted for up to that much longer: `--ttl 1s` lives up
        /// to 31 s.
        #[arg(long, default_value = "12h", value_parser = humantime::parse_duration)]
        ttl: Duration,
    },
    /// Print the GraphQL schema (SDL).
    PrintSchema,
}

fn fail(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("switchboard: {message}");
    ExitCode::FAILURE
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let on_lambda = std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some();
    // Lambda hands a process one request at a time: a single-threaded
    // runtime then does the same work without waking worker threads across
    // cores (docs/performance.md measures the difference). The local
    // server serves many connections at once and keeps one worker per core.
    let runtime = if on_lambda {
        tokio::runtime::Builder::new_current_thread()
    } else {
        tokio::runtime::Builder::new_multi_thread()
    }
    .enable_all()
    .build();
    match runtime {
        Ok(runtime) => runtime.block_on(run(cli, on_lambda)),
        Err(err) => fail(format!("could not start the async runtime: {err}")),
    }
}

async fn run(cli: Cli, on_lambda: bool) -> ExitCode {
    let command = if on_lambda { None } else { cli.command };
    match command {
        None | Some(Command::Serve { .. }) => {
            telemetry::init();
            let config = match Config::from_env() {
                Ok(config) => config,
                Err(err) if on_lambda => return fail(err),
                Err(err) => return fail(with_dev_hint(&err)),
            };
            let state = match app::state(&config).await {
                Ok(state) => state,
                Err(err) => return fail(err),
            };
            let result = if on_lambda {
                app::run_lambda(state).await.map_err(|e| e.to_string())
            } else {
                let (host, port) = match command {
                    Some(Command::Serve { host, port }) => (host, port),
                    _ => match port_from_env() {
                        Ok(port) => (IpAddr::from([127, 0, 0, 1]), port),
                        Err(err) => return fail(err),
                    },
                };
                app::serve(state, SocketAddr::new(host, port))
                    .await
                    .map_err(|e| e.to_string())
            };
            result.map_or_else(fail, |()| ExitCode::SUCCESS)
        }
        Some(Command::CreateTables) => {
            let table = match Config::table_name_from_env() {
                Ok(table) => table,
                Err(err) => return fail(err),
            };
            let client = store::client_from_env().await;
            match tables::create_table(&client, &table).await {
                Ok(tables::Created::New) => println!("created table {table}"),
                Ok(tables::Created::AlreadyExisted) => println!("table {table} already exists"),
                Err(err) => {
                    return fail(format!(
                        "could not create table {table}: {}",
                        graphql::error::error_chain(&err)
                    ));
                }
            }
            ExitCode::SUCCESS
        }
        Some(Command::Token { admin, sub, ttl }) => match JwtConfig::from_env() {
            Ok(jwt) if jwt.secret.is_none() => fail(
                "`token` signs with JWT_SECRET, which is not set; with an identity provider \
                 (JWT_JWKS_URL), get tokens from it instead",
            ),
            Ok(jwt) => {
                println!("{}", TokenIssuer::new(&jwt).mint(&sub, admin, ttl));
                // On stderr, so `TOKEN=$(switchboard token)` still captures
                // the token alone; only where the leeway is a noticeable part
                // of the lifetime.
                if ttl.as_secs() < jwt.leeway_seconds.saturating_mul(10) {
                    eprintln!(
                        "note: the gateway accepts this token for up to {} s, its --ttl plus \
                         JWT_LEEWAY_SECONDS={} of tolerated clock skew",
                        ttl.as_secs().saturating_add(jwt.leeway_seconds),
                        jwt.leeway_seconds
                    );
                }
                ExitCode::SUCCESS
            }
            Err(err) => fail(with_dev_hint(&err)),
        },
        Some(Command::PrintSchema) => {
            print!("{}", graphql::sdl());
            ExitCode::SUCCESS
        }
    }
}

/// Points a developer who runs the binary outside scripts/dev to the dev
/// secret that script keeps, since that is the one their tokens are signed
/// with.
fn with_dev_hint(err: &ConfigError) -> String {
    if err.variable == "JWT_SECRET" {
        format!(
            "{err}\n  for local development, scripts/dev keeps one in .local/dev.env; \
             load it with `set -a; . .local/dev.env; set +a` and run this again \
             (or start everything with scripts/dev)"
        )
    } else {
        err.to_string()
    }
}

/// `PORT`, or 3000 when unset; a value that is no port number is an error
/// (as `serve --port` treats it), not a quiet fall-back to 3000.
fn port_from_env() -> Result<u16, String> {
    match std::env::var("PORT") {
        Err(_) => Ok(3000),
        Ok(raw) => raw
            .trim()
            .parse()
            .map_err(|_| format!("PORT: `{raw}` is not a port number (1-65535)")),
    }
}
