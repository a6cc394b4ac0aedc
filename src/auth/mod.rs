//! Bearer-token authentication.
//!
//! Two kinds of token are accepted, each only when configured:
//! - **HS256** with the shared secret (`JWT_SECRET`, or read from Secrets
//!   Manager at init): development, tests, deployments without an identity
//!   provider.
//! - **RS256 / ES256** from an OIDC provider such as a Cognito user pool,
//!   verified with its published keys ([`jwks`]).
//!
//! Algorithm confusion is impossible: an HS256 token is checked only with
//! the configured secret (never with a key from the JWKS), an RS256/ES256
//! token only with the JWK its `kid` names, and that JWK's own algorithm
//! must match. `none` and every other algorithm are refused. `exp` is
//! required and numeric (`jsonwebtoken` 10.3+ rejects string dates), `nbf`
//! is checked when present, `iss` when configured. The audience, when
//! configured, is `aud` — or, for a Cognito access token (`token_use:
//! access`, which has no `aud`), its `client_id`. A token whose `roles` or
//! `cognito:groups` lists `admin` belongs to a platform admin; the user id
//! is read from the claim named by `JWT_USER_CLAIM` (default `sub`).

pub mod crypto;
pub mod issuer;
pub mod jwks;

use std::sync::Arc;

use http::HeaderMap;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::config::JwtConfig;
use crate::domain::access::PlatformRole;
pub use issuer::TokenIssuer;
use jwks::Jwks;

/// The role that grants platform-admin rights.
pub const ADMIN_ROLE: &str = "admin";

/// Who is calling, as established by a verified token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The token's subject (`sub`), empty when the token has none.
    pub subject: String,
    /// Whether the caller is a platform admin.
    pub is_admin: bool,
    /// The platform role the token's roles grant (the most privileged, if
    /// several), `None` for a user's token.
    pub platform_role: Option<PlatformRole>,
    /// The Switchboard user the caller acts as: the value of the configured
    /// user claim (`JWT_USER_CLAIM`, default `sub`), when present.
    pub user_id: Option<String>,
    /// When the token was issued (`iat`), if it says: a user's sign-in is
    /// recorded once per token, the first time one issued later is seen.
    pub issued_at: Option<i64>,
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

/// The claims every token is checked for beyond what `jsonwebtoken`
/// validates; the rest of the token's claims are kept for the user claim.
#[derive(Debug, Deserialize)]
struct Claims {
    #[serde(default)]
    sub: Option<String>,
    #[serde(default)]
    aud: Option<Audience>,
    #[serde(default)]
    client_id: Option<String>,
    #[serde(default)]
    token_use: Option<String>,
    #[serde(default)]
    iat: Option<serde_json::Number>,
    #[serde(default)]
    roles: Vec<String>,
    #[serde(default, rename = "cognito:groups")]
    cognito_groups: Vec<String>,
    #[serde(flatten)]
    other: Map<String, Value>,
}

/// `aud` is a string or a list of strings.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Audience {
    One(String),
    Many(Vec<String>),
}

impl Audience {
    fn contains(&self, wanted: &str) -> bool {
        match self {
            Self::One(aud) => aud == wanted,
            Self::Many(auds) => auds.iter().any(|a| a == wanted),
        }
    }
}

/// Verifies bearer tokens; built once per process.
pub struct TokenVerifier {
    secret: Option<DecodingKey>,
    jwks: Option<Arc<Jwks>>,
    issuer: Option<String>,
    audience: Option<String>,
    user_claim: String,
    leeway: u64,
    platform_roles: Vec<(String, PlatformRole)>,
}

impl std::fmt::Debug for TokenVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenVerifier")
            .field("hs256", &self.secret.is_some())
            .field("jwks", &self.jwks)
            .finish_non_exhaustive()
    }
}

impl TokenVerifier {
    /// A verifier for the configured secret, key set, issuer and audience.
    /// The key set starts empty: call [`Self::prefetch`] during init.
    pub fn new(config: &JwtConfig) -> Self {
        crypto::install();
        Self {
            secret: config
                .secret
                .as_ref()
                .map(|_| DecodingKey::from_secret(config.secret_bytes())),
            jwks: config
                .jwks_url
                .clone()
                .map(|url| Arc::new(Jwks::new(url, config.jwks_max_age))),
            issuer: config.issuer.clone(),
            audience: config.audience.clone(),
            user_claim: config.user_claim.clone(),
            leeway: config.leeway_seconds,
            platform_roles: config.platform_roles.clone(),
        }
    }

    /// Fetches the identity provider's keys, so the first request does not
    /// wait for them. A failure is logged, not fatal.
    pub async fn prefetch(&self) {
        if let Some(jwks) = &self.jwks {
            jwks.refresh().await;
        }
    }

    /// Authenticates a request from its `Authorization` header.
    pub async fn authenticate(&self, headers: &HeaderMap) -> Result<Principal, AuthError> {
        let header = headers
            .get(http::header::AUTHORIZATION)
            .ok_or(AuthError::Missing)?
            .to_str()
            .map_err(|_| AuthError::Malformed)?;
        let (scheme, token) = header.trim().split_once(' ').ok_or(AuthError::Malformed)?;
        if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
            return Err(AuthError::Malformed);
        }
        self.verify(token.trim()).await
    }

    /// Verifies one token.
    pub async fn verify(&self, token: &str) -> Result<Principal, AuthError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| AuthError::Invalid)?;
        let (key, algorithm) = match header.alg {
            Algorithm::HS256 => (
                self.secret.clone().ok_or(AuthError::Invalid)?,
                Algorithm::HS256,
            ),
            Algorithm::RS256 | Algorithm::ES256 => {
                let jwks = self.jwks.as_ref().ok_or(AuthError::Invalid)?;
                let kid = header.kid.as_deref().ok_or(AuthError::Invalid)?;
                let found = jwks.key(kid).await.ok_or(AuthError::Invalid)?;
                (found.key, found.algorithm)
            }
            _ => return Err(AuthError::Invalid),
        };
        let data = jsonwebtoken::decode::<Claims>(token, &key, &self.validation(algorithm))
            .map_err(|err| match err.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => AuthError::Expired,
                _ => AuthError::Invalid,
            })?;
        let claims = data.claims;
        self.check_audience(&claims)?;
        let platform_role = claims
            .roles
            .iter()
            .chain(&claims.cognito_groups)
            .filter_map(|held| {
                self.platform_roles
                    .iter()
                    .find(|(token_role, _)| token_role == held)
                    .map(|(_, role)| *role)
            })
            .max();
        let is_admin = platform_role == Some(PlatformRole::Admin);
        let user_id = if self.user_claim == "sub" {
            claims.sub.clone()
        } else {
            claims
                .other
                .get(&self.user_claim)
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        Ok(Principal {
            subject: claims.sub.unwrap_or_default(),
            is_admin,
            platform_role,
            user_id,
            issued_at: claims.iat.as_ref().and_then(serde_json::Number::as_i64),
        })
    }

    /// What `jsonwebtoken` checks for a token of `algorithm`: exactly that
    /// algorithm, `exp`, `nbf`, and `iss` when configured. The audience is
    /// checked by [`Self::check_audience`], which knows Cognito's shapes.
    fn validation(&self, algorithm: Algorithm) -> Validation {
        let mut validation = Validation::new(algorithm);
        validation.set_required_spec_claims(&["exp"]);
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.leeway = self.leeway;
        validation.validate_aud = false;
        if let Some(issuer) = &self.issuer {
            validation.set_issuer(&[issuer]);
            validation.required_spec_claims.insert("iss".into());
        }
        validation
    }

    /// With an audience configured: an access token (`token_use: access`,
    /// Cognito's, without `aud`) must name it as `client_id`; any other
    /// token (an id token, `token_use: id`, or a token without
    /// `token_use`) in `aud`. Unknown `token_use` values are refused.
    fn check_audience(&self, claims: &Claims) -> Result<(), AuthError> {
        let ok = match (claims.token_use.as_deref(), &self.audience) {
            (Some(other), _) if other != "access" && other != "id" => false,
            (_, None) => true,
            (Some("access"), Some(audience)) => claims.client_id.as_deref() == Some(audience),
            (_, Some(audience)) => claims.aud.as_ref().is_some_and(|a| a.contains(audience)),
        };
        if ok { Ok(()) } else { Err(AuthError::Invalid) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{EncodingKey, Header};
    use secrecy::SecretString;
    use std::time::Duration;

    const SECRET: &str = "0123456789abcdef0123456789abcdef";

    fn config() -> JwtConfig {
        JwtConfig {
            secret: Some(SecretString::from(SECRET)),
            secret_arn: None,
            jwks_url: None,
            issuer: None,
            audience: None,
            user_claim: "sub".into(),
            leeway_seconds: 0,
            jwks_max_age: crate::config::DEFAULT_JWKS_MAX_AGE,
            platform_roles: PlatformRole::ALL
                .into_iter()
                .map(|r| (r.as_str().to_owned(), r))
                .collect(),
        }
    }

    fn hs256(claims: &Value) -> String {
        crypto::install();
        jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            claims,
            &EncodingKey::from_secret(SECRET.as_bytes()),
        )
        .unwrap()
    }

    fn in_a_minute() -> u64 {
        jsonwebtoken::get_current_timestamp() + 60
    }

    #[tokio::test]
    async fn a_minted_admin_token_verifies_as_admin() {
        let token =
            TokenIssuer::new(&config()).mint("ops@example.com", true, Duration::from_mins(1));
        let principal = TokenVerifier::new(&config()).verify(&token).await.unwrap();
        assert_eq!(principal.subject, "ops@example.com");
        assert_eq!(principal.user_id.as_deref(), Some("ops@example.com"));
        assert!(principal.is_admin);
    }

    #[tokio::test]
    async fn a_plain_token_is_not_admin() {
        let token = TokenIssuer::new(&config()).mint("u", false, Duration::from_mins(1));
        let principal = TokenVerifier::new(&config()).verify(&token).await.unwrap();
        assert!(!principal.is_admin);
    }

    #[tokio::test]
    async fn the_user_id_comes_from_the_configured_claim() {
        let mut config = config();
        config.user_claim = "custom:switchboard_user_id".into();
        let token = hs256(
            &serde_json::json!({"sub": "cognito-sub", "exp": in_a_minute(),
            "custom:switchboard_user_id": "0190-user"}),
        );
        let principal = TokenVerifier::new(&config).verify(&token).await.unwrap();
        assert_eq!(principal.subject, "cognito-sub");
        assert_eq!(principal.user_id.as_deref(), Some("0190-user"));
        let without = hs256(&serde_json::json!({"sub": "s", "exp": in_a_minute()}));
        let principal = TokenVerifier::new(&config).verify(&without).await.unwrap();
        assert_eq!(principal.user_id, None);
    }

    #[tokio::test]
    async fn the_audience_is_aud_or_for_access_tokens_client_id() {
        let mut config = config();
        config.audience = Some("app-client".into());
        let verifier = TokenVerifier::new(&config);
        let exp = in_a_minute();
        let cases = [
            (serde_json::json!({"exp": exp, "aud": "app-client"}), true),
            (
                serde_json::json!({"exp": exp, "aud": ["other", "app-client"]}),
                true,
            ),
            (serde_json::json!({"exp": exp, "aud": "other"}), false),
            (serde_json::json!({"exp": exp}), false),
            (
                serde_json::json!({"exp": exp, "token_use": "access", "client_id": "app-client"}),
                true,
            ),
            (
                serde_json::json!({"exp": exp, "token_use": "access", "client_id": "other"}),
                false,
            ),
            (
                serde_json::json!({"exp": exp, "token_use": "access", "aud": "app-client"}),
                false,
            ),
            (
                serde_json::json!({"exp": exp, "token_use": "id", "aud": "app-client"}),
                true,
            ),
            (
                serde_json::json!({"exp": exp, "token_use": "id", "client_id": "app-client"}),
                false,
            ),
            (
                serde_json::json!({"exp": exp, "token_use": "refresh", "aud": "app-client"}),
                false,
            ),
        ];
        for (claims, accepted) in cases {
            assert_eq!(
                verifier.verify(&hs256(&claims)).await.is_ok(),
                accepted,
                "{claims}"
            );
        }
    }

    #[tokio::test]
    async fn without_a_secret_hs256_tokens_are_refused() {
        let mut config = config();
        let token = TokenIssuer::new(&config).mint("u", true, Duration::from_mins(1));
        config.secret = None;
        config.jwks_url = Some("http://127.0.0.1:9/jwks.json".into());
        assert_eq!(
            TokenVerifier::new(&config).verify(&token).await,
            Err(AuthError::Invalid)
        );
    }

    #[tokio::test]
    async fn the_header_must_be_a_bearer_token() {
        let verifier = TokenVerifier::new(&config());
        let mut headers = HeaderMap::new();
        assert_eq!(
            verifier.authenticate(&headers).await,
            Err(AuthError::Missing)
        );
        headers.insert("authorization", "Basic abc".parse().unwrap());
        assert_eq!(
            verifier.authenticate(&headers).await,
            Err(AuthError::Malformed)
        );
        headers.insert("authorization", "Bearer ".parse().unwrap());
        assert_eq!(
            verifier.authenticate(&headers).await,
            Err(AuthError::Malformed)
        );
    }
}
