//! Public keys of an identity provider (a Cognito user pool or any OIDC
//! provider), fetched from its JWKS URL and cached by `kid`.
//!
//! - Keys are fetched during init, so the first request pays nothing.
//! - A token with an unknown `kid` triggers at most one refetch per
//!   [`REFETCH_INTERVAL`] (a rotation shows up at once; a flood of forged
//!   `kid`s costs one fetch per interval); after that it is refused.
//! - A fetch has [`FETCH_TIMEOUT`] to finish; failures are logged and the
//!   keys already known stay in use. No request ever waits longer.
//! - Each key's algorithm comes from the JWK itself (its `alg`, else its
//!   key type and curve), limited to RS256 and ES256: never from the token.
//!
//! The HTTPS client is hyper with rustls, already in the build for the AWS
//! SDK, so this adds no TLS stack of its own.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt as _, Empty, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, JwkSet, KeyAlgorithm};
use jsonwebtoken::{Algorithm, DecodingKey};
use tokio::sync::{Mutex, RwLock};

/// Shortest time between two refetches caused by unknown `kid`s.
pub const REFETCH_INTERVAL: Duration = Duration::from_mins(5);
/// Shortest time between fetch attempts while no key has ever been fetched
/// (the provider was down at start-up).
pub const RETRY_WHILE_EMPTY: Duration = Duration::from_secs(10);
/// Longest a fetch may take.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(2);
/// Largest JWKS document accepted.
const MAX_JWKS_BYTES: usize = 256 * 1024;

/// A verification key and the one algorithm it may verify.
#[derive(Clone)]
pub struct VerificationKey {
    /// The key.
    pub key: DecodingKey,
    /// Its algorithm, from the JWK.
    pub algorithm: Algorithm,
}

/// The cached key set of one JWKS URL.
pub struct Jwks {
    url: String,
    client: Client<HttpsConnector<HttpConnector>, Empty<Bytes>>,
    keys: RwLock<Arc<HashMap<String, VerificationKey>>>,
    /// When an unknown `kid` last caused a fetch; held while fetching, so
    /// concurrent requests with an unknown `kid` share one fetch. The fetch
    /// during init does not count, so a rotation right after start-up is
    /// still picked up.
    last_refetch: Mutex<Option<Instant>>,
}

impl std::fmt::Debug for Jwks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Jwks")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl Jwks {
    /// A key set for `url`, empty until [`Self::refresh`] runs.
    pub fn new(url: String) -> Self {
        let provider = || rustls::crypto::ring::default_provider();
        let builder = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_native_roots(provider())
            .unwrap_or_else(|err| {
                // Fetches over https then fail, and are logged as such.
                tracing::error!(error = %err, "no TLS root certificates; JWKS over https will fail");
                let config = rustls::ClientConfig::builder_with_provider(Arc::new(provider()))
                    .with_safe_default_protocol_versions()
                    .unwrap_or_else(|_| unreachable!("ring supports TLS 1.2 and 1.3"))
                    .with_root_certificates(rustls::RootCertStore::empty())
                    .with_no_client_auth();
                hyper_rustls::HttpsConnectorBuilder::new().with_tls_config(config)
            });
        let connector = builder.https_or_http().enable_http1().build();
        Self {
            url,
            client: Client::builder(TokioExecutor::new()).build(connector),
            keys: RwLock::new(Arc::new(HashMap::new())),
            last_refetch: Mutex::new(None),
        }
    }

    /// Fetches the key set now (during init). A failure is logged; requests
    /// then try again, rate-limited.
    pub async fn refresh(&self) {
        let _fetching = self.last_refetch.lock().await;
        self.fetch_and_store().await;
    }

    /// The key for `kid`, refetching the set first when it is unknown and
    /// the rate limit allows.
    pub async fn key(&self, kid: &str) -> Option<VerificationKey> {
        if let Some(key) = self.keys.read().await.get(kid) {
            return Some(key.clone());
        }
        let mut last = self.last_refetch.lock().await;
        // Another request may have fetched while this one waited.
        if let Some(key) = self.keys.read().await.get(kid) {
            return Some(key.clone());
        }
        let interval = if self.keys.read().await.is_empty() {
            RETRY_WHILE_EMPTY
        } else {
            REFETCH_INTERVAL
        };
        if last.is_some_and(|at| at.elapsed() < interval) {
            return None;
        }
        *last = Some(Instant::now());
        self.fetch_and_store().await;
        self.keys.read().await.get(kid).cloned()
    }

    async fn fetch_and_store(&self) {
        match tokio::time::timeout(FETCH_TIMEOUT, self.fetch()).await {
            Ok(Ok(keys)) => {
                tracing::info!(url = %self.url, keys = keys.len(), "fetched JWKS");
                *self.keys.write().await = Arc::new(keys);
            }
            Ok(Err(err)) => tracing::warn!(url = %self.url, error = %err, "JWKS fetch failed"),
            Err(_) => tracing::warn!(url = %self.url, "JWKS fetch timed out"),
        }
    }

    async fn fetch(&self) -> Result<HashMap<String, VerificationKey>, String> {
        let uri: http::Uri = self
            .url
            .parse()
            .map_err(|_| "invalid JWKS URL".to_owned())?;
        let response = self
            .client
            .get(uri)
            .await
            .map_err(|err| format!("request failed: {err}"))?;
        if !response.status().is_success() {
            return Err(format!("status {}", response.status()));
        }
        let body = Limited::new(response.into_body(), MAX_JWKS_BYTES)
            .collect()
            .await
            .map_err(|err| format!("reading the body failed: {err}"))?
            .to_bytes();
        parse(&body)
    }
}

/// The usable keys of a JWKS document, by `kid`. Keys without a `kid`,
/// with another algorithm or that do not parse are skipped.
pub fn parse(json: &[u8]) -> Result<HashMap<String, VerificationKey>, String> {
    let set: JwkSet = serde_json::from_slice(json).map_err(|_| "not a JWKS document".to_owned())?;
    Ok(set
        .keys
        .iter()
        .filter_map(|jwk| {
            let kid = jwk.common.key_id.clone()?;
            let algorithm = algorithm_of(jwk)?;
            let key = DecodingKey::from_jwk(jwk).ok()?;
            Some((kid, VerificationKey { key, algorithm }))
        })
        .collect())
}

/// The algorithm a JWK may verify: its `alg` if given, else what its key
/// type implies; only RS256 and ES256.
fn algorithm_of(jwk: &Jwk) -> Option<Algorithm> {
    let implied = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => Algorithm::RS256,
        AlgorithmParameters::EllipticCurve(ec) if ec.curve == EllipticCurve::P256 => {
            Algorithm::ES256
        }
        _ => return None,
    };
    match jwk.common.key_algorithm {
        None => Some(implied),
        Some(KeyAlgorithm::RS256) if implied == Algorithm::RS256 => Some(implied),
        Some(KeyAlgorithm::ES256) if implied == Algorithm::ES256 => Some(implied),
        Some(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_of_other_types_or_algorithms_are_skipped() {
        let set = serde_json::json!({"keys": [
            {"kty": "oct", "kid": "hmac", "k": "c2VjcmV0"},
            {"kty": "RSA", "kid": "rsa-ps", "alg": "PS256", "n": "sXch", "e": "AQAB"},
            {"kty": "RSA", "alg": "RS256", "n": "sXch", "e": "AQAB"},
            {"kty": "RSA", "kid": "rsa", "alg": "RS256", "n": "sXch", "e": "AQAB"},
        ]});
        let keys = parse(set.to_string().as_bytes()).unwrap();
        assert_eq!(keys.keys().collect::<Vec<_>>(), ["rsa"]);
        assert_eq!(keys["rsa"].algorithm, Algorithm::RS256);
        assert!(parse(b"<html>").is_err());
    }
}
