//! Invitations: a customer's offer to an email address to become a member
//! with given permissions, redeemed with a secret token.
//!
//! The token is 32 random bytes (256 bits) in URL-safe base64, sent only to
//! the invited mailbox ([`email`]) and never shown to whoever invites: the
//! token is the proof that its holder controls that mailbox. Only its
//! SHA-256 is stored, so the table alone cannot be used to accept an
//! invitation. A plain hash (not a slow one) is enough because the token is
//! random, not chosen by a person.

pub mod email;

use argon2::password_hash::rand_core::{OsRng, RngCore};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::access::Permission;

/// Random bytes in a token.
pub const TOKEN_BYTES: usize = 32;
/// Longest token text accepted back from a client (the encoded 32 bytes are
/// 43 characters); anything longer cannot be one of ours.
pub const MAX_TOKEN_CHARS: usize = 128;

/// Where an invitation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum InvitationStatus {
    /// Waiting to be accepted.
    Pending,
    /// Accepted; the membership exists.
    Accepted,
    /// Revoked, or replaced by a newer invitation to the same email.
    Revoked,
    /// Not accepted in time (a read-time state: the item still says
    /// `PENDING` until DynamoDB's TTL removes it).
    Expired,
}

impl InvitationStatus {
    /// The wire name, as stored and as in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "PENDING",
            Self::Accepted => "ACCEPTED",
            Self::Revoked => "REVOKED",
            Self::Expired => "EXPIRED",
        }
    }

    /// The status a client sees at `now`: a pending invitation past its
    /// expiry reads as expired.
    #[must_use]
    pub fn at(self, expires_at: DateTime<Utc>, now: DateTime<Utc>) -> Self {
        if self == Self::Pending && now >= expires_at {
            Self::Expired
        } else {
            self
        }
    }
}

/// Whether the invitation email reached the mail service. Anything but
/// `Sent` means the invitee may not have it: resend it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DeliveryStatus {
    /// Written, email not yet confirmed sent (or the sender stopped before
    /// it could say).
    Sending,
    /// The mail service accepted the email.
    Sent,
    /// The mail service refused it or could not be reached.
    Failed,
}

impl DeliveryStatus {
    /// The wire name, as stored and as in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sending => "SENDING",
            Self::Sent => "SENT",
            Self::Failed => "FAILED",
        }
    }
}

/// A stored invitation (without its token hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invitation {
    /// UUIDv7 identifier.
    pub id: Uuid,
    /// The customer the invitee will join.
    pub customer_id: Uuid,
    /// The invitee's email.
    pub email: String,
    /// Permissions the membership will have.
    pub permissions: Vec<Permission>,
    /// Stored status (see [`Invitation::status_at`]).
    pub status: InvitationStatus,
    /// The user who invited, `None` for a platform admin.
    pub invited_by: Option<Uuid>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// When the token stops working.
    pub expires_at: DateTime<Utc>,
    /// When it was accepted.
    pub accepted_at: Option<DateTime<Utc>>,
    /// Whether its latest email reached the mail service.
    pub delivery_status: DeliveryStatus,
    /// When its latest email was accepted by the mail service.
    pub sent_at: Option<DateTime<Utc>>,
    /// Optimistic-locking version.
    pub version: u64,
}

impl Invitation {
    /// The status as of `now`.
    pub fn status_at(&self, now: DateTime<Utc>) -> InvitationStatus {
        self.status.at(self.expires_at, now)
    }
}

/// A fresh accept token: 32 random bytes from the OS, URL-safe base64.
pub fn generate_token() -> String {
    let mut bytes = [0u8; TOKEN_BYTES];
    OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The stored form of a token: SHA-256, hex.
pub fn hash_token(token: &str) -> String {
    use std::fmt::Write as _;
    Sha256::digest(token.as_bytes())
        .iter()
        .fold(String::with_capacity(64), |mut hex, b| {
            let _ = write!(hex, "{b:02x}");
            hex
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_url_safe_and_distinct() {
        let a = generate_token();
        let b = generate_token();
        assert_ne!(a, b);
        assert_eq!(URL_SAFE_NO_PAD.decode(&a).unwrap().len(), TOKEN_BYTES);
        assert!(
            a.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
    }

    #[test]
    fn the_hash_is_sha256_hex_and_not_the_token() {
        let hash = hash_token("abc");
        assert_eq!(
            hash,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn a_pending_invitation_past_its_expiry_reads_as_expired() {
        let now = Utc::now();
        let past = now - chrono::Duration::seconds(1);
        assert_eq!(
            InvitationStatus::Pending.at(past, now),
            InvitationStatus::Expired
        );
        assert_eq!(
            InvitationStatus::Accepted.at(past, now),
            InvitationStatus::Accepted
        );
        assert_eq!(
            InvitationStatus::Pending.at(now + chrono::Duration::seconds(5), now),
            InvitationStatus::Pending
        );
    }
}
