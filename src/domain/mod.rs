//! The rules of Switchboard: what a valid value is, how prices are computed,
//! which states an entity may be in. This layer knows nothing of GraphQL or
//! DynamoDB; the edge parses client input into these types and the store
//! persists them, so an invalid value cannot travel past the edge.

pub mod access;
pub mod account;
pub mod audit;
pub mod country;
pub mod credentials;
pub mod currency;
pub mod customer;
pub mod email;
pub mod error;
pub mod invitation;
pub mod ip;
pub mod language;
pub mod legal_document;
pub mod metadata;
pub mod page;
pub mod password;
pub mod phone;
pub mod pricing_tier;
pub mod random;
pub mod telephony;
pub mod text;
pub mod timezone;
pub mod user;
pub mod web;

pub use error::InvalidInput;
