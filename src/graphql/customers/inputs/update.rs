//! `UpdateCustomerInput`: a patch, field by field, with `null` to clear.

use async_graphql::{ID, InputObject, MaybeUndefined};
use serde_json::{Map, Value};

use super::super::types::{BillMethod, CustomerType};
use super::{
    AddressInput, LegalDocumentInput, TelephoneInput, amount, clear, not_null, ok, patch, role_id,
};
use crate::domain::InvalidInput;
use crate::domain::access::Action;
use crate::domain::customer::CustomerDraft;
use crate::domain::email::same_address;
use crate::graphql::scalars::{Decimal, Json};

/// Changes to a customer: an omitted field is unchanged; `null` clears a
/// nullable field (and empties a list or object). `addresses`, `telephones`,
/// `legalDocuments`, the allowed-domain lists, `settings` and `metadata` are
/// replaced whole. Status changes go through `setCustomerStatus`.
#[derive(InputObject, Clone)]
pub struct UpdateCustomerInput {
    /// Business or person.
    customer_type: MaybeUndefined<CustomerType>,
    /// First name.
    first_name: MaybeUndefined<String>,
    /// Last name.
    last_name: MaybeUndefined<String>,
    /// Email (unique). The owner user's own email is not changed. Only
    /// admins move a customer to another address (`FORBIDDEN` for members,
    /// owner included).
    email: MaybeUndefined<String>,
    /// Company name.
    company_name: MaybeUndefined<String>,
    /// Country.
    country: MaybeUndefined<String>,
    /// Currency.
    currency: MaybeUndefined<String>,
    /// Language.
    language: MaybeUndefined<String>,
    /// External id.
    external_id: MaybeUndefined<String>,
    /// Tenant id.
    tenant_id: MaybeUndefined<String>,
    /// Prefix.
    customer_prefix: MaybeUndefined<String>,
    /// Custom domain (unique).
    hostname: MaybeUndefined<String>,
    /// Subdomain (unique; cannot be cleared).
    subdomain: MaybeUndefined<String>,
    /// Delinquency flag.
    delinquent: MaybeUndefined<bool>,
    /// Website.
    website_url: MaybeUndefined<String>,
    /// Logo URL.
    logo: MaybeUndefined<String>,
    /// Prepaid credit.
    credit: MaybeUndefined<Decimal>,
    /// Automatic refill amount.
    automatic_refill_amount: MaybeUndefined<Decimal>,
    /// Low-balance alert threshold.
    low_balance_alert_amount: MaybeUndefined<Decimal>,
    /// Default bill method.
    default_bill_method: MaybeUndefined<BillMethod>,
    /// International calling.
    international_calling: MaybeUndefined<bool>,
    /// Media bypass.
    media_bypass: MaybeUndefined<bool>,
    /// Account lock.
    account_lock: MaybeUndefined<bool>,
    /// Call recording.
    call_recording: MaybeUndefined<bool>,
    /// CNAM look-ups.
    cnam_look_ups: MaybeUndefined<bool>,
    /// Hold music.
    hold_music: MaybeUndefined<bool>,
    /// Call transcription.
    transcribe_calls: MaybeUndefined<bool>,
    /// Call debugging.
    call_debug: MaybeUndefined<bool>,
    /// Months call records are kept.
    cdr_retention: MaybeUndefined<i32>,
    /// Outbound calls per second.
    max_outbound_call_rate: MaybeUndefined<i32>,
    /// Limit of forwarded calls.
    call_forwarding_call_limit: MaybeUndefined<i32>,
    /// Administrative contact; must be a user of this customer.
    admin_user: MaybeUndefined<ID>,
    /// Billing contact; must be a user of this customer.
    billing_user: MaybeUndefined<ID>,
    /// Call-recording recipient; must be a user of this customer.
    call_recording_user: MaybeUndefined<ID>,
    /// Support contact; must be a user of this customer.
    support_user: MaybeUndefined<ID>,
    /// Addresses, replaced whole.
    addresses: MaybeUndefined<Vec<AddressInput>>,
    /// Telephones, replaced whole.
    telephones: MaybeUndefined<Vec<TelephoneInput>>,
    /// Legal documents, replaced whole.
    legal_documents: MaybeUndefined<Vec<LegalDocumentInput>>,
    /// Allowed origins, replaced whole.
    allowed_domains_origins: MaybeUndefined<Vec<String>>,
    /// Allowed registration domains, replaced whole.
    allowed_domains_registration: MaybeUndefined<Vec<String>>,
    /// Settings, replaced whole.
    settings: MaybeUndefined<Json>,
    /// Metadata, replaced whole.
    metadata: MaybeUndefined<Json>,
}

impl UpdateCustomerInput {
    /// What the patch does, in the policy's terms: each group of fields it
    /// touches needs its own permission. Moving the customer to another
    /// email address than `current_email` is a platform control: the
    /// address is unique among customers, so a member's attempt would
    /// learn from the answer whether another customer uses it. Sending the
    /// address it already has (in any case) changes nothing and stays a
    /// profile write.
    pub(in crate::graphql::customers) fn actions(&self, current_email: &str) -> Vec<Action> {
        let moves_email = match &self.email {
            MaybeUndefined::Undefined => false,
            MaybeUndefined::Null => true,
            MaybeUndefined::Value(email) => !same_address(email, current_email),
        };
        let platform = !self.allowed_domains_origins.is_undefined()
            || !self.allowed_domains_registration.is_undefined()
            || moves_email;
        let billing_controls = !self.credit.is_undefined() || !self.delinquent.is_undefined();
        let billing = !self.automatic_refill_amount.is_undefined()
            || !self.low_balance_alert_amount.is_undefined()
            || !self.default_bill_method.is_undefined();
        let mut actions = Vec::new();
        if self.touches_profile() {
            actions.push(Action::WriteCustomer);
        }
        if billing {
            actions.push(Action::WriteBilling);
        }
        if billing_controls {
            actions.push(Action::WriteBillingControls);
        }
        if platform {
            actions.push(Action::WritePlatformControls);
        }
        if actions.is_empty() {
            // An empty patch still needs the right to change the customer.
            actions.push(Action::WriteCustomer);
        }
        actions
    }

    /// Whether any field outside billing and the admin-only ones is set.
    fn touches_profile(&self) -> bool {
        let set = [
            self.customer_type.is_undefined(),
            self.first_name.is_undefined(),
            self.last_name.is_undefined(),
            self.email.is_undefined(),
            self.company_name.is_undefined(),
            self.country.is_undefined(),
            self.currency.is_undefined(),
            self.language.is_undefined(),
            self.external_id.is_undefined(),
            self.tenant_id.is_undefined(),
            self.customer_prefix.is_undefined(),
            self.hostname.is_undefined(),
            self.subdomain.is_undefined(),
            self.website_url.is_undefined(),
            self.logo.is_undefined(),
            self.international_calling.is_undefined(),
            self.media_bypass.is_undefined(),
            self.account_lock.is_undefined(),
            self.call_recording.is_undefined(),
            self.cnam_look_ups.is_undefined(),
            self.hold_music.is_undefined(),
            self.transcribe_calls.is_undefined(),
            self.call_debug.is_undefined(),
            self.cdr_retention.is_undefined(),
            self.max_outbound_call_rate.is_undefined(),
            self.call_forwarding_call_limit.is_undefined(),
            self.admin_user.is_undefined(),
            self.billing_user.is_undefined(),
            self.call_recording_user.is_undefined(),
            self.support_user.is_undefined(),
            self.addresses.is_undefined(),
            self.telephones.is_undefined(),
            self.legal_documents.is_undefined(),
            self.settings.is_undefined(),
            self.metadata.is_undefined(),
        ];
        set.iter().any(|undefined| !undefined)
    }

    /// Writes the patch onto a draft of the current profile. Field paths in
    /// errors are full (`input.email`).
    #[expect(
        clippy::too_many_lines,
        reason = "one statement per patchable field; splitting would scatter the list"
    )]
    pub(in crate::graphql::customers) fn apply(
        self,
        d: &mut CustomerDraft,
    ) -> Result<(), InvalidInput> {
        patch(
            self.customer_type,
            &mut d.customer_type,
            not_null("input.customerType"),
            |v| ok(v.into()),
        )?;
        patch(
            self.first_name,
            &mut d.first_name,
            not_null("input.firstName"),
            ok,
        )?;
        patch(
            self.last_name,
            &mut d.last_name,
            not_null("input.lastName"),
            ok,
        )?;
        patch(self.email, &mut d.email, not_null("input.email"), ok)?;
        patch(self.company_name, &mut d.company_name, clear(), |v| {
            ok(Some(v))
        })?;
        patch(self.country, &mut d.country, not_null("input.country"), ok)?;
        patch(
            self.currency,
            &mut d.currency,
            not_null("input.currency"),
            ok,
        )?;
        patch(self.language, &mut d.language, clear(), |v| ok(Some(v)))?;
        patch(self.external_id, &mut d.external_id, clear(), |v| {
            ok(Some(v))
        })?;
        patch(self.tenant_id, &mut d.tenant_id, clear(), |v| ok(Some(v)))?;
        patch(self.customer_prefix, &mut d.customer_prefix, clear(), |v| {
            ok(Some(v))
        })?;
        patch(self.hostname, &mut d.hostname, clear(), |v| ok(Some(v)))?;
        patch(
            self.subdomain,
            &mut d.subdomain,
            not_null("input.subdomain"),
            |v| ok(Some(v)),
        )?;
        patch(
            self.delinquent,
            &mut d.delinquent,
            not_null("input.delinquent"),
            ok,
        )?;
        patch(self.website_url, &mut d.website_url, clear(), |v| {
            ok(Some(v))
        })?;
        patch(self.logo, &mut d.logo, clear(), |v| ok(Some(v)))?;
        let b = &mut d.billing;
        patch(self.credit, &mut b.credit, not_null("input.credit"), |v| {
            amount(&v, "input.credit")
        })?;
        patch(
            self.automatic_refill_amount,
            &mut b.automatic_refill_amount,
            not_null("input.automaticRefillAmount"),
            |v| amount(&v, "input.automaticRefillAmount"),
        )?;
        patch(
            self.low_balance_alert_amount,
            &mut b.low_balance_alert_amount,
            not_null("input.lowBalanceAlertAmount"),
            |v| amount(&v, "input.lowBalanceAlertAmount"),
        )?;
        patch(
            self.default_bill_method,
            &mut b.default_bill_method,
            not_null("input.defaultBillMethod"),
            |v| ok(v.into()),
        )?;
        let t = &mut d.telephony;
        patch(
            self.international_calling,
            &mut t.international_calling,
            not_null("input.internationalCalling"),
            ok,
        )?;
        patch(
            self.media_bypass,
            &mut t.media_bypass,
            not_null("input.mediaBypass"),
            ok,
        )?;
        patch(
            self.account_lock,
            &mut t.account_lock,
            not_null("input.accountLock"),
            ok,
        )?;
        patch(
            self.call_recording,
            &mut t.call_recording,
            not_null("input.callRecording"),
            ok,
        )?;
        patch(
            self.cnam_look_ups,
            &mut t.cnam_look_ups,
            not_null("input.cnamLookUps"),
            ok,
        )?;
        patch(
            self.hold_music,
            &mut t.hold_music,
            not_null("input.holdMusic"),
            ok,
        )?;
        patch(
            self.transcribe_calls,
            &mut t.transcribe_calls,
            not_null("input.transcribeCalls"),
            ok,
        )?;
        patch(
            self.call_debug,
            &mut t.call_debug,
            not_null("input.callDebug"),
            ok,
        )?;
        patch(
            self.cdr_retention,
            &mut d.cdr_retention,
            not_null("input.cdrRetention"),
            |v| ok(i64::from(v)),
        )?;
        patch(
            self.max_outbound_call_rate,
            &mut d.max_outbound_call_rate,
            not_null("input.maxOutboundCallRate"),
            |v| ok(i64::from(v)),
        )?;
        patch(
            self.call_forwarding_call_limit,
            &mut d.call_forwarding_call_limit,
            clear(),
            |v| ok(Some(i64::from(v))),
        )?;
        let r = &mut d.role_users;
        patch(self.admin_user, &mut r.admin_user, clear(), |v| {
            role_id(Some(&v), "input.adminUser")
        })?;
        patch(self.billing_user, &mut r.billing_user, clear(), |v| {
            role_id(Some(&v), "input.billingUser")
        })?;
        patch(
            self.call_recording_user,
            &mut r.call_recording_user,
            clear(),
            |v| role_id(Some(&v), "input.callRecordingUser"),
        )?;
        patch(self.support_user, &mut r.support_user, clear(), |v| {
            role_id(Some(&v), "input.supportUser")
        })?;
        patch(
            self.addresses,
            &mut d.addresses,
            || ok(Vec::new()),
            |v| ok(v.into_iter().map(Into::into).collect()),
        )?;
        patch(
            self.telephones,
            &mut d.telephones,
            || ok(Vec::new()),
            |v| ok(v.into_iter().map(Into::into).collect()),
        )?;
        patch(
            self.legal_documents,
            &mut d.legal_documents,
            || ok(Vec::new()),
            |v| ok(v.into_iter().map(Into::into).collect()),
        )?;
        patch(
            self.allowed_domains_origins,
            &mut d.allowed_domains_origins,
            || ok(Vec::new()),
            ok,
        )?;
        patch(
            self.allowed_domains_registration,
            &mut d.allowed_domains_registration,
            || ok(Vec::new()),
            ok,
        )?;
        patch(
            self.settings,
            &mut d.settings,
            || ok(Value::Object(Map::new())),
            |v| ok(v.0),
        )?;
        patch(
            self.metadata,
            &mut d.metadata,
            || ok(Value::Object(Map::new())),
            |v| ok(v.0),
        )?;
        Ok(())
    }
}
