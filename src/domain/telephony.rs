//! The telephony edge's decision: whether a caller that presented an
//! account's correct secret may place or register calls now. Pure, so
//! every rule is a unit test; the edge (`verifyAccountCredentials`) reads
//! the account, its customer's status and, for a sub-account, its master,
//! and turns a refusal into `extensions.reason`.
//!
//! A wrong or expired secret and an unknown `authId` never reach this
//! module: they stay one indistinguishable `UNAUTHENTICATED`. Only a
//! caller who proved the secret learns why it is refused.

use std::net::IpAddr;

use ipnet::IpNet;

use super::account::{AccountProfile, RiskStatus};
use super::customer::CustomerStatus;

/// Why a correct secret is refused, as the edge logs and maps it to a SIP
/// or HTTP answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The account is switched off (`enabled: false`).
    AccountDisabled,
    /// The account is not active (`isActive: false`).
    AccountInactive,
    /// The platform's risk assessment blocked the account.
    AccountBlocked,
    /// The sub-account's master is refused (disabled, inactive, blocked).
    MasterRefused,
    /// The customer is `INACTIVE`: its resources are kept but not used.
    CustomerInactive,
    /// The customer is flagged as fraudulent.
    CustomerFraud,
    /// The customer is terminated.
    CustomerTerminated,
    /// IP authentication is on and the source address is not allowed.
    IpNotAllowed,
}

impl Refusal {
    /// Every reason, for listings and tests.
    pub const ALL: [Self; 8] = [
        Self::AccountDisabled,
        Self::AccountInactive,
        Self::AccountBlocked,
        Self::MasterRefused,
        Self::CustomerInactive,
        Self::CustomerFraud,
        Self::CustomerTerminated,
        Self::IpNotAllowed,
    ];

    /// The wire name (`extensions.reason`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AccountDisabled => "ACCOUNT_DISABLED",
            Self::AccountInactive => "ACCOUNT_INACTIVE",
            Self::AccountBlocked => "ACCOUNT_BLOCKED",
            Self::MasterRefused => "MASTER_REFUSED",
            Self::CustomerInactive => "CUSTOMER_INACTIVE",
            Self::CustomerFraud => "CUSTOMER_FRAUD",
            Self::CustomerTerminated => "CUSTOMER_TERMINATED",
            Self::IpNotAllowed => "IP_NOT_ALLOWED",
        }
    }
}

/// What the customer's status does to its accounts' credentials:
/// `ACTIVE` and `SUSPENDED` keep service (a suspended customer gets no new
/// resources but keeps using what it has, as the seed says); `INACTIVE`,
/// `FRAUD` and `TERMINATED` lose it, from the next check on.
pub fn customer_refusal(status: CustomerStatus) -> Option<Refusal> {
    match status {
        CustomerStatus::Active | CustomerStatus::Suspended => None,
        CustomerStatus::Inactive => Some(Refusal::CustomerInactive),
        CustomerStatus::Fraud => Some(Refusal::CustomerFraud),
        CustomerStatus::Terminated => Some(Refusal::CustomerTerminated),
    }
}

/// An account's own switches, in the order the edge reports them.
fn account_refusal(profile: &AccountProfile) -> Option<Refusal> {
    if profile.risk_status == RiskStatus::Blocked {
        Some(Refusal::AccountBlocked)
    } else if !profile.enabled {
        Some(Refusal::AccountDisabled)
    } else if !profile.is_active {
        Some(Refusal::AccountInactive)
    } else {
        None
    }
}

/// Amazon's published address ranges, for accounts that allow them
/// (`allowAwsIps`). Empty when they could not be had: such accounts then
/// fail closed unless their own rules allow the address.
#[derive(Debug, Clone, Default)]
pub struct AwsRanges(Vec<IpNet>);

impl AwsRanges {
    /// The ranges of an `ip-ranges.json` document (its `prefixes[].ip_prefix`
    /// and `ipv6_prefixes[].ipv6_prefix`); entries that do not parse are
    /// skipped.
    pub fn from_json(document: &serde_json::Value) -> Self {
        let mut nets = Vec::new();
        for (list, field) in [("prefixes", "ip_prefix"), ("ipv6_prefixes", "ipv6_prefix")] {
            for entry in document[list].as_array().into_iter().flatten() {
                if let Some(net) = entry[field].as_str().and_then(|t| t.parse::<IpNet>().ok()) {
                    nets.push(net);
                }
            }
        }
        Self(nets)
    }

    /// Whether `ip` is in one of the ranges.
    pub fn contains(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|net| net.contains(&ip))
    }
}

/// Whether `source` may use an account with `profile`'s IP rules.
fn ip_allowed(profile: &AccountProfile, source: Option<IpAddr>, aws: &AwsRanges) -> bool {
    if !profile.ip_auth_enabled {
        return true;
    }
    let Some(ip) = source else {
        return false;
    };
    // An IPv4 address the edge saw as IPv6-mapped is the same caller.
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 @ IpAddr::V4(_) => v4,
    };
    let by_rule = profile.ip_whitelist_rules.iter().any(|rule| {
        rule.parse::<IpNet>()
            .map(|net| net.contains(&ip))
            .or_else(|_| rule.parse::<IpAddr>().map(|one| one == ip))
            .unwrap_or(false)
    });
    by_rule || (profile.allow_aws_ips && aws.contains(ip))
}

/// The decision for a caller from `source` with the correct secret of an
/// account with `profile`, of a customer in `status`, and (for a
/// sub-account) a master with `master`.
pub fn decide(
    profile: &AccountProfile,
    status: CustomerStatus,
    master: Option<&AccountProfile>,
    source: Option<IpAddr>,
    aws: &AwsRanges,
) -> Result<(), Refusal> {
    // The customer's status first: terminating a customer also switches
    // its accounts off, and the edge should hear the cause.
    if let Some(refusal) = customer_refusal(status) {
        return Err(refusal);
    }
    if let Some(refusal) = account_refusal(profile) {
        return Err(refusal);
    }
    if master.is_some_and(|m| account_refusal(m).is_some()) {
        return Err(Refusal::MasterRefused);
    }
    if !ip_allowed(profile, source, aws) {
        return Err(Refusal::IpNotAllowed);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::account::AccountDraft;

    fn profile() -> AccountProfile {
        AccountProfile::parse(AccountDraft::new("Edge".into(), "e@example.com".into())).unwrap()
    }

    #[expect(
        clippy::unnecessary_wraps,
        reason = "decide takes an optional source; the helper builds the common case"
    )]
    fn ip(text: &str) -> Option<IpAddr> {
        Some(text.parse().unwrap())
    }

    const ACTIVE: CustomerStatus = CustomerStatus::Active;

    #[test]
    fn each_status_maps_to_service_or_its_reason() {
        let p = profile();
        let none = AwsRanges::default();
        for (status, expected) in [
            (CustomerStatus::Active, Ok(())),
            (CustomerStatus::Suspended, Ok(())),
            (CustomerStatus::Inactive, Err(Refusal::CustomerInactive)),
            (CustomerStatus::Fraud, Err(Refusal::CustomerFraud)),
            (CustomerStatus::Terminated, Err(Refusal::CustomerTerminated)),
        ] {
            assert_eq!(
                decide(&p, status, None, None, &none),
                expected,
                "{status:?}"
            );
        }
    }

    #[test]
    fn the_accounts_own_switches_and_its_master_refuse() {
        let none = AwsRanges::default();
        let mut blocked = profile();
        blocked.risk_status = RiskStatus::Blocked;
        assert_eq!(
            decide(&blocked, ACTIVE, None, None, &none),
            Err(Refusal::AccountBlocked)
        );
        let mut off = profile();
        off.enabled = false;
        assert_eq!(
            decide(&off, ACTIVE, None, None, &none),
            Err(Refusal::AccountDisabled)
        );
        let mut inactive = profile();
        inactive.is_active = false;
        assert_eq!(
            decide(&inactive, ACTIVE, None, None, &none),
            Err(Refusal::AccountInactive)
        );
        assert_eq!(
            decide(&profile(), ACTIVE, Some(&blocked), None, &none),
            Err(Refusal::MasterRefused)
        );
        assert_eq!(
            decide(&profile(), ACTIVE, Some(&profile()), None, &none),
            Ok(())
        );
    }

    #[test]
    fn ip_rules_allow_their_v4_and_v6_blocks_and_aws_ranges_only_when_allowed() {
        let mut p = profile();
        p.ip_auth_enabled = true;
        p.ip_whitelist_rules = vec![
            "203.0.113.0/24".into(),
            "2001:db8::/32".into(),
            "198.51.100.7".into(),
        ];
        let aws = AwsRanges::from_json(&serde_json::json!({
            "prefixes": [{"ip_prefix": "52.94.0.0/22"}, {"ip_prefix": "garbage"}],
            "ipv6_prefixes": [{"ipv6_prefix": "2600:1f00::/24"}]
        }));
        let check = |p: &AccountProfile, source| decide(p, ACTIVE, None, ip(source), &aws);
        assert_eq!(check(&p, "203.0.113.9"), Ok(()));
        assert_eq!(check(&p, "::ffff:203.0.113.9"), Ok(()), "IPv4-mapped");
        assert_eq!(check(&p, "198.51.100.7"), Ok(()));
        assert_eq!(check(&p, "2001:db8:1::5"), Ok(()));
        assert_eq!(check(&p, "198.51.100.8"), Err(Refusal::IpNotAllowed));
        assert_eq!(check(&p, "2001:db9::1"), Err(Refusal::IpNotAllowed));
        assert_eq!(
            check(&p, "52.94.1.1"),
            Err(Refusal::IpNotAllowed),
            "AWS not allowed"
        );
        assert_eq!(
            decide(&p, ACTIVE, None, None, &aws),
            Err(Refusal::IpNotAllowed),
            "no source"
        );
        p.allow_aws_ips = true;
        assert_eq!(check(&p, "52.94.1.1"), Ok(()));
        assert_eq!(check(&p, "2600:1f00::1"), Ok(()));
        // Without the ranges, an account that relies on them fails closed.
        assert_eq!(
            decide(&p, ACTIVE, None, ip("52.94.1.1"), &AwsRanges::default()),
            Err(Refusal::IpNotAllowed)
        );
        // IP authentication off: any source, or none.
        p.ip_auth_enabled = false;
        assert_eq!(check(&p, "192.0.2.1"), Ok(()));
    }

    #[test]
    fn reasons_have_distinct_wire_names() {
        let mut names: Vec<&str> = Refusal::ALL.iter().map(|r| r.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Refusal::ALL.len());
    }
}
