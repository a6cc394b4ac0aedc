//! Who may do what: the one policy every resolver consults.
//!
//! [`decide`] takes the caller, the action and — for actions on a customer —
//! the customer's status and the caller's membership of it, and answers
//! allow, hide or forbid. It is pure: the edge reads the membership (one
//! `GetItem` per customer per request) and turns the decision into a
//! response, so the rules live here and nowhere else. `docs/access.md`
//! shows them as a matrix.
//!
//! The rules:
//! - platform callers act by role ([`PlatformRole`]): admins do
//!   everything, support reads, billing reads and changes billing controls
//!   and quotas, the telephony edge only checks credentials;
//! - platform actions (users, customers' lifecycle, pricing-tier writes)
//!   are admin-only; reading pricing tiers is open to every signed-in caller;
//! - on a customer the caller does not belong to, every action is
//!   [`Decision::Hidden`]: answered as if the customer did not exist, so ids
//!   cannot be probed;
//! - a member of a customer whose status does not grant access (`INACTIVE`,
//!   `FRAUD`, `TERMINATED`) is forbidden everything on it; on a `SUSPENDED`
//!   customer only reads are allowed;
//! - otherwise the action's permission decides; the owner holds every
//!   permission, and each write permission includes its read permission.
//!   Managing users also requires that the caller holds every
//!   permission it grants, and only the owner may hand over ownership.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::customer::CustomerStatus;

/// A right a member holds on one customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Permission {
    /// Read the customer's profile.
    CustomerRead,
    /// Change the customer's profile (not its status, credit, billing flags
    /// or allowed domains, which are admin-only).
    CustomerWrite,
    /// See the customer's members and invitations.
    UsersRead,
    /// Add, change, remove and invite members.
    UsersManage,
    /// See the customer's accounts.
    AccountsRead,
    /// Change the customer's accounts.
    AccountsWrite,
    /// See the billing fields.
    BillingRead,
    /// Change the billing fields a customer may set.
    BillingWrite,
}

impl Permission {
    /// Every permission, in a stable order (the owner's list).
    pub const ALL: [Self; 8] = [
        Self::CustomerRead,
        Self::CustomerWrite,
        Self::UsersRead,
        Self::UsersManage,
        Self::AccountsRead,
        Self::AccountsWrite,
        Self::BillingRead,
        Self::BillingWrite,
    ];

    /// The read permission a write permission includes: whoever may change
    /// something may also see it (and a mutation can return what it wrote).
    pub fn implies(self) -> Option<Self> {
        match self {
            Self::CustomerWrite => Some(Self::CustomerRead),
            Self::UsersManage => Some(Self::UsersRead),
            Self::AccountsWrite => Some(Self::AccountsRead),
            Self::BillingWrite => Some(Self::BillingRead),
            _ => None,
        }
    }

    /// Sorted, duplicate-free permissions, as they are stored.
    pub fn normalize(mut list: Vec<Self>) -> Vec<Self> {
        list.sort();
        list.dedup();
        list
    }
}

/// The caller's standing on one customer.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MemberAccess {
    /// Whether the caller owns the customer (and so holds every permission).
    pub owner: bool,
    /// The permissions given explicitly.
    pub permissions: Vec<Permission>,
}

impl MemberAccess {
    /// Whether the member holds `permission`: explicitly, through a write
    /// permission that includes it, or as the owner.
    pub fn holds(&self, permission: Permission) -> bool {
        self.owner
            || self
                .permissions
                .iter()
                .any(|p| *p == permission || p.implies() == Some(permission))
    }
}

/// What the platform's own staff and systems may do, by least privilege:
/// a token's roles (`roles` / `cognito:groups`, mapped by `PLATFORM_ROLES`)
/// name one. None of them acts as a user or needs a membership.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PlatformRole {
    /// The telephony edge: checks account credentials, nothing else. Its
    /// token, on every call-setup path, must not be able to delete a
    /// customer.
    TelephonyEdge,
    /// Support staff: read everything, change nothing.
    Support,
    /// Billing staff: read everything; change credit, billing settings,
    /// billing flags and quotas.
    Billing,
    /// Everything.
    Admin,
}

impl PlatformRole {
    /// Every role, from least to most privileged.
    pub const ALL: [Self; 4] = [
        Self::TelephonyEdge,
        Self::Support,
        Self::Billing,
        Self::Admin,
    ];

    /// The role's name in tokens and in `PLATFORM_ROLES`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::TelephonyEdge => "telephony-edge",
            Self::Support => "support",
            Self::Billing => "billing",
            Self::Admin => "admin",
        }
    }

    /// The role named `name`.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == name)
    }

    /// Whether this role may do `action` (anywhere: platform roles are not
    /// bound to customers).
    pub fn permits(self, action: &Action) -> bool {
        match self {
            Self::Admin => true,
            Self::Support => action.is_read(),
            Self::Billing => {
                action.is_read()
                    || matches!(
                        action,
                        Action::WriteBilling | Action::WriteBillingControls | Action::SetQuotas
                    )
            }
            Self::TelephonyEdge => *action == Action::VerifyCredentials,
        }
    }
}

/// Who is calling, once the token and its user have been checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caller {
    /// The platform's staff or systems, with the role the token names.
    Platform(PlatformRole),
    /// An active user, acting within its memberships.
    User(Uuid),
}

impl Caller {
    /// A platform admin.
    pub const ADMIN: Self = Self::Platform(PlatformRole::Admin);

    /// The user id, unless the caller is the platform.
    pub fn user_id(self) -> Option<Uuid> {
        match self {
            Self::Platform(_) => None,
            Self::User(id) => Some(id),
        }
    }

    /// The platform role, unless the caller is a user.
    pub fn platform_role(self) -> Option<PlatformRole> {
        match self {
            Self::Platform(role) => Some(role),
            Self::User(_) => None,
        }
    }
}

/// What the caller wants to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Anything outside a customer that only admins do: creating, deleting
    /// or changing the status of customers; managing users; writing pricing
    /// tiers.
    Platform,
    /// Reading what only the platform sees: the user directory, the audit
    /// trail, a tier's accounts across customers.
    ReadPlatform,
    /// Checking an account's credentials (`verifyAccountCredentials`): the
    /// telephony edge's one call.
    VerifyCredentials,
    /// Changing the billing controls only the platform sets: a customer's
    /// `credit` and `delinquent`, an account's `creditLimit` and billing
    /// model (`postpaid`).
    WriteBillingControls,
    /// Setting a customer's quotas.
    SetQuotas,
    /// Reading the rate card.
    ReadPricingTiers,
    /// Reading a customer's profile (`CUSTOMER_READ`).
    ReadCustomer,
    /// Patching a customer's profile fields (`CUSTOMER_WRITE`).
    WriteCustomer,
    /// Changing a platform control: the fraud and risk flags, the telephony
    /// switches that cost money or enable abuse, base limits, allowed
    /// domains, re-enabling what the platform disabled (`docs/access.md`
    /// lists them with the reason for each).
    WritePlatformControls,
    /// Reading billing fields (`BILLING_READ`).
    ReadBilling,
    /// Patching the billing fields customers may set (`BILLING_WRITE`).
    WriteBilling,
    /// Reading members and invitations (`USERS_READ`).
    ReadUsers,
    /// Adding, changing, removing or inviting members (`USERS_MANAGE`),
    /// granting `grants`, and, with `ownership`, making someone the owner.
    ManageUsers {
        /// Permissions the change gives.
        grants: Vec<Permission>,
        /// Whether the change moves the ownership.
        ownership: bool,
    },
    /// Reading accounts (`ACCOUNTS_READ`).
    ReadAccounts,
    /// Changing accounts (`ACCOUNTS_WRITE`).
    WriteAccounts,
}

impl Action {
    /// Whether the action only reads.
    pub fn is_read(&self) -> bool {
        matches!(
            self,
            Self::ReadPricingTiers
                | Self::ReadPlatform
                | Self::ReadCustomer
                | Self::ReadBilling
                | Self::ReadUsers
                | Self::ReadAccounts
        )
    }

    /// The permission a member needs, if a member may do it at all.
    fn permission(&self) -> Option<Permission> {
        match self {
            Self::Platform
            | Self::ReadPlatform
            | Self::VerifyCredentials
            | Self::WriteBillingControls
            | Self::SetQuotas
            | Self::ReadPricingTiers
            | Self::WritePlatformControls => None,
            Self::ReadCustomer => Some(Permission::CustomerRead),
            Self::WriteCustomer => Some(Permission::CustomerWrite),
            Self::ReadBilling => Some(Permission::BillingRead),
            Self::WriteBilling => Some(Permission::BillingWrite),
            Self::ReadUsers => Some(Permission::UsersRead),
            Self::ManageUsers { .. } => Some(Permission::UsersManage),
            Self::ReadAccounts => Some(Permission::AccountsRead),
            Self::WriteAccounts => Some(Permission::AccountsWrite),
        }
    }
}

/// The policy's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Go ahead.
    Allow,
    /// Answer as if the customer did not exist (`null` / `NOT_FOUND`).
    Hidden,
    /// `FORBIDDEN`.
    Forbidden,
}

/// The customer an action is on, as the policy needs to see it.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    /// The customer's status.
    pub status: CustomerStatus,
    /// The caller's membership of it, if any.
    pub membership: Option<&'a MemberAccess>,
}

/// Decides whether `caller` may do `action`, on `target` when the action
/// concerns a customer (`None` for platform-wide actions).
pub fn decide(caller: Caller, action: &Action, target: Option<Target<'_>>) -> Decision {
    if let Caller::Platform(role) = caller {
        return if role.permits(action) {
            Decision::Allow
        } else {
            Decision::Forbidden
        };
    }
    match action {
        Action::ReadPricingTiers => return Decision::Allow,
        Action::Platform => return Decision::Forbidden,
        _ => {}
    }
    let Some(target) = target else {
        return Decision::Forbidden;
    };
    let Some(member) = target.membership else {
        return Decision::Hidden;
    };
    if !target.status.grants_access() {
        return Decision::Forbidden;
    }
    if target.status == CustomerStatus::Suspended && !action.is_read() {
        return Decision::Forbidden;
    }
    let Some(permission) = action.permission() else {
        return Decision::Forbidden;
    };
    if !member.holds(permission) {
        return Decision::Forbidden;
    }
    if let Action::ManageUsers { grants, ownership } = action {
        if *ownership && !member.owner {
            return Decision::Forbidden;
        }
        if !grants.iter().all(|p| member.holds(*p)) {
            return Decision::Forbidden;
        }
    }
    Decision::Allow
}

#[cfg(test)]
mod tests {
    use super::*;
    use CustomerStatus::{Active, Fraud, Inactive, Suspended, Terminated};

    fn member(permissions: &[Permission]) -> MemberAccess {
        MemberAccess {
            owner: false,
            permissions: permissions.to_vec(),
        }
    }

    fn owner() -> MemberAccess {
        MemberAccess {
            owner: true,
            permissions: Vec::new(),
        }
    }

    #[expect(
        clippy::unnecessary_wraps,
        reason = "decide takes an optional target; the helper builds the common case"
    )]
    fn on(status: CustomerStatus, m: Option<&MemberAccess>) -> Option<Target<'_>> {
        Some(Target {
            status,
            membership: m,
        })
    }

    const USER: Caller = Caller::User(Uuid::nil());

    #[test]
    fn admins_may_do_anything_even_without_a_membership() {
        for action in [Action::Platform, Action::WritePlatformControls] {
            assert_eq!(decide(Caller::ADMIN, &action, None), Decision::Allow);
            assert_eq!(
                decide(Caller::ADMIN, &action, on(Fraud, None)),
                Decision::Allow
            );
        }
    }

    #[test]
    fn users_may_read_tiers_but_do_nothing_platform_wide() {
        assert_eq!(
            decide(USER, &Action::ReadPricingTiers, None),
            Decision::Allow
        );
        assert_eq!(decide(USER, &Action::Platform, None), Decision::Forbidden);
        assert_eq!(
            decide(USER, &Action::ReadCustomer, None),
            Decision::Forbidden
        );
    }

    #[test]
    fn a_customer_the_caller_does_not_belong_to_is_hidden() {
        for action in [
            Action::ReadCustomer,
            Action::WriteCustomer,
            Action::WritePlatformControls,
            Action::ReadUsers,
        ] {
            assert_eq!(decide(USER, &action, on(Active, None)), Decision::Hidden);
        }
    }

    #[test]
    fn each_action_needs_its_permission_and_the_owner_holds_all() {
        let cases = [
            (Action::ReadCustomer, Permission::CustomerRead),
            (Action::WriteCustomer, Permission::CustomerWrite),
            (Action::ReadBilling, Permission::BillingRead),
            (Action::WriteBilling, Permission::BillingWrite),
            (Action::ReadUsers, Permission::UsersRead),
            (
                Action::ManageUsers {
                    grants: vec![],
                    ownership: false,
                },
                Permission::UsersManage,
            ),
            (Action::ReadAccounts, Permission::AccountsRead),
            (Action::WriteAccounts, Permission::AccountsWrite),
        ];
        for (action, needed) in cases {
            for held in Permission::ALL {
                let m = member(&[held]);
                let expected = if held == needed || held.implies() == Some(needed) {
                    Decision::Allow
                } else {
                    Decision::Forbidden
                };
                assert_eq!(
                    decide(USER, &action, on(Active, Some(&m))),
                    expected,
                    "{action:?} with {held:?}"
                );
            }
            assert_eq!(
                decide(USER, &action, on(Active, Some(&owner()))),
                Decision::Allow
            );
        }
    }

    #[test]
    fn restricted_fields_stay_admin_only_even_for_the_owner() {
        assert_eq!(
            decide(
                USER,
                &Action::WritePlatformControls,
                on(Active, Some(&owner()))
            ),
            Decision::Forbidden
        );
    }

    #[test]
    fn a_manager_grants_only_what_it_holds_and_only_the_owner_moves_ownership() {
        let manager = member(&[Permission::UsersManage, Permission::CustomerRead]);
        let grant = |grants: Vec<Permission>, ownership| Action::ManageUsers { grants, ownership };
        let target = on(Active, Some(&manager));
        assert_eq!(
            decide(USER, &grant(vec![Permission::CustomerRead], false), target),
            Decision::Allow
        );
        assert_eq!(
            decide(USER, &grant(vec![Permission::BillingRead], false), target),
            Decision::Forbidden
        );
        assert_eq!(
            decide(USER, &grant(vec![], true), target),
            Decision::Forbidden
        );
        assert_eq!(
            decide(
                USER,
                &grant(Permission::ALL.to_vec(), true),
                on(Active, Some(&owner()))
            ),
            Decision::Allow
        );
    }

    #[test]
    fn status_limits_members_inactive_and_fraud_lose_access_suspended_reads() {
        let o = owner();
        for status in [Inactive, Fraud, Terminated] {
            assert_eq!(
                decide(USER, &Action::ReadCustomer, on(status, Some(&o))),
                Decision::Forbidden,
                "{status:?}"
            );
        }
        assert_eq!(
            decide(USER, &Action::ReadCustomer, on(Suspended, Some(&o))),
            Decision::Allow
        );
        assert_eq!(
            decide(USER, &Action::WriteCustomer, on(Suspended, Some(&o))),
            Decision::Forbidden
        );
    }
}
