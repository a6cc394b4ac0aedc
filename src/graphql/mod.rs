//! The GraphQL schema: one part per entity, merged into the `Query` and
//! `Mutation` roots. [`schema_builder`] needs no data, so the SDL export
//! and the server build the very same schema.

pub mod access;
pub mod accounts;
pub mod audit;
pub mod connection;
pub mod customers;
pub mod error;
pub mod gate;
pub mod guard;
pub mod idempotency;
pub mod input;
pub mod invitations;
pub mod loaders;
pub mod member_customers;
pub mod nesting;
pub mod pricing_tiers;
pub mod scalars;
pub mod users;

use async_graphql::{EmptySubscription, MergedObject, Schema, SchemaBuilder};

use crate::config::Config;
use crate::store::Store;
use accounts::{AccountMutation, AccountQuery, AccountSecrets};
use customers::{CustomerMutation, CustomerQuery};
use invitations::{InvitationMutation, InvitationQuery, InvitationTtl};
use pricing_tiers::{PricingTierMutation, PricingTierQuery};
use users::{CustomerUserMutation, UserMutation, UserQuery};

/// Every query, merged from the entity modules.
#[derive(MergedObject, Default)]
pub struct Query(
    PricingTierQuery,
    CustomerQuery,
    AccountQuery,
    UserQuery,
    InvitationQuery,
    audit::AuditQuery,
);

/// Every mutation, merged from the entity modules.
#[derive(MergedObject, Default)]
pub struct Mutation(
    PricingTierMutation,
    CustomerMutation,
    customers::CustomerQuotaMutation,
    AccountMutation,
    UserMutation,
    CustomerUserMutation,
    InvitationMutation,
);

/// The executable schema.
pub type AppSchema = Schema<Query, Mutation, EmptySubscription>;

/// The schema's types without any runtime data or limits.
pub fn schema_builder() -> SchemaBuilder<Query, Mutation, EmptySubscription> {
    Schema::build(Query::default(), Mutation::default(), EmptySubscription)
}

/// The schema the server runs: with the store, the account-secret
/// settings, the limits and the gate. Per-request data (the principal,
/// the [`loaders::Loaders`]) is added by the HTTP layer.
/// Depth is limited by the gate, not by async-graphql, which would count
/// introspection's `ofType` chains and so refuse GraphiQL's schema query.
pub fn build_schema(store: Store, config: &Config, mailer: crate::mail::Mailer) -> AppSchema {
    let mut builder = schema_builder()
        .data(store)
        .data(mailer)
        .data(config.aws_ip_ranges.clone())
        .data(accounts::edge::EdgeCacheSeconds(config.edge_cache_seconds))
        .data(AccountSecrets {
            hasher: crate::domain::credentials::SecretHasher::new(
                config.account_secrets.key_bytes(),
            ),
            lifetime: config.account_secrets.lifetime,
            login_stamp_interval: config.account_secrets.login_stamp_interval,
        })
        .data(InvitationTtl(config.invitation_ttl))
        .limit_complexity(config.limits.max_complexity)
        .extension(gate::Gate::new(config.limits, config.introspection));
    if !config.introspection {
        builder = builder.disable_introspection();
    }
    builder.finish()
}

/// The schema in SDL, as exported to `schema.graphql`.
pub fn sdl() -> String {
    schema_builder().finish().sdl()
}
