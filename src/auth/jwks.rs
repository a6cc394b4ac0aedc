//! Public keys of an identity provider (a Cognito user pool or any OIDC
//! provider), fetched from its JWKS URL and cached by `kid`.
//!
//! - Keys are fetched during init, so the first request pays nothing.
//! - A token with an unknown `kid` triggers at most one refetch per
//!   [`REFETCH_INTERVAL`] (a rotation shows up at once; a flood of forged
//!   `kid`s costs one fetch per interval); after that it is refused.
//! - The set is fetched again once it is older than its maximum age
//!   (`JWT_JWKS_MAX_AGE`, 1 h by default), by the first request after that,
//!   so a key the provider withdrew stops working even if every token
//!   still names it.
//! - A fetch has [`FETCH_TIMEOUT`] to finish; failures are logged and the
//!   keys already known stay in use (a failed fetch is tried again after
//!   [`RETRY_WHILE_EMPTY`]). No request ever waits longer. A document with
//!   no usable key is a failed fetch too: it never empties the set.
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
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm};
use jsonwebtoken::{Algorithm, DecodingKey};
use tokio::sync::{Mutex, RwLock};

/// Shortest time between two refetches caused by unknown `kid`s.
pub const REFETCH_INTERVAL: Duration = Duration::from_mins(5);
/// Shortest time between fetch attempts while no key has ever been fetched
/// (the provider was down at start-up), and between attempts to renew a
/// set past its maximum age.
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
    /// How long a fetched set is trusted.
    max_age: Duration,
    /// When the set is next renewed, whatever the tokens' `kid`s: its
    /// fetch time plus `max_age`, or shortly after a failed renewal.
    renew_at: RwLock<Instant>,
}

impl std::fmt::Debug for Jwks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Jwks")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl Jwks {
    /// A key set for `url`, trusted for `max_age` after each fetch; empty
    /// until [`Self::refresh`] runs.
    pub fn new(url: String, max_age: Duration) -> Self {
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
            max_age,
            renew_at: RwLock::new(Instant::now()),
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
        // One request renews a set past its age; the others meanwhile go on
        // with the keys known (`try_lock`), rather than all waiting up to
        // FETCH_TIMEOUT on a provider that may be down.
        if Instant::now() >= *self.renew_at.read().await
            && let Ok(mut last) = self.last_refetch.try_lock()
            && Instant::now() >= *self.renew_at.read().await
        {
            // Counts as the interval's refetch: the set is as new as it
            // gets, and a withdrawn kid must not buy another fetch.
            *last = Some(Instant::now());
            self.fetch_and_store().await;
        }
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

    /// Fetches the set and replaces the cached one; on failure keeps it
    /// and schedules the next renewal soon.
    async fn fetch_and_store(&self) {
        let fetched = match tokio::time::timeout(FETCH_TIMEOUT, self.fetch()).await {
            Ok(Ok(keys)) if keys.is_empty() => Err("it holds no usable RS256 or ES256 key".into()),
            Ok(Ok(keys)) => Ok(keys),
            Ok(Err(err)) => Err(err),
            Err(_) => Err("timed out".to_owned()),
        };
        let renew_in = match fetched {
            Ok(keys) => {
                tracing::info!(url = %self.url, keys = keys.len(), "fetched JWKS");
                *self.keys.write().await = Arc::new(keys);
                self.max_age
            }
            Err(err) => {
                let known = self.keys.read().await.len();
                tracing::warn!(url = %self.url, error = %err, keys_kept = known, "JWKS fetch failed");
                RETRY_WHILE_EMPTY
            }
        };
        *self.renew_at.write().await = Instant::now() + renew_in;
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

/// A JWKS document with its keys still unparsed, so that one key of a
/// type jsonwebtoken cannot model (a new curve or `kty`) is skipped rather
/// than failing the whole set.
#[derive(serde::Deserialize)]
struct Document {
    keys: Vec<serde_json::Value>,
}

/// The usable keys of a JWKS document, by `kid`. Keys without a `kid`,
/// with another algorithm or that do not parse are skipped.
pub fn parse(json: &[u8]) -> Result<HashMap<String, VerificationKey>, String> {
    let document: Document =
        serde_json::from_slice(json).map_err(|_| "not a JWKS document".to_owned())?;
    Ok(document
        .keys
        .into_iter()
        .filter_map(|value| {
            let jwk: Jwk = serde_json::from_value(value).ok()?;
            let jwk = &jwk;
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
        // Keys jsonwebtoken cannot model (an X25519 exchange key, a curve
        // or key type it does not know) are skipped, not fatal to the set.
        let set = serde_json::json!({"keys": [
            {"kty": "OKP", "kid": "x", "crv": "X25519", "x": "AAAA"},
            {"kty": "EC", "kid": "k1", "crv": "secp256k1", "x": "AAAA", "y": "AAAA"},
            {"kty": "PQC", "kid": "future"},
            {"kty": "RSA", "kid": "rsa", "alg": "RS256", "n": "sXch", "e": "AQAB"},
        ]});
        let keys = parse(set.to_string().as_bytes()).unwrap();
        assert_eq!(keys.keys().collect::<Vec<_>>(), ["rsa"]);
        assert_eq!(keys["rsa"].algorithm, Algorithm::RS256);
        assert!(parse(b"<html>").is_err());
    }
}
