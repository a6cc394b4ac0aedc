//! Custom scalars: `Decimal` (exact, as a string) and `DateTime` (RFC 3339,
//! UTC). Parse failures name what was wrong without echoing library text.

use std::str::FromStr;

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};
use chrono::{SecondsFormat, Utc};

use super::error::ApiError;

/// An exact decimal number, serialised as a string such as `"0.4500"` so no
/// client parses money through a float. Accepts a string or a JSON number.
///
/// Text that is not a number is kept, not refused, when the input is parsed:
/// async-graphql would report such a failure without saying which input
/// field it came from, so the resolver checks it with [`Decimal::at`] and
/// names the field (`input.ratePerMinute`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decimal(Repr);

#[derive(Debug, Clone, PartialEq, Eq)]
enum Repr {
    Exact(rust_decimal::Decimal),
    NotANumber(String),
}

impl Decimal {
    /// An exact value, for output.
    pub fn exact(value: rust_decimal::Decimal) -> Self {
        Self(Repr::Exact(value))
    }

    /// The value, or `BAD_USER_INPUT` at `field` when the client's text was
    /// not a number.
    pub fn at(&self, field: &str) -> Result<rust_decimal::Decimal, ApiError> {
        match &self.0 {
            Repr::Exact(value) => Ok(*value),
            Repr::NotANumber(text) => Err(ApiError::bad_input(
                field,
                format!("`{text}` is not a decimal number"),
            )),
        }
    }
}

#[Scalar(name = "Decimal")]
/// An exact decimal number as a string, e.g. `"0.4500"`. Input also
/// accepts a JSON number, but a string avoids float rounding in the client.
impl ScalarType for Decimal {
    fn parse(value: Value) -> InputValueResult<Self> {
        let text = match &value {
            Value::String(s) => s.trim().to_owned(),
            Value::Number(n) => n.to_string(),
            _ => {
                return Err(InputValueError::custom(
                    "expected a decimal number as a string",
                ));
            }
        };
        Ok(rust_decimal::Decimal::from_str(&text)
            .or_else(|_| rust_decimal::Decimal::from_scientific(&text))
            .map_or(Self(Repr::NotANumber(text)), Self::exact))
    }

    fn to_value(&self) -> Value {
        match &self.0 {
            Repr::Exact(value) => Value::String(value.to_string()),
            Repr::NotANumber(text) => Value::String(text.clone()),
        }
    }
}

/// A point in time, RFC 3339 in UTC with milliseconds, e.g.
/// `"2026-11-23T08:51:00.552Z"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateTime(pub chrono::DateTime<Utc>);

#[Scalar(name = "DateTime")]
/// A point in time as an RFC 3339 string in UTC, e.g. `"2026-11-23T08:51:00.552Z"`.
impl ScalarType for DateTime {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(s) => chrono::DateTime::parse_from_rfc3339(s)
                .map(|t| Self(t.with_timezone(&Utc)))
                .map_err(|_| {
                    InputValueError::custom(format!("`{s}` is not an RFC 3339 date-time"))
                }),
            _ => Err(InputValueError::custom(
                "expected an RFC 3339 date-time string",
            )),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.to_rfc3339_opts(SecondsFormat::Millis, true))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_round_trip_as_strings_keeping_their_scale() {
        let d = <Decimal as ScalarType>::parse(Value::String("0.4500".into())).unwrap();
        assert_eq!(d.to_value(), Value::String("0.4500".into()));
    }

    #[test]
    fn decimals_accept_json_numbers_and_defer_garbage_to_the_field_check() {
        let n = serde_json::from_str::<Value>("0.45").unwrap();
        let parsed = <Decimal as ScalarType>::parse(n).unwrap();
        assert_eq!(parsed.at("x").unwrap().to_string(), "0.45");
        let garbage = <Decimal as ScalarType>::parse(Value::String("abc".into())).unwrap();
        let err = garbage.at("input.rate").unwrap_err();
        assert_eq!(err.field.as_deref(), Some("input.rate"));
        assert!(<Decimal as ScalarType>::parse(Value::Boolean(true)).is_err());
    }

    #[test]
    fn date_times_are_utc_with_a_z() {
        let t = <DateTime as ScalarType>::parse(Value::String("2026-01-02T03:04:05+01:00".into()))
            .unwrap();
        assert_eq!(
            t.to_value(),
            Value::String("2026-01-02T02:04:05.000Z".into())
        );
    }
}

/// Free-form JSON, an object in responses (never a string). Input accepts
/// any JSON value; the field's own rule (e.g. metadata limits) decides,
/// so its errors can name the field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Json(pub serde_json::Value);

#[Scalar(name = "JSON")]
/// Free-form JSON; objects are returned as objects, not strings.
impl ScalarType for Json {
    fn parse(value: Value) -> InputValueResult<Self> {
        value
            .into_json()
            .map(Self)
            .map_err(|_| InputValueError::custom("not representable as JSON"))
    }

    fn to_value(&self) -> Value {
        Value::from_json(self.0.clone()).unwrap_or(Value::Null)
    }
}
