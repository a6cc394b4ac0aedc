//! Configuration, read once from the environment at start-up.
//!
//! A missing or malformed variable stops the process with a message that
//! names it; nothing is re-read per request. Secrets are held in
//! [`SecretString`] so they never print. `.env.example` lists every
//! variable with its default.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

use secrecy::{ExposeSecret, SecretString};

/// Smallest accepted HS256 secret, in bytes (RFC 7518 §3.2: the key must be
/// at least as long as the hash output).
pub const MIN_JWT_SECRET_BYTES: usize = 32;

/// Everything the gateway needs to run.
#[derive(Debug, Clone)]
pub struct Config {
    /// DynamoDB table holding every entity (`TABLE_NAME`, default
    /// `switchboard`).
    pub table_name: String,
    /// How bearer tokens are checked.
    pub jwt: JwtConfig,
    /// Request and query limits.
    pub limits: Limits,
    /// Whether schema introspection is served (`GRAPHQL_INTROSPECTION`,
    /// default `true`; turn it off in production if the schema is private).
    pub introspection: bool,
    /// How long an invitation's accept token works (`INVITATION_TTL`, a
    /// duration such as `7d` or `12h`; default 7 days).
    pub invitation_ttl: std::time::Duration,
}

/// Default lifetime of an invitation: seven days.
pub const DEFAULT_INVITATION_TTL: std::time::Duration = std::time::Duration::from_hours(7 * 24);

/// JWT verification settings.
#[derive(Clone)]
pub struct JwtConfig {
    /// HS256 shared secret (`JWT_SECRET`, at least 32 bytes, required).
    pub secret: SecretString,
    /// Required `iss` claim (`JWT_ISSUER`, optional).
    pub issuer: Option<String>,
    /// Required `aud` claim (`JWT_AUDIENCE`, optional).
    pub audience: Option<String>,
    /// Clock skew tolerated on `exp` and `nbf` (`JWT_LEEWAY_SECONDS`,
    /// default 30).
    pub leeway_seconds: u64,
}

impl fmt::Debug for JwtConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtConfig")
            .field("secret", &"[redacted]")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("leeway_seconds", &self.leeway_seconds)
            .finish()
    }
}

/// Limits that keep one request from costing too much.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest request body in bytes (`MAX_BODY_BYTES`, default 1 MiB).
    pub max_body_bytes: usize,
    /// Deepest selection nesting (`GRAPHQL_MAX_DEPTH`, default 12); `ofType`
    /// chains inside introspection do not count.
    pub max_depth: usize,
    /// Largest complexity score, where a list field counts its page size
    /// times its children (`GRAPHQL_MAX_COMPLEXITY`, default 10000).
    pub max_complexity: usize,
    /// Most aliased fields in one document (`GRAPHQL_MAX_ALIASES`, default 30).
    pub max_aliases: usize,
    /// Most field selections in one document, `__typename` included, with
    /// fragments expanded (`GRAPHQL_MAX_FIELDS`, default 500).
    pub max_fields: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_body_bytes: 1024 * 1024,
            max_depth: 12,
            max_complexity: 10_000,
            max_aliases: 30,
            max_fields: 500,
        }
    }
}

/// A variable that is missing or cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("configuration variable {variable}: {problem}")]
pub struct ConfigError {
    /// The environment variable at fault.
    pub variable: &'static str,
    /// What is wrong with it.
    pub problem: String,
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_vars(&std::env::vars().collect())
    }

    /// Reads configuration from a map of variables (the environment, or a
    /// test's own).
    pub fn from_vars(vars: &HashMap<String, String>) -> Result<Self, ConfigError> {
        let env = Vars(vars);
        let defaults = Limits::default();
        Ok(Self {
            table_name: env.table_name()?,
            jwt: JwtConfig::from_vars(vars)?,
            limits: Limits {
                max_body_bytes: env.parse("MAX_BODY_BYTES", defaults.max_body_bytes)?,
                max_depth: env.parse("GRAPHQL_MAX_DEPTH", defaults.max_depth)?,
                max_complexity: env.parse("GRAPHQL_MAX_COMPLEXITY", defaults.max_complexity)?,
                max_aliases: env.parse("GRAPHQL_MAX_ALIASES", defaults.max_aliases)?,
                max_fields: env.parse("GRAPHQL_MAX_FIELDS", defaults.max_fields)?,
            },
            introspection: env.parse("GRAPHQL_INTROSPECTION", true)?,
            invitation_ttl: env.duration("INVITATION_TTL", DEFAULT_INVITATION_TTL)?,
        })
    }

    /// Only the table name, for commands that need nothing else.
    pub fn table_name_from_env() -> Result<String, ConfigError> {
        Vars(&std::env::vars().collect()).table_name()
    }
}

impl JwtConfig {
    /// Reads the JWT variables alone (the `token` command needs no more).
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_vars(&std::env::vars().collect())
    }

    fn from_vars(vars: &HashMap<String, String>) -> Result<Self, ConfigError> {
        let env = Vars(vars);
        let secret = env.required("JWT_SECRET")?;
        if secret.len() < MIN_JWT_SECRET_BYTES {
            return Err(ConfigError {
                variable: "JWT_SECRET",
                problem: format!(
                    "must be at least {MIN_JWT_SECRET_BYTES} bytes for HS256, got {}",
                    secret.len()
                ),
            });
        }
        Ok(Self {
            secret: SecretString::from(secret),
            issuer: env.optional("JWT_ISSUER"),
            audience: env.optional("JWT_AUDIENCE"),
            leeway_seconds: env.parse("JWT_LEEWAY_SECONDS", 30)?,
        })
    }

    /// The secret's bytes, for building keys.
    pub fn secret_bytes(&self) -> &[u8] {
        self.secret.expose_secret().as_bytes()
    }
}

struct Vars<'a>(&'a HashMap<String, String>);

impl Vars<'_> {
    fn optional(&self, name: &str) -> Option<String> {
        self.0
            .get(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    fn required(&self, name: &'static str) -> Result<String, ConfigError> {
        self.optional(name).ok_or(ConfigError {
            variable: name,
            problem: "is required but not set".into(),
        })
    }

    fn parse<T: FromStr>(&self, name: &'static str, default: T) -> Result<T, ConfigError> {
        match self.optional(name) {
            None => Ok(default),
            Some(raw) => raw.parse().map_err(|_| ConfigError {
                variable: name,
                problem: format!("`{raw}` is not a valid {}", std::any::type_name::<T>()),
            }),
        }
    }

    /// A positive duration in humantime form (`7d`, `90m`, `1s`).
    fn duration(
        &self,
        name: &'static str,
        default: std::time::Duration,
    ) -> Result<std::time::Duration, ConfigError> {
        match self.optional(name) {
            None => Ok(default),
            Some(raw) => humantime::parse_duration(&raw)
                .ok()
                .filter(|d| !d.is_zero())
                .ok_or(ConfigError {
                    variable: name,
                    problem: format!("`{raw}` is not a positive duration such as `7d` or `12h`"),
                }),
        }
    }

    fn table_name(&self) -> Result<String, ConfigError> {
        let name = self
            .optional("TABLE_NAME")
            .unwrap_or_else(|| "switchboard".into());
        let valid = (3..=255).contains(&name.len())
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b));
        if valid {
            Ok(name)
        } else {
            Err(ConfigError {
                variable: "TABLE_NAME",
                problem: format!("`{name}` is not a valid DynamoDB table name"),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    const SECRET: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn defaults_apply_when_only_the_secret_is_set() {
        let config = Config::from_vars(&vars(&[("JWT_SECRET", SECRET)])).unwrap();
        assert_eq!(config.table_name, "switchboard");
        assert_eq!(config.limits, Limits::default());
        assert!(config.introspection);
        assert_eq!(config.jwt.leeway_seconds, 30);
        assert_eq!(config.invitation_ttl, DEFAULT_INVITATION_TTL);
    }

    #[test]
    fn the_invitation_lifetime_is_a_positive_duration() {
        let config =
            Config::from_vars(&vars(&[("JWT_SECRET", SECRET), ("INVITATION_TTL", "36h")])).unwrap();
        assert_eq!(config.invitation_ttl.as_secs(), 36 * 3600);
        for bad in ["0s", "soon", "-1d"] {
            let err = Config::from_vars(&vars(&[("JWT_SECRET", SECRET), ("INVITATION_TTL", bad)]))
                .unwrap_err();
            assert_eq!(err.variable, "INVITATION_TTL", "{bad}");
        }
    }

    #[test]
    fn a_missing_secret_is_named() {
        let err = Config::from_vars(&vars(&[])).unwrap_err();
        assert_eq!(err.variable, "JWT_SECRET");
    }

    #[test]
    fn a_short_secret_is_refused() {
        let err = Config::from_vars(&vars(&[("JWT_SECRET", "too-short")])).unwrap_err();
        assert_eq!(err.variable, "JWT_SECRET");
        assert!(err.problem.contains("32 bytes"));
    }

    #[test]
    fn malformed_numbers_and_flags_are_named() {
        let err = Config::from_vars(&vars(&[("JWT_SECRET", SECRET), ("MAX_BODY_BYTES", "1MB")]))
            .unwrap_err();
        assert_eq!(err.variable, "MAX_BODY_BYTES");
        let err = Config::from_vars(&vars(&[
            ("JWT_SECRET", SECRET),
            ("GRAPHQL_INTROSPECTION", "maybe"),
        ]))
        .unwrap_err();
        assert_eq!(err.variable, "GRAPHQL_INTROSPECTION");
        let err =
            Config::from_vars(&vars(&[("JWT_SECRET", SECRET), ("TABLE_NAME", "a b")])).unwrap_err();
        assert_eq!(err.variable, "TABLE_NAME");
    }

    #[test]
    fn the_secret_never_prints() {
        let config = Config::from_vars(&vars(&[("JWT_SECRET", SECRET)])).unwrap();
        assert!(!format!("{config:?}").contains(SECRET));
    }
}
