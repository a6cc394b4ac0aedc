//! The integration tests, in one binary so it links once. Each test gets
//! its own table in the DynamoDB Local that `scripts/test` starts.

#![allow(
    clippy::format_collect,
    reason = "building test documents by mapping is clearer than fold"
)]

mod access;
mod auth;
mod binary;
mod contract;
mod customers;
mod faults;
mod helpers;
mod http_protocol;
mod invitations;
mod lambda;
mod logs;
mod pricing_tiers;
mod users;
