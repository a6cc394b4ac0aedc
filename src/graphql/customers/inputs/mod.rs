//! What clients send to create, patch and filter customers, and how it
//! becomes domain drafts and filters.
use async_graphql::{ID, InputObject, MaybeUndefined};
use serde_json::{Map, Value};

use super::types::{AddressType, LegalDocumentType, TelephoneType};
use crate::domain::InvalidInput;
use crate::domain::customer::{self as model};
use crate::domain::legal_document::LegalDocumentDraft;
use crate::graphql::scalars::{Decimal, Json};

mod create;
mod filter;
mod update;

pub use create::CreateCustomerInput;
pub use filter::CustomerFilterInput;
pub use update::UpdateCustomerInput;

/// An address.
#[derive(InputObject, Clone)]
pub struct AddressInput {
    /// Postal or billing.
    address_type: AddressType,
    /// The default address of its type (at most one per type).
    #[graphql(default = false)]
    default: bool,
    /// ISO 3166-1 alpha-2 country.
    country: String,
    /// State or province.
    state: Option<String>,
    /// Postal code.
    postal_code: Option<String>,
    /// City.
    city: Option<String>,
    /// First line.
    address_line1: Option<String>,
    /// Second line.
    address_line2: Option<String>,
    /// PO box.
    po_box: Option<String>,
    /// Building number.
    building_number: Option<String>,
    /// Complement (apartment, suite).
    complement: Option<String>,
}

impl From<AddressInput> for model::Address {
    fn from(a: AddressInput) -> Self {
        Self {
            address_type: Some(a.address_type.into()),
            default: a.default,
            country: a.country,
            state: a.state,
            postal_code: a.postal_code,
            city: a.city,
            address_line1: a.address_line1,
            address_line2: a.address_line2,
            po_box: a.po_box,
            building_number: a.building_number,
            complement: a.complement,
        }
    }
}

/// A telephone.
#[derive(InputObject, Clone)]
pub struct TelephoneInput {
    /// Landline or mobile.
    telephone_type: TelephoneType,
    /// The default telephone of its type (at most one per type).
    #[graphql(default = false)]
    default: bool,
    /// Number in international form, e.g. `+1 415 555 1234`; stored as E.164.
    number: String,
    /// Extension digits.
    extension: Option<String>,
}

impl From<TelephoneInput> for model::Telephone {
    fn from(t: TelephoneInput) -> Self {
        Self {
            telephone_type: Some(t.telephone_type.into()),
            default: t.default,
            number: t.number,
            extension: t.extension,
        }
    }
}

/// A legal document.
#[derive(InputObject, Clone)]
pub struct LegalDocumentInput {
    /// Kind of document.
    #[graphql(name = "type")]
    document_type: LegalDocumentType,
    /// Issuing country (ISO 3166-1 alpha-2).
    country: String,
    /// The number or reference, in the kind's format.
    value: String,
    /// Issue date, `YYYY-MM-DD`.
    issued_date: Option<String>,
}

impl From<LegalDocumentInput> for LegalDocumentDraft {
    fn from(d: LegalDocumentInput) -> Self {
        Self {
            document_type: Some(d.document_type.into()),
            country: d.country,
            value: d.value,
            issued_date: d.issued_date,
        }
    }
}

fn zero() -> Decimal {
    Decimal::exact(rust_decimal::Decimal::ZERO)
}

fn empty_object() -> Json {
    Json(Value::Object(Map::new()))
}

fn role_id(id: Option<&ID>, field: &str) -> Result<Option<uuid::Uuid>, InvalidInput> {
    id.map(|id| {
        uuid::Uuid::parse_str(id.as_str())
            .map_err(|_| InvalidInput::new(field, "is not a valid id"))
    })
    .transpose()
}

pub(super) fn amount(value: &Decimal, field: &str) -> Result<rust_decimal::Decimal, InvalidInput> {
    value
        .at(field)
        .map_err(|e| InvalidInput::new(field, e.message))
}

/// Applies one patch field: unchanged when omitted; `null` handled by
/// `on_null`; a value converted by `set`.
pub(super) fn patch<T, U>(
    value: MaybeUndefined<T>,
    target: &mut U,
    on_null: impl FnOnce() -> Result<U, InvalidInput>,
    set: impl FnOnce(T) -> Result<U, InvalidInput>,
) -> Result<(), InvalidInput> {
    match value {
        MaybeUndefined::Undefined => {}
        MaybeUndefined::Null => *target = on_null()?,
        MaybeUndefined::Value(v) => *target = set(v)?,
    }
    Ok(())
}

fn not_null<U>(field: &'static str) -> impl FnOnce() -> Result<U, InvalidInput> {
    move || {
        Err(InvalidInput::new(
            field,
            "cannot be null; omit it to leave it unchanged",
        ))
    }
}

fn clear<U>() -> impl FnOnce() -> Result<Option<U>, InvalidInput> {
    || Ok(None)
}

#[expect(
    clippy::unnecessary_wraps,
    reason = "the infallible setter passed where patch expects a fallible one"
)]
fn ok<T>(v: T) -> Result<T, InvalidInput> {
    Ok(v)
}
