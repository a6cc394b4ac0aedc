//! Unit tests of the customer rules.

use super::*;
use serde_json::json;

fn draft() -> CustomerDraft {
    let mut d = CustomerDraft::new(
        CustomerType::Business,
        "Ada".into(),
        "Lovelace".into(),
        "ada@example.com".into(),
        "gb".into(),
        "gbp".into(),
    );
    d.company_name = Some("Analytical Engines Ltd".into());
    d
}

#[test]
fn the_seed_defaults_apply() {
    let p = CustomerProfile::parse(draft()).unwrap();
    assert_eq!(p.billing.credit, Decimal::ZERO);
    assert_eq!(p.billing.default_bill_method, BillMethod::Credit);
    assert!(p.telephony.account_lock);
    assert!(!p.telephony.international_calling);
    assert_eq!(p.telephony.cdr_retention, 12);
    assert_eq!(p.telephony.max_outbound_call_rate, 1);
    assert_eq!((p.country.as_str(), p.currency.code()), ("GB", "GBP"));
}

#[test]
fn businesses_need_a_company_name_and_people_do_not() {
    let mut d = draft();
    d.company_name = Some("  ".into());
    assert_eq!(
        CustomerProfile::parse(d.clone()).unwrap_err().field,
        "companyName"
    );
    d.customer_type = CustomerType::Personal;
    assert!(CustomerProfile::parse(d).is_ok());
}

#[test]
fn one_default_address_per_type() {
    let mut d = draft();
    let address = |t, default| Address {
        address_type: Some(t),
        default,
        country: "GB".into(),
        ..Address::default()
    };
    d.addresses = vec![
        address(AddressType::Postal, true),
        address(AddressType::Billing, true),
        address(AddressType::Postal, true),
    ];
    assert_eq!(
        CustomerProfile::parse(d).unwrap_err().field,
        "addresses[2].default"
    );
}

#[test]
fn list_item_errors_name_their_index() {
    let mut d = draft();
    d.telephones = vec![
        Telephone {
            telephone_type: Some(TelephoneType::Mobile),
            number: "+44 7911 123456".into(),
            ..Telephone::default()
        },
        Telephone {
            telephone_type: Some(TelephoneType::Landline),
            number: "12345".into(),
            ..Telephone::default()
        },
    ];
    assert_eq!(
        CustomerProfile::parse(d).unwrap_err().field,
        "telephones[1].number"
    );
    let mut d = draft();
    d.allowed_domains_registration = vec!["example.com".into(), "not a domain".into()];
    assert_eq!(
        CustomerProfile::parse(d).unwrap_err().field,
        "allowedDomainsRegistration[1]"
    );
    let mut d = draft();
    d.metadata = json!({"crm": {"a": {"b": 1}}});
    assert_eq!(
        CustomerProfile::parse(d).unwrap_err().field,
        "metadata.crm.a"
    );
}

#[test]
fn amounts_stay_within_the_seeds_32_bit_range() {
    let mut d = draft();
    d.billing.credit = Decimal::from(2_147_483_648_i64);
    assert_eq!(
        CustomerProfile::parse(d.clone()).unwrap_err().field,
        "credit"
    );
    d.billing.credit = Decimal::from(-1);
    assert_eq!(CustomerProfile::parse(d).unwrap_err().field, "credit");
}

#[test]
fn status_transitions_follow_the_rules() {
    use CustomerStatus::*;
    assert!(Active.can_become(Suspended));
    assert!(Suspended.can_become(Active));
    assert!(Inactive.can_become(Terminated));
    assert!(Fraud.can_become(Suspended));
    assert!(!Fraud.can_become(Active));
    assert!(!Terminated.can_become(Active));
    assert!(!Active.can_become(Active));
    assert!(!Suspended.accepts_new_resources());
    assert!(!Fraud.accepts_new_resources());
    assert!(Inactive.accepts_new_resources());
    assert!(!Inactive.grants_access());
    assert!(Suspended.grants_access());
}

#[test]
fn new_customers_start_active_or_inactive_with_a_long_password() {
    let ok = NewCustomer::parse(draft(), CustomerStatus::Inactive, "twelve chars".into());
    assert!(ok.is_ok());
    let suspended = NewCustomer::parse(draft(), CustomerStatus::Suspended, "twelve chars".into());
    assert_eq!(suspended.unwrap_err().field, "status");
    let short = NewCustomer::parse(draft(), CustomerStatus::Active, "short".into());
    assert_eq!(short.unwrap_err().field, "password");
}

#[test]
fn generated_subdomains_and_search_terms() {
    let p = CustomerProfile::parse(draft()).unwrap();
    assert_eq!(p.subdomain_base(), "analytical-engines-ltd");
    assert_eq!(
        p.search_terms(),
        [
            "ada",
            "ada@example.com",
            "analytical engines ltd",
            "lovelace"
        ]
    );
    let mut person = draft();
    person.customer_type = CustomerType::Personal;
    person.company_name = None;
    person.first_name = "José".into();
    person.last_name = "Núñez".into();
    assert_eq!(
        CustomerProfile::parse(person).unwrap().subdomain_base(),
        "jose-nunez"
    );
    assert_eq!(search_key("  José  Ñúñez "), "jose nunez");
}

#[test]
fn search_terms_fit_a_sort_key_however_far_folding_expands_them() {
    let mut person = draft();
    person.first_name = "ﷺ".repeat(MAX_NAME_LEN);
    person.company_name = Some("中".repeat(MAX_COMPANY_LEN));
    let terms = CustomerProfile::parse(person).unwrap().search_terms();
    assert!(
        terms.iter().all(|t| t.len() <= MAX_SEARCH_TERM_BYTES),
        "{terms:?}"
    );
    let long = search_key(&"ﷺ".repeat(60));
    assert!(long.len() <= MAX_SEARCH_TERM_BYTES && long.starts_with("{salla llahu"));
    // A long prefix is cut the same way, so it still matches its term.
    assert!(long.starts_with(&search_key(&"ﷺ".repeat(7))));
}

#[test]
fn customer_keys_are_short_random_and_of_the_key_alphabet() {
    let keys: std::collections::HashSet<String> =
        (0..1_000).map(|_| generate_customer_key()).collect();
    // About 49 bits each: a thousand keys never collide by chance.
    assert_eq!(keys.len(), 1_000);
    for key in &keys {
        assert_eq!(key.len(), CUSTOMER_KEY_LEN);
        assert!(key.bytes().all(|b| KEY_ALPHABET.contains(&b)), "{key}");
    }
}
