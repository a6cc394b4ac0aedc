//! Configuration, read once from the environment at start-up.
//!
//! A missing or malformed variable stops the process with a message that
//! names it; nothing is re-read per request. Secrets are held in
//! [`SecretString`] so they never print. `.env.example` lists every
//! variable with its default.

use std::collections::HashMap;
use std::fmt;
use std::num::NonZeroUsize;
use std::str::FromStr;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

use crate::domain::access::PlatformRole;
use crate::domain::telephony::AwsRanges;
use crate::http::documents::TrustedDocuments;
use crate::store::Timeouts;

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
    /// Bounds on every DynamoDB call (`DYNAMODB_CONNECT_TIMEOUT_MS`,
    /// default 1000; `DYNAMODB_ATTEMPT_TIMEOUT_MS`, default 2000;
    /// `DYNAMODB_OPERATION_TIMEOUT_MS`, retries included, default 5000).
    pub dynamodb_timeouts: Timeouts,
    /// Which documents may run (`TRUSTED_DOCUMENTS`, a manifest file;
    /// `TRUSTED_DOCUMENTS_ENFORCE_ADMINS`; `PERSISTED_QUERY_CACHE_SIZE`).
    pub documents: DocumentsConfig,
    /// Browser origins allowed to call the API (`CORS_ALLOWED_ORIGINS`,
    /// exact origins, comma-separated; empty sends no CORS headers).
    pub cors_allowed_origins: Vec<String>,
    /// Whether each request writes a CloudWatch EMF metrics line to stdout
    /// (`METRICS`, `on` or `off`; default on when running on Lambda).
    pub metrics_enabled: bool,
    /// The CloudWatch namespace of those metrics (`METRICS_NAMESPACE`,
    /// default `Switchboard`).
    pub metrics_namespace: String,
    /// How account credentials are hashed and how long they last.
    pub account_secrets: AccountSecretsConfig,
    /// How long an invitation's accept token works (`INVITATION_TTL`, a
    /// duration such as `7d` or `12h`; default 7 days).
    pub invitation_ttl: std::time::Duration,
    /// Amazon's published address ranges for accounts with `allowAwsIps`
    /// (`AWS_IP_RANGES_FILE`, a copy of `ip-ranges.json` shipped with the
    /// deployment, read once at start-up; unset: none, and such accounts
    /// fail closed unless their own rules allow the address).
    pub aws_ip_ranges: AwsRanges,
    /// How long the telephony edge may cache a credential check's answer
    /// (`EDGE_CACHE_SECONDS`, 0 to 3600, default 30): told to the edge in
    /// `Account.edgeCacheSeconds`, so a block or a status change reaches it
    /// within that time.
    pub edge_cache_seconds: u32,
    /// How invitation emails are sent (`INVITATION_FROM`,
    /// `INVITATION_REPLY_TO`, `INVITATION_ACCEPT_URL`).
    pub invitation_mail: InvitationMailConfig,
    /// Longest one GraphQL request may take (`REQUEST_TIMEOUT_MS`, default
    /// 10,000): past it the caller gets a retryable `SERVICE_UNAVAILABLE`
    /// (HTTP 503), well before Lambda's own timeout (15 s in
    /// `template.yaml`) would cut the invocation with a bare 502/504.
    pub request_timeout: Duration,
    /// Days an audit event is kept before DynamoDB's time to live removes it
    /// (`AUDIT_RETENTION_DAYS`, default 400: a year and a bit, so a yearly
    /// review still finds last year's changes).
    pub audit_retention_days: u32,
}

/// Sender of the invitation emails and the page their links open.
#[derive(Debug, Clone)]
pub struct InvitationMailConfig {
    /// The `From` address (`INVITATION_FROM`, e.g. `Acme <invites@acme.example>`;
    /// an SES-verified identity in production). Default
    /// [`DEFAULT_INVITATION_FROM`], for local use.
    pub from: String,
    /// Where replies go (`INVITATION_REPLY_TO`), if anywhere.
    pub reply_to: Option<String>,
    /// The page the email's link opens (`INVITATION_ACCEPT_URL`), with the
    /// token added as the fragment `#token=…`. https, or http on this
    /// machine. Default [`DEFAULT_INVITATION_ACCEPT_URL`], the example
    /// app's accept page in development.
    pub accept_url: url::Url,
}

/// The local sender when `INVITATION_FROM` is not set.
pub const DEFAULT_INVITATION_FROM: &str = "Switchboard <invitations@switchboard.localhost>";
/// The local accept page when `INVITATION_ACCEPT_URL` is not set: the
/// example app (`examples/web`) under `npm run dev`.
pub const DEFAULT_INVITATION_ACCEPT_URL: &str = "http://localhost:5173/accept";

/// Longest address accepted in `INVITATION_FROM` / `INVITATION_REPLY_TO`.
const MAX_ADDRESS_CHARS: usize = 320;

impl InvitationMailConfig {
    fn from_vars(env: &Vars<'_>) -> Result<Self, ConfigError> {
        let address = |name: &'static str, raw: String| {
            if raw.contains('@')
                && raw.chars().count() <= MAX_ADDRESS_CHARS
                && !raw.contains(['\r', '\n'])
            {
                Ok(raw)
            } else {
                Err(ConfigError {
                    variable: name,
                    problem: format!(
                        "`{raw}` is not an email address (`name@domain` or `Name <name@domain>`)"
                    ),
                })
            }
        };
        let from = address(
            "INVITATION_FROM",
            env.optional("INVITATION_FROM")
                .unwrap_or_else(|| DEFAULT_INVITATION_FROM.to_owned()),
        )?;
        let reply_to = env
            .optional("INVITATION_REPLY_TO")
            .map(|raw| address("INVITATION_REPLY_TO", raw))
            .transpose()?;
        let raw = env
            .optional("INVITATION_ACCEPT_URL")
            .unwrap_or_else(|| DEFAULT_INVITATION_ACCEPT_URL.to_owned());
        check_secure_url("INVITATION_ACCEPT_URL", &raw)?;
        let accept_url = url::Url::parse(&raw).map_err(|_| ConfigError {
            variable: "INVITATION_ACCEPT_URL",
            problem: format!("`{raw}` is not a URL"),
        })?;
        if accept_url.fragment().is_some() {
            return Err(ConfigError {
                variable: "INVITATION_ACCEPT_URL",
                problem: "must have no `#fragment`: the token is added as the fragment".into(),
            });
        }
        Ok(Self {
            from,
            reply_to,
            accept_url,
        })
    }
}

/// Account credential settings.
#[derive(Clone)]
pub struct AccountSecretsConfig {
    /// HMAC-SHA-256 key the accounts' auth secrets are hashed with
    /// (`ACCOUNT_SECRET_KEY`, at least 32 bytes, required). Kept apart from
    /// the table, so a copy of the table alone cannot check a guess.
    pub key: SecretString,
    /// How long a new or rotated auth secret is valid
    /// (`ACCOUNT_SECRET_LIFETIME`, humantime such as `365d`, or `none` for
    /// no expiry; default 365 days).
    pub lifetime: Option<std::time::Duration>,
    /// Least time between two `lastLogin` writes of one account
    /// (`ACCOUNT_LOGIN_STAMP_INTERVAL`, humantime, default 1 minute; `0s`
    /// writes on every check): a busy account's credential checks must not
    /// make its item a hot, written-on-every-call item.
    pub login_stamp_interval: std::time::Duration,
}

/// Default of [`AccountSecretsConfig::login_stamp_interval`].
pub const DEFAULT_LOGIN_STAMP_INTERVAL: std::time::Duration = std::time::Duration::from_mins(1);

impl fmt::Debug for AccountSecretsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccountSecretsConfig")
            .field("key", &"[redacted]")
            .field("lifetime", &self.lifetime)
            .field("login_stamp_interval", &self.login_stamp_interval)
            .finish()
    }
}

/// Default lifetime of an account auth secret: a year, so credentials are
/// rotated at least yearly without surprising operators every month.
pub const DEFAULT_ACCOUNT_SECRET_LIFETIME: std::time::Duration =
    std::time::Duration::from_hours(365 * 24);

impl AccountSecretsConfig {
    fn from_vars(vars: &HashMap<String, String>) -> Result<Self, ConfigError> {
        let env = Vars(vars);
        let key = env.required("ACCOUNT_SECRET_KEY")?;
        if key.len() < MIN_JWT_SECRET_BYTES {
            return Err(ConfigError {
                variable: "ACCOUNT_SECRET_KEY",
                problem: format!(
                    "must be at least {MIN_JWT_SECRET_BYTES} bytes, got {}",
                    key.len()
                ),
            });
        }
        let lifetime = match env.optional("ACCOUNT_SECRET_LIFETIME") {
            None => Some(DEFAULT_ACCOUNT_SECRET_LIFETIME),
            Some(raw) if raw.eq_ignore_ascii_case("none") => None,
            Some(raw) => Some(
                humantime::parse_duration(&raw)
                    .ok()
                    .filter(|d| !d.is_zero())
                    .ok_or_else(|| ConfigError {
                        variable: "ACCOUNT_SECRET_LIFETIME",
                        problem: format!("`{raw}` is not a duration such as `365d`, or `none`"),
                    })?,
            ),
        };
        let login_stamp_interval = match env.optional("ACCOUNT_LOGIN_STAMP_INTERVAL") {
            None => DEFAULT_LOGIN_STAMP_INTERVAL,
            Some(raw) => humantime::parse_duration(&raw)
                .ok()
                .filter(|d| *d <= std::time::Duration::from_hours(24))
                .ok_or_else(|| ConfigError {
                    variable: "ACCOUNT_LOGIN_STAMP_INTERVAL",
                    problem: format!("`{raw}` is not a duration up to 24h such as `1m` or `0s`"),
                })?,
        };
        Ok(Self {
            key: SecretString::from(key),
            lifetime,
            login_stamp_interval,
        })
    }

    /// The key's bytes, for building the HMAC.
    pub fn key_bytes(&self) -> &[u8] {
        self.key.expose_secret().as_bytes()
    }
}

/// Trusted documents and the persisted-query cache.
#[derive(Debug, Clone)]
pub struct DocumentsConfig {
    /// The manifest of trusted documents, if one is configured: then only
    /// its documents run for callers who are not admins.
    pub trusted: Option<TrustedDocuments>,
    /// Whether admins are bound by the manifest too (default `false`, so
    /// GraphiQL keeps working for operators).
    pub enforce_admins: bool,
    /// How many persisted queries one process remembers (default 1000).
    pub cache_size: NonZeroUsize,
}

/// Default lifetime of an invitation: seven days.
pub const DEFAULT_INVITATION_TTL: std::time::Duration = std::time::Duration::from_hours(7 * 24);

/// JWT verification settings. At least one way to verify is configured: an
/// HS256 secret (`JWT_SECRET`, or `JWT_SECRET_ARN` read from Secrets
/// Manager at start-up) and/or an identity provider's keys
/// (`JWT_JWKS_URL`).
#[derive(Clone)]
pub struct JwtConfig {
    /// HS256 shared secret (`JWT_SECRET`, at least 32 bytes), for
    /// development, tests and deployments without an identity provider.
    pub secret: Option<SecretString>,
    /// Secrets Manager secret holding the HS256 secret (`JWT_SECRET_ARN`);
    /// read once during init, it then fills [`Self::secret`].
    pub secret_arn: Option<String>,
    /// An OIDC provider's key set (`JWT_JWKS_URL`), e.g. a Cognito user
    /// pool's `https://cognito-idp.<region>.amazonaws.com/<pool id>/.well-known/jwks.json`;
    /// RS256 and ES256 tokens are verified against it.
    pub jwks_url: Option<String>,
    /// Required `iss` claim (`JWT_ISSUER`, optional).
    pub issuer: Option<String>,
    /// Required audience (`JWT_AUDIENCE`, optional): the `aud` claim, or
    /// for Cognito access tokens (`token_use: access`) the `client_id`.
    pub audience: Option<String>,
    /// The claim holding the caller's Switchboard user id
    /// (`JWT_USER_CLAIM`, default `sub`; with Cognito typically a custom
    /// attribute such as `custom:switchboard_user_id`).
    pub user_claim: String,
    /// Clock skew tolerated on `exp` and `nbf` (`JWT_LEEWAY_SECONDS`,
    /// default 30, at most [`MAX_JWT_LEEWAY_SECONDS`]).
    pub leeway_seconds: u64,
    /// How long a fetched JWKS is trusted before it is fetched again
    /// (`JWT_JWKS_MAX_AGE`, default 1 h): a key the provider withdrew stops
    /// working within this time, even if nobody sends an unknown `kid`.
    pub jwks_max_age: Duration,
    /// Which token role (in `roles` or `cognito:groups`) grants which
    /// platform role (`PLATFORM_ROLES`, `token-role=platform-role` pairs,
    /// comma-separated; by default each platform role by its own name:
    /// `admin`, `support`, `billing`, `telephony-edge`). A token naming
    /// several gets the most privileged.
    pub platform_roles: Vec<(String, PlatformRole)>,
}

/// Largest `JWT_LEEWAY_SECONDS`: more than five minutes of tolerated skew
/// is a misconfiguration (milliseconds meant, say) that would quietly
/// accept expired tokens for hours.
pub const MAX_JWT_LEEWAY_SECONDS: u64 = 300;

/// Largest `GRAPHQL_MAX_NESTING`: the nesting check exists because the
/// parser overflows a worker's stack at about 2,000 levels.
pub const MAX_GRAPHQL_NESTING: usize = 256;

/// Default of [`Config::request_timeout`].
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Default of [`JwtConfig::jwks_max_age`].
pub const DEFAULT_JWKS_MAX_AGE: Duration = Duration::from_hours(1);

impl fmt::Debug for JwtConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtConfig")
            .field("secret", &self.secret.as_ref().map(|_| "[redacted]"))
            .field("secret_arn", &self.secret_arn)
            .field("jwks_url", &self.jwks_url)
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("user_claim", &self.user_claim)
            .field("leeway_seconds", &self.leeway_seconds)
            .field("jwks_max_age", &self.jwks_max_age)
            .field("platform_roles", &self.platform_roles)
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
    /// Deepest nesting of brackets, braces and parentheses in a document,
    /// checked before parsing (`GRAPHQL_MAX_NESTING`, default 64): deeper
    /// argument values would overflow the parser's stack.
    pub max_nesting: usize,
    /// Most stored items one page of a list may read (`LIST_READ_LIMIT`,
    /// default 1000); a sparse filter then returns a short page with a
    /// cursor to continue rather than reading a whole partition.
    pub list_read_limit: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_body_bytes: 1024 * 1024,
            max_depth: 12,
            max_complexity: 10_000,
            max_aliases: 30,
            max_fields: 500,
            max_nesting: 64,
            list_read_limit: crate::store::DEFAULT_READ_LIMIT,
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
        let timeouts = Timeouts::default();
        Ok(Self {
            table_name: env.table_name()?,
            jwt: JwtConfig::from_vars(vars)?,
            limits: Limits {
                max_body_bytes: env.parse("MAX_BODY_BYTES", defaults.max_body_bytes)?,
                max_depth: env.parse("GRAPHQL_MAX_DEPTH", defaults.max_depth)?,
                max_complexity: env.parse("GRAPHQL_MAX_COMPLEXITY", defaults.max_complexity)?,
                max_aliases: env.parse("GRAPHQL_MAX_ALIASES", defaults.max_aliases)?,
                max_fields: env.parse("GRAPHQL_MAX_FIELDS", defaults.max_fields)?,
                max_nesting: env.within(
                    "GRAPHQL_MAX_NESTING",
                    defaults.max_nesting,
                    1..=MAX_GRAPHQL_NESTING,
                )?,
                list_read_limit: env.parse("LIST_READ_LIMIT", defaults.list_read_limit)?,
            },
            introspection: env.parse("GRAPHQL_INTROSPECTION", true)?,
            dynamodb_timeouts: env.timeouts(&timeouts)?,
            documents: DocumentsConfig {
                trusted: env.trusted_documents()?,
                enforce_admins: env.parse("TRUSTED_DOCUMENTS_ENFORCE_ADMINS", false)?,
                cache_size: env.parse(
                    "PERSISTED_QUERY_CACHE_SIZE",
                    NonZeroUsize::new(1000).unwrap_or(NonZeroUsize::MIN),
                )?,
            },
            cors_allowed_origins: env.origins("CORS_ALLOWED_ORIGINS")?,
            metrics_enabled: env
                .switch("METRICS", vars.contains_key("AWS_LAMBDA_FUNCTION_NAME"))?,
            metrics_namespace: env
                .optional("METRICS_NAMESPACE")
                .unwrap_or_else(|| "Switchboard".into()),
            account_secrets: AccountSecretsConfig::from_vars(vars)?,
            invitation_ttl: env.duration("INVITATION_TTL", DEFAULT_INVITATION_TTL)?,
            invitation_mail: InvitationMailConfig::from_vars(&env)?,
            aws_ip_ranges: aws_ip_ranges(env.optional("AWS_IP_RANGES_FILE"))?,
            edge_cache_seconds: env.within("EDGE_CACHE_SECONDS", 30, 0..=3600)?,
            request_timeout: env.millis("REQUEST_TIMEOUT_MS", DEFAULT_REQUEST_TIMEOUT)?,
            audit_retention_days: env.parse(
                "AUDIT_RETENTION_DAYS",
                crate::domain::audit::DEFAULT_RETENTION_DAYS,
            )?,
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
        let secret = env.optional("JWT_SECRET");
        let secret_arn = env.optional("JWT_SECRET_ARN");
        let jwks_url = env.optional("JWT_JWKS_URL");
        if secret.is_none() && secret_arn.is_none() && jwks_url.is_none() {
            return Err(ConfigError {
                variable: "JWT_SECRET",
                problem: "is required but not set (or set JWT_SECRET_ARN or JWT_JWKS_URL)".into(),
            });
        }
        if let Some(secret) = &secret {
            check_secret(secret)?;
        }
        if let Some(url) = &jwks_url {
            check_jwks_url(url)?;
        }
        Ok(Self {
            secret: secret.map(SecretString::from),
            secret_arn,
            jwks_url,
            issuer: env.optional("JWT_ISSUER"),
            audience: env.optional("JWT_AUDIENCE"),
            user_claim: user_claim(env.optional("JWT_USER_CLAIM"))?,
            leeway_seconds: env.within("JWT_LEEWAY_SECONDS", 30, 0..=MAX_JWT_LEEWAY_SECONDS)?,
            jwks_max_age: env.duration("JWT_JWKS_MAX_AGE", DEFAULT_JWKS_MAX_AGE)?,
            platform_roles: platform_roles(env.optional("PLATFORM_ROLES"))?,
        })
    }

    /// Sets the HS256 secret read from Secrets Manager during init.
    pub fn with_secret(mut self, secret: &str) -> Result<Self, ConfigError> {
        check_secret(secret).map_err(|err| ConfigError {
            variable: "JWT_SECRET_ARN",
            problem: format!("the secret it names {}", err.problem),
        })?;
        self.secret = Some(SecretString::from(secret.to_owned()));
        Ok(self)
    }

    /// The secret's bytes, for building keys; empty without a secret.
    pub fn secret_bytes(&self) -> &[u8] {
        self.secret
            .as_ref()
            .map_or(&[][..], |secret| secret.expose_secret().as_bytes())
    }
}

/// `JWT_USER_CLAIM`, default `sub`. Claims the verifier reads for itself
/// (audience, token use, groups) cannot name a user: every caller who is
/// no admin would be refused, so such a setting is an error at start-up.
fn user_claim(raw: Option<String>) -> Result<String, ConfigError> {
    const RESERVED: &[&str] = &[
        "aud",
        "client_id",
        "token_use",
        "roles",
        "cognito:groups",
        "exp",
        "nbf",
        "iat",
        "iss",
    ];
    let claim = raw.unwrap_or_else(|| "sub".into());
    if RESERVED.contains(&claim.as_str()) {
        return Err(ConfigError {
            variable: "JWT_USER_CLAIM",
            problem: format!(
                "`{claim}` is checked by the verifier itself and holds no user id; name the claim that does (default `sub`)"
            ),
        });
    }
    Ok(claim)
}

/// The ranges in the `ip-ranges.json` file at `path`, if one is named.
fn aws_ip_ranges(path: Option<String>) -> Result<AwsRanges, ConfigError> {
    let Some(path) = path else {
        return Ok(AwsRanges::default());
    };
    let problem = |problem: String| ConfigError {
        variable: "AWS_IP_RANGES_FILE",
        problem,
    };
    let text = std::fs::read_to_string(&path)
        .map_err(|err| problem(format!("`{path}` cannot be read: {err}")))?;
    let document: serde_json::Value = serde_json::from_str(&text).map_err(|_| {
        problem(format!(
            "`{path}` is not JSON (expected AWS's ip-ranges.json)"
        ))
    })?;
    Ok(AwsRanges::from_json(&document))
}

/// `PLATFORM_ROLES`: `token-role=platform-role` pairs; unset, each
/// platform role is granted by a token role of its own name.
fn platform_roles(raw: Option<String>) -> Result<Vec<(String, PlatformRole)>, ConfigError> {
    let Some(raw) = raw else {
        return Ok(PlatformRole::ALL
            .into_iter()
            .map(|r| (r.as_str().to_owned(), r))
            .collect());
    };
    raw.split(',')
        .map(str::trim)
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let problem = |problem: String| ConfigError {
                variable: "PLATFORM_ROLES",
                problem,
            };
            let (token_role, role) = pair
                .split_once('=')
                .ok_or_else(|| problem(format!("`{pair}` is not `token-role=platform-role`")))?;
            let role = PlatformRole::from_name(role.trim()).ok_or_else(|| {
                problem(format!(
                    "`{}` is no platform role (admin, support, billing, telephony-edge)",
                    role.trim()
                ))
            })?;
            let token_role = token_role.trim();
            if token_role.is_empty() {
                return Err(problem(format!("`{pair}` names no token role")));
            }
            Ok((token_role.to_owned(), role))
        })
        .collect()
}

/// The key set must come over https, or plain http from this machine
/// (tests, a local provider): keys fetched in clear text from elsewhere
/// could be swapped by anyone on the way, and with them every token.
fn check_jwks_url(url: &str) -> Result<(), ConfigError> {
    check_secure_url("JWT_JWKS_URL", url)
}

/// `url` is https, or plain http on this machine; `variable` names it in
/// the error.
fn check_secure_url(variable: &'static str, url: &str) -> Result<(), ConfigError> {
    let problem = match url::Url::parse(url) {
        Ok(u) if !u.has_host() => Some(format!("`{url}` has no host")),
        Ok(u) if u.scheme() == "https" => None,
        Ok(u) if u.scheme() == "http" => {
            let loopback = match u.host() {
                Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
                Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
                Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
                None => false,
            };
            (!loopback).then(|| {
                format!("`{url}` must use https (plain http only for localhost or 127.0.0.1)")
            })
        }
        _ => Some(format!("`{url}` is not an https URL")),
    };
    match problem {
        None => Ok(()),
        Some(problem) => Err(ConfigError { variable, problem }),
    }
}

/// An HS256 secret must be at least as long as the hash output.
fn check_secret(secret: &str) -> Result<(), ConfigError> {
    if secret.len() < MIN_JWT_SECRET_BYTES {
        return Err(ConfigError {
            variable: "JWT_SECRET",
            problem: format!(
                "must be at least {MIN_JWT_SECRET_BYTES} bytes for HS256, got {}",
                secret.len()
            ),
        });
    }
    Ok(())
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

    /// The DynamoDB timeouts; an attempt cannot outlast its operation.
    fn timeouts(&self, defaults: &Timeouts) -> Result<Timeouts, ConfigError> {
        let timeouts = Timeouts {
            connect: self.millis("DYNAMODB_CONNECT_TIMEOUT_MS", defaults.connect)?,
            attempt: self.millis("DYNAMODB_ATTEMPT_TIMEOUT_MS", defaults.attempt)?,
            operation: self.millis("DYNAMODB_OPERATION_TIMEOUT_MS", defaults.operation)?,
        };
        if timeouts.attempt > timeouts.operation {
            return Err(ConfigError {
                variable: "DYNAMODB_ATTEMPT_TIMEOUT_MS",
                problem: format!(
                    "must not exceed DYNAMODB_OPERATION_TIMEOUT_MS ({} ms), which bounds all attempts together",
                    timeouts.operation.as_millis()
                ),
            });
        }
        Ok(timeouts)
    }

    /// Like [`Self::parse`], and within `range`.
    fn within<T>(
        &self,
        name: &'static str,
        default: T,
        range: std::ops::RangeInclusive<T>,
    ) -> Result<T, ConfigError>
    where
        T: FromStr + PartialOrd + fmt::Display,
    {
        let value = self.parse(name, default)?;
        if range.contains(&value) {
            Ok(value)
        } else {
            Err(ConfigError {
                variable: name,
                problem: format!(
                    "must be between {} and {}, got {value}",
                    range.start(),
                    range.end()
                ),
            })
        }
    }

    /// `on` or `off` (also `true`/`false`).
    fn switch(&self, name: &'static str, default: bool) -> Result<bool, ConfigError> {
        match self
            .optional(name)
            .map(|v| v.to_ascii_lowercase())
            .as_deref()
        {
            None => Ok(default),
            Some("on" | "true") => Ok(true),
            Some("off" | "false") => Ok(false),
            Some(other) => Err(ConfigError {
                variable: name,
                problem: format!("`{other}` is neither `on` nor `off`"),
            }),
        }
    }

    /// A duration in whole milliseconds, at least 1.
    fn millis(&self, name: &'static str, default: Duration) -> Result<Duration, ConfigError> {
        let default = u64::try_from(default.as_millis()).unwrap_or(u64::MAX);
        match self.parse(name, default)? {
            0 => Err(ConfigError {
                variable: name,
                problem: "must be at least 1 (milliseconds)".into(),
            }),
            millis => Ok(Duration::from_millis(millis)),
        }
    }

    /// The manifest named by `TRUSTED_DOCUMENTS`, read and checked now so a
    /// bad one stops the process at start-up.
    fn trusted_documents(&self) -> Result<Option<TrustedDocuments>, ConfigError> {
        const NAME: &str = "TRUSTED_DOCUMENTS";
        let Some(path) = self.optional(NAME) else {
            return Ok(None);
        };
        let problem = |problem: String| ConfigError {
            variable: NAME,
            problem,
        };
        let json = std::fs::read_to_string(&path)
            .map_err(|err| problem(format!("cannot read `{path}`: {err}")))?;
        TrustedDocuments::parse(&json)
            .map(Some)
            .map_err(|why| problem(format!("`{path}` {why}")))
    }

    /// A comma-separated list of exact browser origins
    /// (`scheme://host[:port]`, no path).
    fn origins(&self, name: &'static str) -> Result<Vec<String>, ConfigError> {
        let Some(raw) = self.optional(name) else {
            return Ok(Vec::new());
        };
        raw.split(',')
            .map(str::trim)
            .filter(|o| !o.is_empty())
            .map(|origin| {
                let parsed = url::Url::parse(origin).ok().filter(|u| {
                    matches!(u.scheme(), "http" | "https")
                        && u.origin().ascii_serialization() == origin
                });
                parsed.map(|_| origin.to_owned()).ok_or(ConfigError {
                    variable: name,
                    problem: format!(
                        "`{origin}` is not an origin like `https://app.example.com` (scheme, host and port only)"
                    ),
                })
            })
            .collect()
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
    const KEY: &str = "fedcba9876543210fedcba9876543210";

    /// `pairs` plus the account key every configuration needs.
    fn with_key(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        let mut all = vars(pairs);
        all.entry("ACCOUNT_SECRET_KEY".into())
            .or_insert_with(|| KEY.into());
        all
    }

    #[test]
    fn defaults_apply_when_only_the_secret_is_set() {
        let config = Config::from_vars(&with_key(&[("JWT_SECRET", SECRET)])).unwrap();
        assert_eq!(config.table_name, "switchboard");
        assert_eq!(config.limits, Limits::default());
        assert!(config.introspection);
        assert_eq!(config.jwt.leeway_seconds, 30);
        assert_eq!(config.dynamodb_timeouts, Timeouts::default());
        assert!(config.dynamodb_timeouts.operation < Duration::from_secs(15));
        assert_eq!(config.invitation_ttl, DEFAULT_INVITATION_TTL);
    }

    #[test]
    fn the_invitation_lifetime_is_a_positive_duration() {
        let config = Config::from_vars(&with_key(&[
            ("JWT_SECRET", SECRET),
            ("INVITATION_TTL", "36h"),
        ]))
        .unwrap();
        assert_eq!(config.invitation_ttl.as_secs(), 36 * 3600);
        for bad in ["0s", "soon", "-1d"] {
            let err = Config::from_vars(&with_key(&[
                ("JWT_SECRET", SECRET),
                ("INVITATION_TTL", bad),
            ]))
            .unwrap_err();
            assert_eq!(err.variable, "INVITATION_TTL", "{bad}");
        }
    }

    #[test]
    fn a_missing_secret_is_named() {
        let err = Config::from_vars(&with_key(&[])).unwrap_err();
        assert_eq!(err.variable, "JWT_SECRET");
    }

    #[test]
    fn a_short_secret_is_refused() {
        let err = Config::from_vars(&with_key(&[("JWT_SECRET", "too-short")])).unwrap_err();
        assert_eq!(err.variable, "JWT_SECRET");
        assert!(err.problem.contains("32 bytes"));
    }

    #[test]
    fn malformed_numbers_and_flags_are_named() {
        let err = Config::from_vars(&with_key(&[
            ("JWT_SECRET", SECRET),
            ("MAX_BODY_BYTES", "1MB"),
        ]))
        .unwrap_err();
        assert_eq!(err.variable, "MAX_BODY_BYTES");
        let err = Config::from_vars(&with_key(&[
            ("JWT_SECRET", SECRET),
            ("GRAPHQL_INTROSPECTION", "maybe"),
        ]))
        .unwrap_err();
        assert_eq!(err.variable, "GRAPHQL_INTROSPECTION");
        let err = Config::from_vars(&with_key(&[("JWT_SECRET", SECRET), ("TABLE_NAME", "a b")]))
            .unwrap_err();
        assert_eq!(err.variable, "TABLE_NAME");
        let err = Config::from_vars(&vars(&[
            ("JWT_SECRET", SECRET),
            ("DYNAMODB_ATTEMPT_TIMEOUT_MS", "0"),
        ]))
        .unwrap_err();
        assert_eq!(err.variable, "DYNAMODB_ATTEMPT_TIMEOUT_MS");
    }

    #[test]
    fn values_that_would_quietly_weaken_the_service_are_refused() {
        let refused = |name: &str, value: &str| {
            let err =
                Config::from_vars(&with_key(&[("JWT_SECRET", SECRET), (name, value)])).unwrap_err();
            assert_eq!(err.variable, name, "{value}");
            err.problem
        };
        // Milliseconds meant: expired tokens would pass for eight hours.
        assert_eq!(
            refused("JWT_LEEWAY_SECONDS", "30000"),
            "must be between 0 and 300, got 30000"
        );
        // Deep enough to overflow the parser's stack again.
        refused("GRAPHQL_MAX_NESTING", "5000");
        refused("GRAPHQL_MAX_NESTING", "0");
        // An attempt longer than the whole operation.
        let problem = refused("DYNAMODB_ATTEMPT_TIMEOUT_MS", "9000");
        assert!(
            problem.contains("DYNAMODB_OPERATION_TIMEOUT_MS (5000 ms)"),
            "{problem}"
        );
        refused("JWT_JWKS_MAX_AGE", "0s");
        // A claim the verifier consumes itself never holds a user id.
        refused("JWT_USER_CLAIM", "client_id");
        refused("JWT_USER_CLAIM", "cognito:groups");
        // Keys fetched in clear text from elsewhere could be swapped.
        let problem = refused("JWT_JWKS_URL", "http://idp.example.com/jwks.json");
        assert!(problem.contains("must use https"), "{problem}");
        refused("JWT_JWKS_URL", "ftp://idp.example.com/jwks.json");
        refused("JWT_JWKS_URL", "not a url");
        for accepted in [
            "https://idp.example.com/.well-known/jwks.json",
            "http://127.0.0.1:8080/jwks.json",
            "http://localhost/jwks.json",
            "http://[::1]:9/jwks.json",
        ] {
            let config = Config::from_vars(&with_key(&[
                ("JWT_SECRET", SECRET),
                ("JWT_JWKS_URL", accepted),
                ("JWT_JWKS_MAX_AGE", "15m"),
                ("JWT_LEEWAY_SECONDS", "300"),
            ]))
            .unwrap();
            assert_eq!(config.jwt.jwks_max_age, Duration::from_mins(15));
            assert_eq!(config.jwt.leeway_seconds, 300);
        }
    }

    #[test]
    fn cors_origins_must_be_exact_origins() {
        let config = Config::from_vars(&with_key(&[
            ("JWT_SECRET", SECRET),
            (
                "CORS_ALLOWED_ORIGINS",
                " http://localhost:5173, https://app.example.com ",
            ),
        ]))
        .unwrap();
        assert_eq!(
            config.cors_allowed_origins,
            ["http://localhost:5173", "https://app.example.com"]
        );
        for bad in [
            "https://app.example.com/",
            "app.example.com",
            "*",
            "ftp://x.example",
        ] {
            let err = Config::from_vars(&with_key(&[
                ("JWT_SECRET", SECRET),
                ("CORS_ALLOWED_ORIGINS", bad),
            ]))
            .unwrap_err();
            assert_eq!(err.variable, "CORS_ALLOWED_ORIGINS", "{bad}");
        }
    }

    #[test]
    fn a_trusted_documents_manifest_is_read_at_start_up() {
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), r#"{"abc": "{ __typename }"}"#).unwrap();
        let path = file.path().to_str().unwrap();
        let config = Config::from_vars(&with_key(&[
            ("JWT_SECRET", SECRET),
            ("TRUSTED_DOCUMENTS", path),
        ]))
        .unwrap();
        assert_eq!(config.documents.trusted.map(|t| t.len()), Some(1));
        std::fs::write(file.path(), "not json").unwrap();
        let err = Config::from_vars(&with_key(&[
            ("JWT_SECRET", SECRET),
            ("TRUSTED_DOCUMENTS", path),
        ]))
        .unwrap_err();
        assert_eq!(err.variable, "TRUSTED_DOCUMENTS");
        let err = Config::from_vars(&with_key(&[
            ("JWT_SECRET", SECRET),
            ("TRUSTED_DOCUMENTS", "/nonexistent/manifest.json"),
        ]))
        .unwrap_err();
        assert!(err.problem.contains("cannot read"), "{}", err.problem);
    }

    #[test]
    fn the_secret_never_prints() {
        let config = Config::from_vars(&with_key(&[("JWT_SECRET", SECRET)])).unwrap();
        assert!(!format!("{config:?}").contains(SECRET));
        assert!(!format!("{config:?}").contains(KEY));
    }

    #[test]
    fn the_account_secret_key_is_required_and_the_lifetime_parsed() {
        let err = Config::from_vars(&vars(&[("JWT_SECRET", SECRET)])).unwrap_err();
        assert_eq!(err.variable, "ACCOUNT_SECRET_KEY");
        let err = Config::from_vars(&vars(&[
            ("JWT_SECRET", SECRET),
            ("ACCOUNT_SECRET_KEY", "short"),
        ]))
        .unwrap_err();
        assert_eq!(err.variable, "ACCOUNT_SECRET_KEY");
        let config = Config::from_vars(&with_key(&[("JWT_SECRET", SECRET)])).unwrap();
        assert_eq!(
            config.account_secrets.lifetime,
            Some(DEFAULT_ACCOUNT_SECRET_LIFETIME)
        );
        let config = Config::from_vars(&with_key(&[
            ("JWT_SECRET", SECRET),
            ("ACCOUNT_SECRET_LIFETIME", "none"),
        ]))
        .unwrap();
        assert_eq!(config.account_secrets.lifetime, None);
        let err = Config::from_vars(&with_key(&[
            ("JWT_SECRET", SECRET),
            ("ACCOUNT_SECRET_LIFETIME", "soon"),
        ]))
        .unwrap_err();
        assert_eq!(err.variable, "ACCOUNT_SECRET_LIFETIME");
    }
}
