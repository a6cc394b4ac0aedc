//! Minting HS256 tokens with the configured secret, for local development
//! (`switchboard token`) and tests. Production tokens come from an identity
//! provider or from whatever holds the shared secret.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::Serialize;

use super::ADMIN_ROLE;
use crate::config::JwtConfig;

#[derive(Debug, Serialize)]
struct MintedClaims<'a> {
    sub: &'a str,
    exp: u64,
    iat: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    iss: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    aud: Option<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    roles: Vec<&'a str>,
}

/// Mints tokens with the configured secret, for local development and tests.
pub struct TokenIssuer {
    key: EncodingKey,
    issuer: Option<String>,
    audience: Option<String>,
}

impl TokenIssuer {
    /// An issuer matching what [`super::TokenVerifier`] accepts for
    /// `config`; without a secret its tokens verify nowhere.
    pub fn new(config: &JwtConfig) -> Self {
        super::crypto::install();
        Self {
            key: EncodingKey::from_secret(config.secret_bytes()),
            issuer: config.issuer.clone(),
            audience: config.audience.clone(),
        }
    }

    /// A token for `subject`, valid for `ttl`, an admin's if `admin`.
    pub fn mint(&self, subject: &str, admin: bool, ttl: Duration) -> String {
        self.mint_with_roles(subject, if admin { &[ADMIN_ROLE] } else { &[] }, ttl)
    }

    /// A token for `subject` whose `roles` claim lists `roles` (platform
    /// roles such as `support` or `telephony-edge`, as `PLATFORM_ROLES`
    /// maps them).
    pub fn mint_with_roles(&self, subject: &str, roles: &[&str], ttl: Duration) -> String {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        let claims = MintedClaims {
            sub: subject,
            exp: now.saturating_add(ttl.as_secs()),
            iat: now,
            iss: self.issuer.as_deref(),
            aud: self.audience.as_deref(),
            roles: roles.to_vec(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.key).unwrap_or_default()
    }
}
