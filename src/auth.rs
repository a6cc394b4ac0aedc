//! Bearer-token authentication.
//!
//! Tokens are HS256 JWTs. `exp` is required and must be a number (the
//! `jsonwebtoken` 10.3+ line rejects string dates), `nbf` is checked when
//! present, the algorithm must be exactly HS256 (so neither `none` nor a
//! public-key algorithm can be slipped in), and `iss`/`aud` are enforced
//! when configured. A token whose `roles` or `cognito:groups` claim lists
//! `admin` belongs to a platform admin.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::HeaderMap;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::config::JwtConfig;

/// The role that grants platform-admin rights.
pub const ADMIN_ROLE: &str = "admin";

/// Who is calling, as established by a verified token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The token's subject (`sub`), empty when the token has none.
    pub subject: String,
    /// Whether the caller is a platform admin.
    pub is_admin: bool,
}

/// Why a request is not authenticated. The message is safe to show.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No `Authorization` header.
    #[error("missing bearer token: send `Authorization: Bearer <JWT>`")]
    Missing,
    /// The header is not `Bearer <token>`.
    #[error("the Authorization header must be `Bearer <JWT>`")]
    Malformed,
    /// The token's `exp` has passed.
    #[error("the token has expired")]
    Expired,
    /// Any other verification failure (signature, algorithm, claims).
    #[error("the token is not valid")]
    Invalid,
}

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sub: Option<String>,
    exp: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    iat: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    iss: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    aud: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    roles: Vec<String>,
    #[serde(
        default,
        rename = "cognito:groups",
        skip_serializing_if = "Vec::is_empty"
    )]
    cognito_groups: Vec<String>,
}

/// Verifies bearer tokens; built once per process.
pub struct TokenVerifier {
    key: DecodingKey,
    validation: Validation,
}

impl std::fmt::Debug for TokenVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenVerifier").finish_non_exhaustive()
    }
}

impl TokenVerifier {
    /// A verifier for the configured secret, issuer and audience.
    pub fn new(config: &JwtConfig) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_required_spec_claims(&["exp"]);
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.leeway = config.leeway_seconds;
        if let Some(issuer) = &config.issuer {
            validation.set_issuer(&[issuer]);
            validation.required_spec_claims.insert("iss".into());
        }
        if let Some(audience) = &config.audience {
            validation.set_audience(&[audience]);
            validation.required_spec_claims.insert("aud".into());
        } else {
            validation.validate_aud = false;
        }
        Self {
            key: DecodingKey::from_secret(config.secret_bytes()),
            validation,
        }
    }

    /// Authenticates a request from its `Authorization` header.
    pub fn authenticate(&self, headers: &HeaderMap) -> Result<Principal, AuthError> {
        let header = headers
            .get(http::header::AUTHORIZATION)
            .ok_or(AuthError::Missing)?
            .to_str()
            .map_err(|_| AuthError::Malformed)?;
        let (scheme, token) = header.trim().split_once(' ').ok_or(AuthError::Malformed)?;
        if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
            return Err(AuthError::Malformed);
        }
        self.verify(token.trim())
    }

    /// Verifies one token.
    pub fn verify(&self, token: &str) -> Result<Principal, AuthError> {
        let data =
            jsonwebtoken::decode::<Claims>(token, &self.key, &self.validation).map_err(|err| {
                match err.kind() {
                    jsonwebtoken::errors::ErrorKind::ExpiredSignature => AuthError::Expired,
                    _ => AuthError::Invalid,
                }
            })?;
        let claims = data.claims;
        let is_admin = claims
            .roles
            .iter()
            .chain(&claims.cognito_groups)
            .any(|r| r == ADMIN_ROLE);
        Ok(Principal {
            subject: claims.sub.unwrap_or_default(),
            is_admin,
        })
    }
}

/// Mints tokens with the configured secret, for local development and tests.
pub struct TokenIssuer {
    key: EncodingKey,
    issuer: Option<String>,
    audience: Option<String>,
}

impl TokenIssuer {
    /// An issuer matching what [`TokenVerifier`] accepts for `config`.
    pub fn new(config: &JwtConfig) -> Self {
        Self {
            key: EncodingKey::from_secret(config.secret_bytes()),
            issuer: config.issuer.clone(),
            audience: config.audience.clone(),
        }
    }

    /// A token for `subject`, valid for `ttl`, an admin's if `admin`.
    pub fn mint(&self, subject: &str, admin: bool, ttl: Duration) -> String {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        let claims = Claims {
            sub: Some(subject.to_owned()),
            exp: now.saturating_add(ttl.as_secs()),
            iat: Some(now),
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            roles: if admin {
                vec![ADMIN_ROLE.to_owned()]
            } else {
                Vec::new()
            },
            cognito_groups: Vec::new(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.key).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::SecretString;

    fn config() -> JwtConfig {
        JwtConfig {
            secret: SecretString::from("0123456789abcdef0123456789abcdef"),
            issuer: None,
            audience: None,
            leeway_seconds: 0,
        }
    }

    #[test]
    fn a_minted_admin_token_verifies_as_admin() {
        let token =
            TokenIssuer::new(&config()).mint("ops@example.com", true, Duration::from_mins(1));
        let principal = TokenVerifier::new(&config()).verify(&token).unwrap();
        assert_eq!(principal.subject, "ops@example.com");
        assert!(principal.is_admin);
    }

    #[test]
    fn a_plain_token_is_not_admin() {
        let token = TokenIssuer::new(&config()).mint("u", false, Duration::from_mins(1));
        assert!(
            !TokenVerifier::new(&config())
                .verify(&token)
                .unwrap()
                .is_admin
        );
    }

    #[test]
    fn the_header_must_be_a_bearer_token() {
        let verifier = TokenVerifier::new(&config());
        let mut headers = HeaderMap::new();
        assert_eq!(verifier.authenticate(&headers), Err(AuthError::Missing));
        headers.insert("authorization", "Basic abc".parse().unwrap());
        assert_eq!(verifier.authenticate(&headers), Err(AuthError::Malformed));
        headers.insert("authorization", "Bearer ".parse().unwrap());
        assert_eq!(verifier.authenticate(&headers), Err(AuthError::Malformed));
    }
}
