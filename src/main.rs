//! The `switchboard` binary: parses the command line, sets up logging and
//! configuration, and hands over to [`switchboard::app`]. No logic lives
//! here. On Lambda (`AWS_LAMBDA_RUNTIME_API` set) it always serves.

use std::net::{IpAddr, SocketAddr};
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use switchboard::auth::TokenIssuer;
use switchboard::config::{Config, JwtConfig};
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
    Token {
        /// Grant the admin role.
        #[arg(long)]
        admin: bool,
        /// Subject (`sub`) of the token.
        #[arg(long, default_value = "dev@switchboard.local")]
        sub: String,
        /// Lifetime, e.g. `30m`, `12h`, `7d`.
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

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let on_lambda = std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some();
    let command = if on_lambda { None } else { cli.command };
    match command {
        None | Some(Command::Serve { .. }) => {
            telemetry::init();
            let config = match Config::from_env() {
                Ok(config) => config,
                Err(err) => return fail(err),
            };
            let state = app::state(&config).await;
            let result = if on_lambda {
                app::run_lambda(state).await.map_err(|e| e.to_string())
            } else {
                let (host, port) = match command {
                    Some(Command::Serve { host, port }) => (host, port),
                    _ => (IpAddr::from([127, 0, 0, 1]), port_from_env()),
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
            Ok(jwt) => {
                println!("{}", TokenIssuer::new(&jwt).mint(&sub, admin, ttl));
                ExitCode::SUCCESS
            }
            Err(err) => fail(err),
        },
        Some(Command::PrintSchema) => {
            print!("{}", graphql::sdl());
            ExitCode::SUCCESS
        }
    }
}

fn port_from_env() -> u16 {
    std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(3000)
}
