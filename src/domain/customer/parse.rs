//! [`CustomerProfile::parse`]: the one place every profile rule is
//! checked, field by field and across fields.

#[allow(clippy::wildcard_imports)]
use super::*;

/// Checks a money amount: 0 to 2 147 483 647, at most 4 decimals.
pub fn parse_amount(value: Decimal) -> Result<Decimal, String> {
    if value.is_sign_negative() && !value.is_zero() {
        return Err("must not be negative".into());
    }
    if value > MAX_AMOUNT {
        return Err(format!("must be at most {MAX_AMOUNT}"));
    }
    if value.normalize().scale() > MAX_AMOUNT_SCALE {
        return Err(format!(
            "must have at most {MAX_AMOUNT_SCALE} decimal places"
        ));
    }
    Ok(value.abs())
}

fn bounded(value: i64, min: u32, max: u32, field: &str) -> Result<u32, InvalidInput> {
    u32::try_from(value)
        .ok()
        .filter(|v| (min..=max).contains(v))
        .ok_or_else(|| InvalidInput::new(field, format!("must be between {min} and {max}")))
}

fn parse_prefix(raw: &str) -> Result<String, String> {
    let prefix = raw.trim();
    let valid = (1..=10).contains(&prefix.len())
        && prefix
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if valid {
        Ok(prefix.to_owned())
    } else {
        Err("must be 1–10 letters, digits or hyphens".into())
    }
}

fn check_list_len<T>(items: &[T], max: usize, field: &str) -> Result<(), InvalidInput> {
    if items.len() > max {
        return Err(InvalidInput::new(
            field,
            format!("must have at most {max} entries"),
        ));
    }
    Ok(())
}

fn parse_address(draft: &AddressDraft) -> Result<Address, InvalidInput> {
    let part = |value: &Option<String>, field: &str| {
        optional_text(value.clone(), MAX_ADDRESS_PART_LEN, field)
    };
    Ok(Address {
        address_type: Some(
            draft
                .address_type
                .ok_or_else(|| InvalidInput::new("addressType", "is required"))?,
        ),
        default: draft.default,
        country: parse_country(&draft.country).at_field("country")?,
        state: part(&draft.state, "state")?,
        postal_code: part(&draft.postal_code, "postalCode")?,
        city: part(&draft.city, "city")?,
        address_line1: part(&draft.address_line1, "addressLine1")?,
        address_line2: part(&draft.address_line2, "addressLine2")?,
        po_box: part(&draft.po_box, "poBox")?,
        building_number: part(&draft.building_number, "buildingNumber")?,
        complement: part(&draft.complement, "complement")?,
    })
}

fn parse_telephone(draft: &TelephoneDraft) -> Result<Telephone, InvalidInput> {
    let extension = optional(
        draft.extension.clone(),
        |raw| {
            let digits = raw.trim();
            if (1..=10).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) {
                Ok(digits.to_owned())
            } else {
                Err("must be 1–10 digits".to_owned())
            }
        },
        "extension",
    )?;
    Ok(Telephone {
        telephone_type: Some(
            draft
                .telephone_type
                .ok_or_else(|| InvalidInput::new("telephoneType", "is required"))?,
        ),
        default: draft.default,
        number: parse_e164(&draft.number).at_field("number")?,
        extension,
    })
}

/// Fails naming the second default of a kind, e.g. `addresses[2].default`.
fn one_default_per<K: PartialEq + Copy>(
    items: impl Iterator<Item = (Option<K>, bool)>,
    list: &str,
) -> Result<(), InvalidInput> {
    let mut seen: Vec<K> = Vec::new();
    for (i, (kind, default)) in items.enumerate() {
        if let (Some(kind), true) = (kind, default) {
            if seen.contains(&kind) {
                return Err(InvalidInput::new(
                    format!("{list}[{i}].default"),
                    "only one entry of each type may be the default",
                ));
            }
            seen.push(kind);
        }
    }
    Ok(())
}

fn parse_list<T, U>(
    items: &[T],
    list: &str,
    parse: impl Fn(&T) -> Result<U, InvalidInput>,
) -> Result<Vec<U>, InvalidInput> {
    check_list_len(items, MAX_LIST_LEN, list)?;
    items
        .iter()
        .enumerate()
        .map(|(i, item)| parse(item).map_err(|e| e.within(&format!("{list}[{i}]"))))
        .collect()
}

fn parse_domains(
    raw: &[String],
    list: &str,
    parse: impl Fn(&str) -> Result<String, String>,
) -> Result<Vec<String>, InvalidInput> {
    check_list_len(raw, MAX_DOMAINS, list)?;
    let mut domains: Vec<String> = Vec::with_capacity(raw.len());
    for (i, item) in raw.iter().enumerate() {
        let domain = parse(item).map_err(|m| InvalidInput::new(format!("{list}[{i}]"), m))?;
        if !domains.contains(&domain) {
            domains.push(domain);
        }
    }
    Ok(domains)
}

impl CustomerProfile {
    /// Checks every rule, naming the first field that breaks one.
    pub fn parse(d: CustomerDraft) -> Result<Self, InvalidInput> {
        let company_name = optional_text(d.company_name, MAX_COMPANY_LEN, "companyName")?;
        if d.customer_type == CustomerType::Business && company_name.is_none() {
            return Err(InvalidInput::new(
                "companyName",
                "is required for BUSINESS customers",
            ));
        }
        let addresses = parse_list(&d.addresses, "addresses", parse_address)?;
        one_default_per(
            addresses.iter().map(|a| (a.address_type, a.default)),
            "addresses",
        )?;
        let telephones = parse_list(&d.telephones, "telephones", parse_telephone)?;
        one_default_per(
            telephones.iter().map(|t| (t.telephone_type, t.default)),
            "telephones",
        )?;
        Ok(Self {
            customer_type: d.customer_type,
            first_name: clean_text(&d.first_name, 1, MAX_NAME_LEN).at_field("firstName")?,
            last_name: clean_text(&d.last_name, 1, MAX_NAME_LEN).at_field("lastName")?,
            email: parse_email(&d.email).at_field("email")?,
            company_name,
            country: parse_country(&d.country).at_field("country")?,
            currency: CurrencyCode::parse(&d.currency).at_field("currency")?,
            language: optional(d.language, parse_language, "language")?,
            external_id: optional_text(d.external_id, MAX_IDENTIFIER_LEN, "externalId")?,
            tenant_id: optional_text(d.tenant_id, MAX_IDENTIFIER_LEN, "tenantId")?,
            customer_prefix: optional(d.customer_prefix, parse_prefix, "customerPrefix")?,
            hostname: optional(d.hostname, parse_hostname, "hostname")?,
            subdomain: optional(d.subdomain, parse_subdomain, "subdomain")?,
            delinquent: d.delinquent,
            website_url: optional(d.website_url, parse_web_url, "websiteUrl")?,
            logo: optional(d.logo, parse_web_url, "logo")?,
            billing: Billing {
                credit: parse_amount(d.billing.credit).at_field("credit")?,
                automatic_refill_amount: parse_amount(d.billing.automatic_refill_amount)
                    .at_field("automaticRefillAmount")?,
                low_balance_alert_amount: parse_amount(d.billing.low_balance_alert_amount)
                    .at_field("lowBalanceAlertAmount")?,
                default_bill_method: d.billing.default_bill_method,
            },
            telephony: Telephony {
                cdr_retention: bounded(d.cdr_retention, 1, 120, "cdrRetention")?,
                max_outbound_call_rate: bounded(
                    d.max_outbound_call_rate,
                    1,
                    1000,
                    "maxOutboundCallRate",
                )?,
                call_forwarding_call_limit: d
                    .call_forwarding_call_limit
                    .map(|v| bounded(v, 0, 1000, "callForwardingCallLimit"))
                    .transpose()?,
                ..d.telephony
            },
            role_users: d.role_users,
            addresses,
            telephones,
            legal_documents: parse_list(
                &d.legal_documents,
                "legalDocuments",
                LegalDocument::parse,
            )?,
            allowed_domains_origins: parse_domains(
                &d.allowed_domains_origins,
                "allowedDomainsOrigins",
                parse_origin,
            )?,
            allowed_domains_registration: parse_domains(
                &d.allowed_domains_registration,
                "allowedDomainsRegistration",
                parse_hostname,
            )?,
            settings: parse_settings(d.settings).map_err(|e| e.within("settings"))?,
            metadata: parse_metadata(d.metadata).map_err(|e| e.within("metadata"))?,
        })
    }

    /// The base of a generated subdomain: the company name for businesses
    /// (or when given), else first and last name, made DNS-safe.
    pub fn subdomain_base(&self) -> String {
        let source = match (&self.company_name, self.customer_type) {
            (Some(company), _) => company.clone(),
            (None, _) => format!("{} {}", self.first_name, self.last_name),
        };
        slugify(&source).unwrap_or_else(|| "customer".to_owned())
    }

    /// The name people know the customer by: the company name, else first
    /// and last name (as an invitation email names it).
    pub fn display_name(&self) -> String {
        match &self.company_name {
            Some(company) => company.clone(),
            None => format!("{} {}", self.first_name, self.last_name),
        }
    }

    /// The normalised terms `customers(filter: {search})` matches by
    /// prefix: email, company, first and last name.
    pub fn search_terms(&self) -> Vec<String> {
        let mut terms: Vec<String> = [
            Some(self.email.as_str()),
            self.company_name.as_deref(),
            Some(self.first_name.as_str()),
            Some(self.last_name.as_str()),
        ]
        .into_iter()
        .flatten()
        .map(search_key)
        .filter(|t| !t.is_empty())
        .collect();
        terms.sort();
        terms.dedup();
        terms
    }
}
