//! jsonwebtoken's cryptography on ring, the library rustls already links
//! for TLS, so the binary carries one crypto library instead of two
//! (jsonwebtoken's own backends are aws-lc, 2.9 MB of C, or five RustCrypto
//! crates). Only the algorithms a Switchboard token may carry are
//! provided: HS256 (the gateway's own tokens), RS256 and ES256 (an
//! identity provider's, see `auth::jwks`), plus HS384 and HS512, which cost
//! nothing beside HS256 and let tests sign the tokens the verifier must
//! refuse (its policy, in `auth`, accepts HS256 only). Every other
//! algorithm is refused with `InvalidAlgorithm` before any key is touched.

use jsonwebtoken::crypto::{CryptoProvider, JwkUtils, JwtSigner, JwtVerifier};
use jsonwebtoken::errors::{Error, ErrorKind};
use jsonwebtoken::jwk::{EllipticCurve, ThumbprintHash};
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey, DecodingKeyKind, EncodingKey};
use ring::rand::SystemRandom;
use ring::signature::{self as ring_signature, KeyPair as _};
use ring::{digest, hmac};

/// Makes [`PROVIDER`] the process's jsonwebtoken backend. Idempotent:
/// every entry point (the binary, the tests, the benchmark) calls it
/// before the first token is signed or checked.
pub fn install() {
    // `Err` only means a provider is installed already: this one, since
    // nothing else in the crate installs one.
    let _ = PROVIDER.install_default();
}

/// ring as jsonwebtoken's backend: HS256/384/512, RS256 and ES256.
pub static PROVIDER: CryptoProvider = CryptoProvider {
    signer_factory: signer,
    verifier_factory: verifier,
    jwk_utils: JwkUtils {
        extract_rsa_public_key_components,
        extract_ec_public_key_coordinates,
        compute_digest,
    },
};

fn refused() -> Error {
    ErrorKind::InvalidAlgorithm.into()
}

/// A key is used only for its own algorithm family, as jsonwebtoken's own
/// backends insist: an RSA or EC key's bytes never become an HMAC secret
/// (the classic confusion attack), and an HMAC secret is never parsed as a
/// public key.
fn same_family(algorithm: Algorithm, key_family: AlgorithmFamily) -> Result<(), Error> {
    if algorithm.family() == key_family {
        Ok(())
    } else {
        Err(ErrorKind::InvalidKeyFormat.into())
    }
}

/// ring's HMAC for an HMAC algorithm of jsonwebtoken.
fn hmac_of(algorithm: Algorithm) -> Option<hmac::Algorithm> {
    match algorithm {
        Algorithm::HS256 => Some(hmac::HMAC_SHA256),
        Algorithm::HS384 => Some(hmac::HMAC_SHA384),
        Algorithm::HS512 => Some(hmac::HMAC_SHA512),
        _ => None,
    }
}

// The signature is `CryptoProvider::signer_factory`'s.
#[allow(clippy::trivially_copy_pass_by_ref)]
fn signer(algorithm: &Algorithm, key: &EncodingKey) -> Result<Box<dyn JwtSigner>, Error> {
    same_family(*algorithm, key.family())?;
    let secret = match algorithm {
        Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512 => Secret::Hmac(hmac::Key::new(
            hmac_of(*algorithm).ok_or_else(refused)?,
            key.try_get_hmac_secret()?,
        )),
        Algorithm::RS256 => Secret::Rsa(
            ring_signature::RsaKeyPair::from_der(key.inner())
                .map_err(|err| ErrorKind::InvalidRsaKey(err.to_string()))?,
        ),
        Algorithm::ES256 => Secret::Ecdsa(
            ring_signature::EcdsaKeyPair::from_pkcs8(
                &ring_signature::ECDSA_P256_SHA256_FIXED_SIGNING,
                key.inner(),
                &SystemRandom::new(),
            )
            .map_err(|_| ErrorKind::InvalidEcdsaKey)?,
        ),
        _ => return Err(refused()),
    };
    Ok(Box::new(Signer {
        algorithm: *algorithm,
        secret,
    }))
}

// The signature is `CryptoProvider::verifier_factory`'s.
#[allow(clippy::trivially_copy_pass_by_ref)]
fn verifier(algorithm: &Algorithm, key: &DecodingKey) -> Result<Box<dyn JwtVerifier>, Error> {
    same_family(*algorithm, key.family())?;
    let public = match (algorithm, key.kind()) {
        (Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512, _) => {
            Public::Hmac(hmac::Key::new(
                hmac_of(*algorithm).ok_or_else(refused)?,
                key.try_get_hmac_secret()?,
            ))
        }
        (Algorithm::RS256, DecodingKeyKind::RsaModulusExponent { n, e }) => Public::RsaComponents {
            n: n.clone(),
            e: e.clone(),
        },
        (Algorithm::RS256, DecodingKeyKind::SecretOrDer(der)) => Public::Der {
            algorithm: &ring_signature::RSA_PKCS1_2048_8192_SHA256,
            der: der.clone(),
        },
        (Algorithm::ES256, DecodingKeyKind::SecretOrDer(point)) => Public::Der {
            algorithm: &ring_signature::ECDSA_P256_SHA256_FIXED,
            der: point.clone(),
        },
        _ => return Err(refused()),
    };
    Ok(Box::new(Verifier {
        algorithm: *algorithm,
        public,
    }))
}

enum Secret {
    Hmac(hmac::Key),
    Rsa(ring_signature::RsaKeyPair),
    Ecdsa(ring_signature::EcdsaKeyPair),
}

struct Signer {
    algorithm: Algorithm,
    secret: Secret,
}

impl signature::Signer<Vec<u8>> for Signer {
    fn try_sign(&self, message: &[u8]) -> Result<Vec<u8>, signature::Error> {
        match &self.secret {
            Secret::Hmac(key) => Ok(hmac::sign(key, message).as_ref().to_vec()),
            Secret::Rsa(pair) => {
                let mut signature = vec![0; pair.public().modulus_len()];
                pair.sign(
                    &ring_signature::RSA_PKCS1_SHA256,
                    &SystemRandom::new(),
                    message,
                    &mut signature,
                )
                .map_err(|_| signature::Error::new())?;
                Ok(signature)
            }
            Secret::Ecdsa(pair) => pair
                .sign(&SystemRandom::new(), message)
                .map(|signature| signature.as_ref().to_vec())
                .map_err(|_| signature::Error::new()),
        }
    }
}

impl JwtSigner for Signer {
    fn algorithm(&self) -> Algorithm {
        self.algorithm
    }
}

enum Public {
    Hmac(hmac::Key),
    RsaComponents {
        n: Vec<u8>,
        e: Vec<u8>,
    },
    Der {
        algorithm: &'static dyn ring_signature::VerificationAlgorithm,
        der: Vec<u8>,
    },
}

struct Verifier {
    algorithm: Algorithm,
    public: Public,
}

impl signature::Verifier<Vec<u8>> for Verifier {
    fn verify(&self, message: &[u8], signature: &Vec<u8>) -> Result<(), signature::Error> {
        let checked = match &self.public {
            // Constant-time comparison inside ring.
            Public::Hmac(key) => hmac::verify(key, message, signature),
            Public::RsaComponents { n, e } => ring_signature::RsaPublicKeyComponents { n, e }
                .verify(
                    &ring_signature::RSA_PKCS1_2048_8192_SHA256,
                    message,
                    signature,
                ),
            Public::Der { algorithm, der } => {
                ring_signature::UnparsedPublicKey::new(*algorithm, der).verify(message, signature)
            }
        };
        checked.map_err(|_| signature::Error::new())
    }
}

impl JwtVerifier for Verifier {
    fn algorithm(&self) -> Algorithm {
        self.algorithm
    }
}

fn extract_rsa_public_key_components(der: &[u8]) -> Result<(Vec<u8>, Vec<u8>), Error> {
    let pair = ring_signature::RsaKeyPair::from_der(der)
        .map_err(|err| ErrorKind::InvalidRsaKey(err.to_string()))?;
    let components: ring_signature::RsaPublicKeyComponents<Vec<u8>> = pair.public().into();
    Ok((components.n, components.e))
}

fn extract_ec_public_key_coordinates(
    pkcs8: &[u8],
    algorithm: Algorithm,
) -> Result<(EllipticCurve, Vec<u8>, Vec<u8>), Error> {
    if algorithm != Algorithm::ES256 {
        return Err(ErrorKind::InvalidEcdsaKey.into());
    }
    let pair = ring_signature::EcdsaKeyPair::from_pkcs8(
        &ring_signature::ECDSA_P256_SHA256_FIXED_SIGNING,
        pkcs8,
        &SystemRandom::new(),
    )
    .map_err(|_| ErrorKind::InvalidEcdsaKey)?;
    match pair.public_key().as_ref() {
        [4, point @ ..] if point.len() == 64 => {
            let (x, y) = point.split_at(32);
            Ok((EllipticCurve::P256, x.to_vec(), y.to_vec()))
        }
        _ => Err(ErrorKind::InvalidEcdsaKey.into()),
    }
}

// The signature is `JwkUtils::compute_digest`'s.
#[allow(clippy::needless_pass_by_value)]
fn compute_digest(data: &[u8], hash: ThumbprintHash) -> Vec<u8> {
    let algorithm = match hash {
        ThumbprintHash::SHA256 => &digest::SHA256,
        ThumbprintHash::SHA384 => &digest::SHA384,
        ThumbprintHash::SHA512 => &digest::SHA512,
    };
    digest::digest(algorithm, data).as_ref().to_vec()
}

#[cfg(test)]
mod tests {
    use jsonwebtoken::{Header, Validation};
    use serde_json::{Value, json};

    use super::*;

    fn claims() -> Value {
        json!({ "sub": "s", "exp": jsonwebtoken::get_current_timestamp() + 60 })
    }

    fn round_trip(algorithm: Algorithm, encoding: &EncodingKey, decoding: &DecodingKey) {
        install();
        let token = jsonwebtoken::encode(&Header::new(algorithm), &claims(), encoding).unwrap();
        let decoded =
            jsonwebtoken::decode::<Value>(&token, decoding, &Validation::new(algorithm)).unwrap();
        assert_eq!(decoded.claims["sub"], "s");
        // One flipped signature byte is refused.
        let (head, signature) = token.rsplit_once('.').unwrap();
        let mut bytes = signature.as_bytes().to_vec();
        bytes[3] = if bytes[3] == b'A' { b'B' } else { b'A' };
        let forged = format!("{head}.{}", String::from_utf8(bytes).unwrap());
        assert!(
            jsonwebtoken::decode::<Value>(&forged, decoding, &Validation::new(algorithm)).is_err()
        );
    }

    #[test]
    fn hs256_signs_and_verifies() {
        round_trip(
            Algorithm::HS256,
            &EncodingKey::from_secret(b"a-secret-of-enough-length-0123456789"),
            &DecodingKey::from_secret(b"a-secret-of-enough-length-0123456789"),
        );
    }

    #[test]
    fn es256_signs_and_verifies_with_the_public_point() {
        let pkcs8 = ring_signature::EcdsaKeyPair::generate_pkcs8(
            &ring_signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            &SystemRandom::new(),
        )
        .unwrap();
        let (_, x, y) =
            extract_ec_public_key_coordinates(pkcs8.as_ref(), Algorithm::ES256).unwrap();
        let b64 = |bytes: &[u8]| {
            use base64::Engine as _;
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
        };
        round_trip(
            Algorithm::ES256,
            &EncodingKey::from_ec_der(pkcs8.as_ref()),
            &DecodingKey::from_ec_components(&b64(&x), &b64(&y)).unwrap(),
        );
    }

    #[test]
    fn other_algorithms_are_refused_not_panicked_on() {
        install();
        let key = EncodingKey::from_secret(b"a-secret-of-enough-length-0123456789");
        for algorithm in [
            Algorithm::RS384,
            Algorithm::ES384,
            Algorithm::PS256,
            Algorithm::EdDSA,
        ] {
            let err = jsonwebtoken::encode(&Header::new(algorithm), &claims(), &key).unwrap_err();
            assert_eq!(err.kind(), &ErrorKind::InvalidAlgorithm, "{algorithm:?}");
        }
        let hs256 = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims(), &key).unwrap();
        let decoding = DecodingKey::from_secret(b"a-secret-of-enough-length-0123456789");
        let err =
            jsonwebtoken::decode::<Value>(&hs256, &decoding, &Validation::new(Algorithm::HS512))
                .unwrap_err();
        // The header says HS256, the validation wants HS512: refused first.
        assert_eq!(err.kind(), &ErrorKind::InvalidAlgorithm);
    }

    #[test]
    fn a_key_is_used_only_for_its_own_family() {
        install();
        let secret = b"a-secret-of-enough-length-0123456789";
        let pkcs8 = ring_signature::EcdsaKeyPair::generate_pkcs8(
            &ring_signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            &SystemRandom::new(),
        )
        .unwrap();
        let ec_public = ring_signature::EcdsaKeyPair::from_pkcs8(
            &ring_signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            pkcs8.as_ref(),
            &SystemRandom::new(),
        )
        .unwrap()
        .public_key()
        .as_ref()
        .to_vec();
        // An EC public key's bytes as an HMAC secret: the confusion attack.
        let forged = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims(),
            &EncodingKey::from_secret(&ec_public),
        )
        .unwrap();
        let ec_key = DecodingKey::from_ec_der(&ec_public);
        let err =
            jsonwebtoken::decode::<Value>(&forged, &ec_key, &Validation::new(Algorithm::HS256))
                .unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::InvalidKeyFormat);
        // And the other way: an HMAC secret is never parsed as a public key
        // or used to sign as one.
        let es256 = jsonwebtoken::encode(
            &Header::new(Algorithm::ES256),
            &claims(),
            &EncodingKey::from_ec_der(pkcs8.as_ref()),
        )
        .unwrap();
        let err = jsonwebtoken::decode::<Value>(
            &es256,
            &DecodingKey::from_secret(secret),
            &Validation::new(Algorithm::ES256),
        )
        .unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::InvalidKeyFormat);
        // (jsonwebtoken::encode checks the family itself; the factory is
        // asked directly, as another caller of the provider would.)
        let err = (PROVIDER.signer_factory)(&Algorithm::RS256, &EncodingKey::from_secret(secret))
            .err()
            .unwrap();
        assert_eq!(err.kind(), &ErrorKind::InvalidKeyFormat);
    }
}
