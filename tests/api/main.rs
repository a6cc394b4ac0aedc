//! The integration tests, in one binary so it links once. Each test gets
//! its own table in the DynamoDB Local that `scripts/test` starts.

#![allow(
    clippy::format_collect,
    reason = "building test documents by mapping is clearer than fold"
)]

mod access;
mod account_credentials;
mod accounts;
mod assets;
mod audit;
mod auth;
mod binary;
mod concurrency;
mod contract;
mod customer_deletion;
mod customer_lists;
mod customers;
mod docs_examples;
mod edge;
mod faults;
mod helpers;
mod hostile;
mod http_protocol;
mod idempotency;
mod identity_provider;
mod invitations;
mod lambda;
mod logs;
mod mailbox;
mod observability;
mod platform_controls;
mod platform_roles;
mod pricing_tiers;
mod quotas;
mod request_counts;
mod secrets;
mod telephony;
mod users;
