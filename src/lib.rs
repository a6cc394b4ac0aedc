//! Switchboard: a GraphQL admin gateway for customers, their users, their
//! telephony accounts and the pricing tiers those accounts are billed on.
//!
//! Layers, outermost first; dependencies point inward:
//! - [`http`] and [`graphql`]: the edge. HTTP handling (also on Lambda),
//!   authentication, the GraphQL schema and error mapping.
//! - [`store`]: DynamoDB persistence; knows nothing of GraphQL.
//! - [`domain`]: the rules; knows nothing of GraphQL or DynamoDB.
//!
//! [`app`] wires them together once per process.

pub mod app;
pub mod auth;
pub mod config;
pub mod domain;
pub mod graphql;
pub mod http;
pub mod mail;
pub mod metrics;
pub mod store;
pub mod telemetry;
