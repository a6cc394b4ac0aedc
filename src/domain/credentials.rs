//! Account credentials: the public `authId`, the `authSecret` shown once,
//! and the keyed hash the store keeps instead of the secret.
//!
//! Why HMAC-SHA-256 with a server key rather than Argon2id: the secret is
//! 32 random bytes (256 bits), so there is nothing for a slow hash to
//! stretch; a keyed hash whose key lives outside the table means a copy of
//! the table alone cannot even test a guess; and verification is on the
//! telephony edge's hot path, where tens of milliseconds of Argon2 per call
//! would be pure cost. See `docs/decisions.md`.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{KeyInit, Mac};
use password_hash::rand_core::{OsRng, RngCore};
use sha2::Sha256;

type HmacSha256 = hmac::Hmac<Sha256>;

/// Prefix of every `authId`.
pub const AUTH_ID_PREFIX: &str = "MA_";
/// Random characters after the prefix.
pub const AUTH_ID_RANDOM_LEN: usize = 20;
/// Random bytes in a secret.
pub const SECRET_BYTES: usize = 32;
/// Marks the hash scheme, so a later scheme can be told apart.
const HASH_PREFIX: &str = "hmac-sha256$";

/// A freshly generated auth secret. It does not print; the API returns it
/// exactly once.
pub struct AuthSecret(String);

impl std::fmt::Debug for AuthSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AuthSecret([redacted])")
    }
}

impl AuthSecret {
    /// 32 bytes from the operating system's CSPRNG, base64url without
    /// padding (43 characters).
    pub fn generate() -> Self {
        let mut bytes = [0u8; SECRET_BYTES];
        OsRng.fill_bytes(&mut bytes);
        Self(URL_SAFE_NO_PAD.encode(bytes))
    }

    /// The secret's text, for the one response that shows it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// A new `authId`: `MA_` and 20 random upper-case letters and digits
/// (about 103 bits, so collisions are retried but practically never seen).
pub fn generate_auth_id() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut id = String::with_capacity(AUTH_ID_PREFIX.len() + AUTH_ID_RANDOM_LEN);
    id.push_str(AUTH_ID_PREFIX);
    while id.len() < AUTH_ID_PREFIX.len() + AUTH_ID_RANDOM_LEN {
        // Rejection sampling keeps every character equally likely.
        let byte = u8::try_from(OsRng.next_u32() & 0xff).unwrap_or(255);
        if usize::from(byte) < ALPHABET.len() * 7 {
            id.push(char::from(ALPHABET[usize::from(byte) % ALPHABET.len()]));
        }
    }
    id
}

/// Whether `raw` has the shape of an `authId` (so lookups of junk are
/// refused before they reach a key).
pub fn is_auth_id(raw: &str) -> bool {
    raw.len() == AUTH_ID_PREFIX.len() + AUTH_ID_RANDOM_LEN
        && raw.starts_with(AUTH_ID_PREFIX)
        && raw[AUTH_ID_PREFIX.len()..]
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

/// Hashes and checks auth secrets with the server's HMAC key.
#[derive(Clone)]
pub struct SecretHasher {
    key: std::sync::Arc<[u8]>,
}

impl std::fmt::Debug for SecretHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretHasher([redacted])")
    }
}

impl SecretHasher {
    /// A hasher over `key` (at least 32 bytes, checked by the config).
    pub fn new(key: &[u8]) -> Self {
        Self { key: key.into() }
    }

    fn mac(&self, secret: &str) -> HmacSha256 {
        // HMAC takes keys of any length; this cannot fail.
        let mut mac = <HmacSha256 as KeyInit>::new_from_slice(&self.key)
            .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
        mac.update(secret.as_bytes());
        mac
    }

    /// The stored form of `secret`.
    pub fn hash(&self, secret: &AuthSecret) -> String {
        let tag = self.mac(secret.expose()).finalize().into_bytes();
        format!("{HASH_PREFIX}{}", URL_SAFE_NO_PAD.encode(tag))
    }

    /// Whether `secret` matches the stored `hash`, compared in constant
    /// time. With `None` (no account has the authId) a dummy hash is
    /// checked, so the answer takes as long as a wrong secret.
    pub fn verify(&self, secret: &str, hash: Option<&str>) -> bool {
        let dummy = [0u8; 32];
        let (expected, real) = match hash
            .and_then(|h| h.strip_prefix(HASH_PREFIX))
            .and_then(|t| URL_SAFE_NO_PAD.decode(t).ok())
        {
            Some(tag) => (tag, true),
            None => (dummy.to_vec(), false),
        };
        let matches = self.mac(secret).verify_slice(&expected).is_ok();
        matches && real
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auth_ids_have_the_documented_shape() {
        for _ in 0..50 {
            let id = generate_auth_id();
            assert!(is_auth_id(&id), "{id}");
        }
        assert_ne!(generate_auth_id(), generate_auth_id());
        assert!(!is_auth_id("MA_abc"));
        assert!(!is_auth_id("XX_ABCDEFGHIJKLMNOPQRST"));
    }

    #[test]
    fn secrets_are_long_url_safe_and_do_not_print() {
        let secret = AuthSecret::generate();
        assert_eq!(secret.expose().len(), 43);
        assert!(
            secret
                .expose()
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        assert!(!format!("{secret:?}").contains(secret.expose()));
    }

    #[test]
    fn hashes_verify_only_the_right_secret_under_the_right_key() {
        let hasher = SecretHasher::new(b"0123456789abcdef0123456789abcdef");
        let secret = AuthSecret::generate();
        let hash = hasher.hash(&secret);
        assert!(!hash.contains(secret.expose()));
        assert!(hasher.verify(secret.expose(), Some(&hash)));
        assert!(!hasher.verify("wrong", Some(&hash)));
        assert!(!hasher.verify(secret.expose(), None));
        let other = SecretHasher::new(b"another key, also 32 bytes long!");
        assert!(!other.verify(secret.expose(), Some(&hash)));
    }
}
