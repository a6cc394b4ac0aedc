//! Users: people who sign in and act for one or more customers.
//!
//! A user's profile (email and names) is parsed in one place,
//! [`UserProfile::parse`]; an update re-parses the whole profile, as
//! customers do, so a stored user is always valid.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::InvalidInput;
use super::customer::search_key;
use super::email::parse_email;
use super::error::AtField;
use super::text::clean_text;

/// Longest first or last name, in characters (as for customers).
pub const MAX_NAME_CHARS: usize = 100;
/// Longest search term, in bytes. Folding can turn one character into many
/// (`ﷺ` becomes 30 letters), and a term is part of a sort key (1,024 bytes
/// at most), so terms are cut here; prefix search needs no more.
pub const MAX_TERM_BYTES: usize = 200;

/// Whether a user may sign in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum UserStatus {
    /// Signs in and acts within its memberships.
    Active,
    /// Every token naming it is refused (`UNAUTHENTICATED`).
    Disabled,
}

impl UserStatus {
    /// The wire name, as stored and as in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "ACTIVE",
            Self::Disabled => "DISABLED",
        }
    }
}

/// A stored user. The password hash never leaves the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// UUIDv7 identifier.
    pub id: Uuid,
    /// Sign-in email, unique among users (case-insensitive).
    pub email: String,
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// Active or disabled.
    pub status: UserStatus,
    /// Last successful sign-in, if any (set by whatever signs users in).
    pub last_login_at: Option<DateTime<Utc>>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// Optimistic-locking version.
    pub version: u64,
}

impl User {
    /// The user's validated profile.
    pub fn profile(&self) -> UserProfile {
        UserProfile {
            email: self.email.clone(),
            first_name: self.first_name.clone(),
            last_name: self.last_name.clone(),
        }
    }
}

/// Raw profile fields as a client sent them; see [`UserProfile::parse`].
#[derive(Debug, Clone, Default)]
pub struct UserDraft {
    /// Email as typed.
    pub email: String,
    /// First name as typed.
    pub first_name: String,
    /// Last name as typed.
    pub last_name: String,
}

impl From<&UserProfile> for UserDraft {
    fn from(p: &UserProfile) -> Self {
        Self {
            email: p.email.clone(),
            first_name: p.first_name.clone(),
            last_name: p.last_name.clone(),
        }
    }
}

/// Everything about a user that clients set, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserProfile {
    /// Valid email, trimmed.
    pub email: String,
    /// First name, 1–100 characters.
    pub first_name: String,
    /// Last name, 1–100 characters.
    pub last_name: String,
}

impl UserProfile {
    /// Validates a draft; field names are relative (`email`), the edge adds
    /// the input path.
    pub fn parse(d: &UserDraft) -> Result<Self, InvalidInput> {
        Ok(Self {
            email: parse_email(&d.email).at_field("email")?,
            first_name: clean_text(&d.first_name, 1, MAX_NAME_CHARS).at_field("firstName")?,
            last_name: clean_text(&d.last_name, 1, MAX_NAME_CHARS).at_field("lastName")?,
        })
    }

    /// The normalised terms `users(filter: {search})` matches by prefix:
    /// email, first and last name (as customers' search does).
    pub fn search_terms(&self) -> Vec<String> {
        let mut terms: Vec<String> = [&self.email, &self.first_name, &self.last_name]
            .into_iter()
            .map(|t| cut(search_key(t), MAX_TERM_BYTES))
            .filter(|t| !t.is_empty())
            .collect();
        terms.sort();
        terms.dedup();
        terms
    }
}

/// `text` cut to at most `max` bytes, at a character boundary.
fn cut(mut text: String, max: usize) -> String {
    if text.len() > max {
        let mut end = max;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    text
}

/// The lower-cased domain of an email address (`Ada@Example.COM` →
/// `example.com`), as `allowedDomainsRegistration` is compared.
pub fn email_domain(email: &str) -> String {
    email
        .rsplit_once('@')
        .map(|(_, domain)| domain.trim().to_lowercase())
        .unwrap_or_default()
}

/// Whether a user with `email` may join a customer whose
/// `allowedDomainsRegistration` is `allowed`: any email when the list is
/// empty, otherwise only an exact (case-insensitive) domain match; a
/// subdomain of an allowed domain is not allowed.
pub fn domain_allowed(email: &str, allowed: &[String]) -> bool {
    let domain = email_domain(email);
    allowed.is_empty() || allowed.iter().any(|d| d.eq_ignore_ascii_case(&domain))
}

/// A user to be created, its password already hashed.
#[derive(Debug, Clone)]
pub struct NewUser {
    /// Validated email.
    pub email: String,
    /// Validated first name.
    pub first_name: String,
    /// Validated last name.
    pub last_name: String,
    /// Argon2id PHC hash.
    pub password_hash: String,
}

impl NewUser {
    /// The profile part of a new user.
    pub fn profile(&self) -> UserProfile {
        UserProfile {
            email: self.email.clone(),
            first_name: self.first_name.clone(),
            last_name: self.last_name.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft(email: &str, first: &str, last: &str) -> UserDraft {
        UserDraft {
            email: email.into(),
            first_name: first.into(),
            last_name: last.into(),
        }
    }

    #[test]
    fn a_profile_is_trimmed_and_checked_field_by_field() {
        let p = UserProfile::parse(&draft(" ada@example.com ", " Ada ", "Lovelace")).unwrap();
        assert_eq!(
            (p.email.as_str(), p.first_name.as_str()),
            ("ada@example.com", "Ada")
        );
        let field = |d| UserProfile::parse(&d).unwrap_err().field;
        assert_eq!(field(draft("nope", "A", "B")), "email");
        assert_eq!(field(draft("a@example.com", " ", "B")), "firstName");
        assert_eq!(
            field(draft("a@example.com", "A", &"x".repeat(101))),
            "lastName"
        );
    }

    #[test]
    fn search_terms_are_folded_and_unique() {
        let p = UserProfile::parse(&draft("jose@example.com", "José", "jose")).unwrap();
        assert_eq!(p.search_terms(), vec!["jose", "jose@example.com"]);
    }

    #[test]
    fn search_terms_fit_in_a_sort_key_whatever_the_folding() {
        let p = UserProfile::parse(&draft("a@example.com", &"ﷺ".repeat(100), "B")).unwrap();
        assert!(p.search_terms().iter().all(|t| t.len() <= MAX_TERM_BYTES));
    }

    #[test]
    fn registration_domains_match_exactly_and_ignore_case() {
        let allowed = vec!["acme.example".to_owned()];
        assert!(domain_allowed("x@ACME.example", &allowed));
        assert!(!domain_allowed("x@sub.acme.example", &allowed));
        assert!(!domain_allowed("x@other.example", &allowed));
        assert!(domain_allowed("x@other.example", &[]));
    }
}
