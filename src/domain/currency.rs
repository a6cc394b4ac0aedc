//! ISO 4217 currency codes, checked against the real list.

use std::fmt;
use std::str::FromStr;

/// An active ISO 4217 currency, such as `USD` or `INR`.
///
/// Only constructible through [`CurrencyCode::parse`], so every price in the
/// system names a currency that exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CurrencyCode(iso_currency::Currency);

impl CurrencyCode {
    /// Parses a three-letter code; lower case is accepted and normalised.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let code = raw.trim().to_ascii_uppercase();
        if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(format!(
                "`{}` is not a three-letter ISO 4217 currency code",
                raw.trim()
            ));
        }
        iso_currency::Currency::from_str(&code)
            .map(Self)
            .map_err(|_| format!("`{code}` is not an ISO 4217 currency code"))
    }

    /// The three-letter code, e.g. `EUR`.
    pub fn code(self) -> &'static str {
        self.0.code()
    }
}

impl fmt::Display for CurrencyCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_codes_parse_and_normalise() {
        assert_eq!(CurrencyCode::parse("USD").unwrap().code(), "USD");
        assert_eq!(CurrencyCode::parse(" inr ").unwrap().code(), "INR");
    }

    #[test]
    fn made_up_and_malformed_codes_are_rejected() {
        for bad in ["XYZ", "US", "USDD", "", "U$D", "€"] {
            assert!(CurrencyCode::parse(bad).is_err(), "{bad} accepted");
        }
    }
}
