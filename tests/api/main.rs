//! The integration tests, in one binary so it links once. Each test gets
//! its own table in the DynamoDB Local that `scripts/test` starts.

mod auth;
mod contract;
mod faults;
mod helpers;
mod http_protocol;
mod lambda;
mod pricing_tiers;
