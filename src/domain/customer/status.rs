//! A customer's lifecycle status and the moves between statuses.

#[allow(clippy::wildcard_imports)]
use super::*;

/// Lifecycle status. See [`CustomerStatus::can_become`] for the transitions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CustomerStatus {
    /// Uses its resources and accesses the platform.
    Active,
    /// Its users lose access; its resources stay.
    Inactive,
    /// Cannot get new resources (accounts, users) but keeps access.
    Suspended,
    /// Flagged as fraudulent: no new resources, no access.
    Fraud,
    /// Final: every account is inactive and disabled; may be deleted.
    Terminated,
}

impl CustomerStatus {
    /// Every status, for listings and tests.
    pub const ALL: [Self; 5] = [
        Self::Active,
        Self::Inactive,
        Self::Suspended,
        Self::Fraud,
        Self::Terminated,
    ];

    /// The allowed transitions:
    /// - `ACTIVE`, `INACTIVE` and `SUSPENDED` may move among themselves and
    ///   to `FRAUD` or `TERMINATED`;
    /// - `FRAUD` may only be cleared to `SUSPENDED` (for review) or
    ///   `TERMINATED`;
    /// - `TERMINATED` is final.
    pub fn can_become(self, next: Self) -> bool {
        use CustomerStatus::{Active, Fraud, Inactive, Suspended, Terminated};
        match self {
            Active | Inactive | Suspended => next != self,
            Fraud => matches!(next, Suspended | Terminated),
            Terminated => false,
        }
    }

    /// Whether new accounts and users may be added (not while `SUSPENDED`,
    /// `FRAUD` or `TERMINATED`).
    pub fn accepts_new_resources(self) -> bool {
        matches!(self, Self::Active | Self::Inactive)
    }

    /// Whether the customer's users may access the platform.
    pub fn grants_access(self) -> bool {
        matches!(self, Self::Active | Self::Suspended)
    }

    /// The wire name, as stored and as in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "ACTIVE",
            Self::Inactive => "INACTIVE",
            Self::Suspended => "SUSPENDED",
            Self::Fraud => "FRAUD",
            Self::Terminated => "TERMINATED",
        }
    }
}
