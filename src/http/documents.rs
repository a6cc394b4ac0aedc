//! Which document a request runs: the text it sent, or one named by hash.
//!
//! - **Persisted queries** (the `extensions.persistedQuery { version: 1,
//!   sha256Hash }` protocol Apollo Client and urql speak): a hash alone runs
//!   a document this process has seen with that hash, or a trusted one;
//!   otherwise `PERSISTED_QUERY_NOT_FOUND`, and the client sends the text
//!   once with the hash. The cache is a per-process LRU, which on Lambda
//!   lives as long as the execution environment.
//! - **Trusted documents**: with a manifest configured, callers who are not
//!   admins (and admins too when `TRUSTED_DOCUMENTS_ENFORCE_ADMINS`) may run
//!   only the manifest's documents. Everything is decided here, before any
//!   parser sees the text.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};

use lru::LruCache;
use sha2::{Digest as _, Sha256};

/// The persisted-query protocol version this server speaks.
const PROTOCOL_VERSION: i64 = 1;

/// Largest document the persisted-query cache keeps. Bodies may be 1 MiB,
/// and a cache of 1,000 such documents would outgrow a 512 MB Lambda; a
/// larger document still runs, it is just not remembered (the client sends
/// its text again). Real documents are a few KiB.
pub const MAX_CACHED_DOCUMENT_BYTES: usize = 32 * 1024;

/// What a request asked to run, before resolution.
#[derive(Debug, Default)]
pub struct Asked {
    /// The document text, if sent.
    pub query: Option<String>,
    /// `extensions.persistedQuery.sha256Hash`, if sent.
    pub hash: Option<String>,
    /// `extensions.persistedQuery.version`, if sent.
    pub version: Option<i64>,
}

/// Why a request's document is refused. Each maps to one client error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// A hash this server does not know: send the text with it.
    NotFound,
    /// A document that is not in the trusted manifest.
    NotTrusted,
    /// The text does not hash to the hash sent with it.
    HashMismatch,
    /// A persisted-query version other than 1.
    UnsupportedVersion,
    /// Neither text nor hash.
    Missing,
}

/// The trusted manifest and the persisted-query cache; one per process.
pub struct Documents {
    trusted: Option<TrustedDocuments>,
    enforce_admins: bool,
    cache: Mutex<LruCache<String, Arc<str>>>,
}

impl std::fmt::Debug for Documents {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Documents")
            .field("trusted", &self.trusted.as_ref().map(TrustedDocuments::len))
            .field("enforce_admins", &self.enforce_admins)
            .finish_non_exhaustive()
    }
}

/// The lower-case hex SHA-256 of a document, as the protocol names it.
pub fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .fold(String::with_capacity(64), |mut hex, byte| {
            let _ = write!(hex, "{byte:02x}");
            hex
        })
}

/// Who asks for a document, as far as choosing it goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Asker {
    /// No token: only an anonymous operation (accepting an invitation) can
    /// follow, and the persisted-query cache is out of its reach.
    Anonymous,
    /// A signed-in user.
    User,
    /// A platform admin: free of the trusted manifest unless
    /// `TRUSTED_DOCUMENTS_ENFORCE_ADMINS` binds admins too.
    Admin,
}

impl Documents {
    /// Documents with an optional trusted manifest and a cache of
    /// `cache_size` persisted queries.
    pub fn new(
        trusted: Option<TrustedDocuments>,
        enforce_admins: bool,
        cache_size: NonZeroUsize,
    ) -> Self {
        Self {
            trusted,
            enforce_admins,
            cache: Mutex::new(LruCache::new(cache_size)),
        }
    }

    /// The text to run for what a caller asked, or why not.
    pub fn resolve(&self, asked: Asked, who: Asker) -> Result<String, Refusal> {
        if asked.version.is_some_and(|v| v != PROTOCOL_VERSION) {
            return Err(Refusal::UnsupportedVersion);
        }
        let enforced = self
            .trusted
            .as_ref()
            .filter(|_| who != Asker::Admin || self.enforce_admins);
        // A caller without a token neither fills the cache (evicting what
        // signed-in clients rely on) nor reads it (learning what others
        // ran): only the trusted manifest and the text it sends count.
        let uses_cache = who != Asker::Anonymous;
        match (asked.query, asked.hash) {
            (None, None) => Err(Refusal::Missing),
            (None, Some(hash)) => {
                if let Some(text) = self.trusted.as_ref().and_then(|t| t.by_key(&hash)) {
                    return Ok(text.to_owned());
                }
                if enforced.is_some() || !uses_cache {
                    return Err(Refusal::NotFound);
                }
                self.cached(&hash).ok_or(Refusal::NotFound)
            }
            (Some(query), hash) => {
                let actual = (hash.is_some() || enforced.is_some()).then(|| sha256_hex(&query));
                if let (Some(hash), Some(actual)) = (&hash, &actual)
                    && !hash.eq_ignore_ascii_case(actual)
                {
                    return Err(Refusal::HashMismatch);
                }
                if let (Some(trusted), Some(actual)) = (enforced, &actual) {
                    return if trusted.contains_text_hash(actual) {
                        Ok(query)
                    } else {
                        Err(Refusal::NotTrusted)
                    };
                }
                if let Some(actual) = actual.filter(|_| uses_cache) {
                    self.remember(actual, &query);
                }
                Ok(query)
            }
        }
    }

    fn cached(&self, hash: &str) -> Option<String> {
        let mut cache = self
            .cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        cache
            .get(&hash.to_ascii_lowercase())
            .map(ToString::to_string)
    }

    fn remember(&self, hash: String, text: &str) {
        if text.len() > MAX_CACHED_DOCUMENT_BYTES {
            return;
        }
        let mut cache = self
            .cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        cache.put(hash, Arc::from(text));
    }
}

/// A trusted-documents manifest, read once at start-up
/// (`TRUSTED_DOCUMENTS`).
#[derive(Clone)]
pub struct TrustedDocuments {
    by_key: HashMap<String, String>,
    text_hashes: HashSet<String>,
}

impl std::fmt::Debug for TrustedDocuments {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TrustedDocuments({} documents)", self.by_key.len())
    }
}

impl TrustedDocuments {
    /// Parses a manifest: a JSON object of key → document, as GraphQL
    /// Codegen's persisted-documents output (key = SHA-256 of the text) and
    /// Relay's persisted output produce.
    pub fn parse(json: &str) -> Result<Self, String> {
        let manifest: HashMap<String, String> = serde_json::from_str(json)
            .map_err(|_| "must be a JSON object of hash → document text".to_owned())?;
        // GraphQL Codegen's client preset writes `sha256:<hex>` keys, while
        // clients send the bare hex in `persistedQuery.sha256Hash`.
        let manifest: HashMap<String, String> = manifest
            .into_iter()
            .map(|(key, text)| {
                let key = key.strip_prefix("sha256:").unwrap_or(&key).to_owned();
                (key, text)
            })
            .collect();
        if manifest.is_empty() {
            return Err("lists no documents".into());
        }
        let text_hashes = manifest.values().map(|text| sha256_hex(text)).collect();
        Ok(Self {
            by_key: manifest,
            text_hashes,
        })
    }

    /// The document a client names by `key`.
    pub fn by_key(&self, key: &str) -> Option<&str> {
        self.by_key
            .get(key)
            .or_else(|| self.by_key.get(&key.to_ascii_lowercase()))
            .map(String::as_str)
    }

    /// Whether a document whose text hashes to `hash` is trusted.
    pub fn contains_text_hash(&self, hash: &str) -> bool {
        self.text_hashes.contains(hash)
    }

    /// How many documents the manifest lists.
    pub fn len(&self) -> usize {
        self.by_key.len()
    }

    /// Whether the manifest lists no documents (never, once parsed).
    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const QUERY: &str = "{ pricingTiers { edges { cursor } } }";

    fn documents(trusted: Option<&str>, enforce_admins: bool) -> Documents {
        Documents::new(
            trusted.map(|json| TrustedDocuments::parse(json).unwrap()),
            enforce_admins,
            NonZeroUsize::new(2).unwrap(),
        )
    }

    fn asked(query: Option<&str>, hash: Option<&str>) -> Asked {
        Asked {
            query: query.map(str::to_owned),
            hash: hash.map(str::to_owned),
            version: hash.map(|_| 1),
        }
    }

    #[test]
    fn a_hash_runs_once_its_text_was_sent_with_it() {
        let docs = documents(None, false);
        let hash = sha256_hex(QUERY);
        assert_eq!(
            docs.resolve(asked(None, Some(&hash)), Asker::User),
            Err(Refusal::NotFound)
        );
        assert_eq!(
            docs.resolve(asked(Some(QUERY), Some(&hash)), Asker::User)
                .unwrap(),
            QUERY
        );
        assert_eq!(
            docs.resolve(asked(None, Some(&hash)), Asker::User).unwrap(),
            QUERY
        );
        assert_eq!(
            docs.resolve(asked(Some("{ x }"), Some(&hash)), Asker::User),
            Err(Refusal::HashMismatch)
        );
    }

    #[test]
    fn documents_too_large_to_cache_run_but_are_not_remembered() {
        let docs = documents(None, false);
        let big = format!("{{ __typename }}{}", " ".repeat(MAX_CACHED_DOCUMENT_BYTES));
        let hash = sha256_hex(&big);
        assert_eq!(
            docs.resolve(asked(Some(&big), Some(&hash)), Asker::User)
                .unwrap(),
            big
        );
        assert_eq!(
            docs.resolve(asked(None, Some(&hash)), Asker::User),
            Err(Refusal::NotFound)
        );
    }

    #[test]
    fn the_cache_forgets_the_least_recently_used() {
        let docs = documents(None, false);
        for text in ["{ a }", "{ b }", "{ c }"] {
            docs.resolve(asked(Some(text), Some(&sha256_hex(text))), Asker::User)
                .unwrap();
        }
        assert_eq!(
            docs.resolve(asked(None, Some(&sha256_hex("{ a }"))), Asker::User),
            Err(Refusal::NotFound)
        );
        assert!(
            docs.resolve(asked(None, Some(&sha256_hex("{ c }"))), Asker::User)
                .is_ok()
        );
    }

    #[test]
    fn trusted_documents_bind_callers_who_are_not_admins() {
        let hash = sha256_hex(QUERY);
        let manifest = format!("{{\"{hash}\": \"{QUERY}\"}}");
        let docs = documents(Some(&manifest), false);
        assert_eq!(
            docs.resolve(asked(None, Some(&hash)), Asker::User).unwrap(),
            QUERY
        );
        assert_eq!(
            docs.resolve(asked(Some(QUERY), None), Asker::User).unwrap(),
            QUERY
        );
        assert_eq!(
            docs.resolve(asked(Some("{ __typename }"), None), Asker::User),
            Err(Refusal::NotTrusted)
        );
        let other = sha256_hex("{ __typename }");
        assert_eq!(
            docs.resolve(asked(Some("{ __typename }"), Some(&other)), Asker::User),
            Err(Refusal::NotTrusted)
        );
        assert_eq!(
            docs.resolve(asked(None, Some(&other)), Asker::User),
            Err(Refusal::NotFound)
        );
        // Admins keep free-form queries unless told otherwise.
        assert!(
            docs.resolve(asked(Some("{ __typename }"), None), Asker::Admin)
                .is_ok()
        );
        let strict = documents(Some(&manifest), true);
        assert_eq!(
            strict.resolve(asked(Some("{ __typename }"), None), Asker::Admin),
            Err(Refusal::NotTrusted)
        );
    }

    #[test]
    fn callers_without_a_token_neither_fill_nor_read_the_cache() {
        let docs = documents(None, false);
        let hash = sha256_hex(QUERY);
        // Sent by an anonymous caller: it runs, and is not remembered.
        assert_eq!(
            docs.resolve(asked(Some(QUERY), Some(&hash)), Asker::Anonymous)
                .unwrap(),
            QUERY
        );
        assert_eq!(
            docs.resolve(asked(None, Some(&hash)), Asker::User),
            Err(Refusal::NotFound)
        );
        // Remembered for a signed-in caller, it is still not found by hash
        // for an anonymous one: the cache cannot be probed without a token.
        docs.resolve(asked(Some(QUERY), Some(&hash)), Asker::User)
            .unwrap();
        assert_eq!(
            docs.resolve(asked(None, Some(&hash)), Asker::Anonymous),
            Err(Refusal::NotFound)
        );
        assert_eq!(
            docs.resolve(asked(None, Some(&hash)), Asker::User).unwrap(),
            QUERY
        );
    }

    #[test]
    fn other_versions_and_empty_requests_are_refused() {
        let docs = documents(None, false);
        let mut request = asked(Some(QUERY), Some(&sha256_hex(QUERY)));
        request.version = Some(2);
        assert_eq!(
            docs.resolve(request, Asker::User),
            Err(Refusal::UnsupportedVersion)
        );
        assert_eq!(
            docs.resolve(asked(None, None), Asker::User),
            Err(Refusal::Missing)
        );
    }

    #[test]
    fn codegen_keys_with_a_sha256_prefix_are_found_by_their_bare_hash() {
        let hash = sha256_hex(QUERY);
        let manifest = format!("{{\"sha256:{hash}\": \"{QUERY}\"}}");
        let docs = documents(Some(&manifest), false);
        assert_eq!(
            docs.resolve(asked(None, Some(&hash)), Asker::User).unwrap(),
            QUERY
        );
    }

    #[test]
    fn manifests_must_be_objects_of_documents() {
        assert!(TrustedDocuments::parse("[]").is_err());
        assert!(TrustedDocuments::parse("{}").is_err());
        assert!(TrustedDocuments::parse("{\"a\": 1}").is_err());
        assert_eq!(
            TrustedDocuments::parse("{\"a\": \"{ b }\"}").unwrap().len(),
            1
        );
    }
}
