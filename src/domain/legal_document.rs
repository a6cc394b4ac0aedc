//! Legal documents: tax identifiers and other documents that identify a
//! customer as a legal entity. Only the format is checked, as the profile
//! guide says: a well-formed number is no proof of identity.

use std::sync::LazyLock;

use chrono::NaiveDate;
use regex::Regex;
use serde::{Deserialize, Serialize};

use super::InvalidInput;
use super::country::parse_country;
use super::error::AtField;

/// Longest value of an `OTHER` document (a contract number, say).
pub const MAX_OTHER_VALUE_LEN: usize = 200;

/// The kinds of document whose format is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum LegalDocumentType {
    /// A European Union VAT number, e.g. `ATU12345678`.
    EuVat,
    /// A Brazilian individual taxpayer number, e.g. `123.456.789-87`.
    BrCpf,
    /// A Brazilian company taxpayer number, e.g. `01.234.456/5432-10`.
    BrCnpj,
    /// Any other document; the value is free text.
    Other,
}

/// A validated legal document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LegalDocument {
    /// What kind of document this is.
    #[serde(rename = "type")]
    pub document_type: LegalDocumentType,
    /// Country that issued it (ISO 3166-1 alpha-2).
    pub country: String,
    /// The number or reference, normalised.
    pub value: String,
    /// When it was issued, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issued_date: Option<NaiveDate>,
}

/// A legal document as a client sends it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LegalDocumentDraft {
    /// Kind of document.
    pub document_type: Option<LegalDocumentType>,
    /// Issuing country code.
    pub country: String,
    /// Number or reference.
    pub value: String,
    /// Issue date as `YYYY-MM-DD`.
    pub issued_date: Option<String>,
}

impl From<&LegalDocument> for LegalDocumentDraft {
    fn from(doc: &LegalDocument) -> Self {
        Self {
            document_type: Some(doc.document_type),
            country: doc.country.clone(),
            value: doc.value.clone(),
            issued_date: doc.issued_date.map(|d| d.to_string()),
        }
    }
}

/// EU VAT number formats by VAT prefix (`EL` is Greece, `XI` Northern
/// Ireland), from the European Commission's VIES documentation.
static EU_VAT: LazyLock<Vec<(&str, &str, Regex)>> = LazyLock::new(|| {
    [
        ("AT", "AT", r"^ATU\d{8}$"),
        ("BE", "BE", r"^BE[01]\d{9}$"),
        ("BG", "BG", r"^BG\d{9,10}$"),
        ("CY", "CY", r"^CY\d{8}[A-Z]$"),
        ("CZ", "CZ", r"^CZ\d{8,10}$"),
        ("DE", "DE", r"^DE\d{9}$"),
        ("DK", "DK", r"^DK\d{8}$"),
        ("EE", "EE", r"^EE\d{9}$"),
        ("EL", "GR", r"^EL\d{9}$"),
        ("ES", "ES", r"^ES[A-Z0-9]\d{7}[A-Z0-9]$"),
        ("FI", "FI", r"^FI\d{8}$"),
        ("FR", "FR", r"^FR[A-HJ-NP-Z0-9]{2}\d{9}$"),
        ("HR", "HR", r"^HR\d{11}$"),
        ("HU", "HU", r"^HU\d{8}$"),
        ("IE", "IE", r"^IE\d[A-Z0-9+*]\d{5}[A-Z]{1,2}$"),
        ("IT", "IT", r"^IT\d{11}$"),
        ("LT", "LT", r"^LT(\d{9}|\d{12})$"),
        ("LU", "LU", r"^LU\d{8}$"),
        ("LV", "LV", r"^LV\d{11}$"),
        ("MT", "MT", r"^MT\d{8}$"),
        ("NL", "NL", r"^NL\d{9}B\d{2}$"),
        ("PL", "PL", r"^PL\d{10}$"),
        ("PT", "PT", r"^PT\d{9}$"),
        ("RO", "RO", r"^RO\d{2,10}$"),
        ("SE", "SE", r"^SE\d{12}$"),
        ("SI", "SI", r"^SI\d{8}$"),
        ("SK", "SK", r"^SK\d{10}$"),
        ("XI", "GB", r"^XI(\d{9}|\d{12}|GD\d{3}|HA\d{3})$"),
    ]
    .into_iter()
    .map(|(prefix, country, pattern)| {
        (prefix, country, Regex::new(pattern).expect("valid pattern"))
    })
    .collect()
});

static CPF: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(\d{3}\.\d{3}\.\d{3}-\d{2}|\d{11})$").expect("valid pattern"));
static CNPJ: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(\d{2}\.\d{3}\.\d{3}/\d{4}-\d{2}|\d{14})$").expect("valid pattern")
});

impl LegalDocument {
    /// Validates a draft; field names are relative to the document.
    pub fn parse(draft: &LegalDocumentDraft) -> Result<Self, InvalidInput> {
        let document_type = draft
            .document_type
            .ok_or_else(|| InvalidInput::new("type", "is required"))?;
        let country = parse_country(&draft.country).at_field("country")?;
        let value = match document_type {
            LegalDocumentType::EuVat => {
                let value: String = draft
                    .value
                    .chars()
                    .filter(|c| !c.is_whitespace())
                    .collect::<String>()
                    .to_ascii_uppercase();
                let (_, vat_country, _) = EU_VAT
                    .iter()
                    .find(|(prefix, _, re)| value.starts_with(prefix) && re.is_match(&value))
                    .ok_or_else(|| {
                        InvalidInput::new(
                            "value",
                            format!(
                                "`{}` is not an EU VAT number (e.g. ATU12345678)",
                                draft.value.trim()
                            ),
                        )
                    })?;
                if *vat_country != country {
                    return Err(InvalidInput::new(
                        "country",
                        format!(
                            "a VAT number starting `{}` is issued by {vat_country}, not {country}",
                            &value[..2]
                        ),
                    ));
                }
                value
            }
            LegalDocumentType::BrCpf | LegalDocumentType::BrCnpj => {
                let (re, example) = if document_type == LegalDocumentType::BrCpf {
                    (&*CPF, "123.456.789-87")
                } else {
                    (&*CNPJ, "01.234.456/5432-10")
                };
                let value = draft.value.trim().to_owned();
                if !re.is_match(&value) {
                    return Err(InvalidInput::new(
                        "value",
                        format!("`{value}` is not in the expected format (e.g. {example})"),
                    ));
                }
                if country != "BR" {
                    return Err(InvalidInput::new(
                        "country",
                        "Brazilian documents are issued by BR",
                    ));
                }
                value
            }
            LegalDocumentType::Other => {
                super::text::clean_text(&draft.value, 1, MAX_OTHER_VALUE_LEN).at_field("value")?
            }
        };
        let issued_date = draft
            .issued_date
            .as_deref()
            .map(|raw| {
                NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d")
                    .map_err(|_| format!("`{}` is not a date in YYYY-MM-DD form", raw.trim()))
            })
            .transpose()
            .at_field("issuedDate")?;
        Ok(Self {
            document_type,
            country,
            value,
            issued_date,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(
        t: LegalDocumentType,
        country: &str,
        value: &str,
    ) -> Result<LegalDocument, InvalidInput> {
        LegalDocument::parse(&LegalDocumentDraft {
            document_type: Some(t),
            country: country.into(),
            value: value.into(),
            issued_date: Some("2020-02-29".into()),
        })
    }

    #[test]
    fn the_guides_examples_are_accepted() {
        assert_eq!(
            doc(LegalDocumentType::EuVat, "AT", "ATU12345678")
                .unwrap()
                .value,
            "ATU12345678"
        );
        assert_eq!(
            doc(LegalDocumentType::EuVat, "BE", "be 0123456789")
                .unwrap()
                .value,
            "BE0123456789"
        );
        assert!(doc(LegalDocumentType::EuVat, "BG", "BG123456789").is_ok());
        assert!(doc(LegalDocumentType::EuVat, "GR", "EL123456789").is_ok());
        assert!(doc(LegalDocumentType::BrCpf, "BR", "123.456.789-87").is_ok());
        assert!(doc(LegalDocumentType::BrCnpj, "BR", "01.234.456/5432-10").is_ok());
        assert!(doc(LegalDocumentType::Other, "US", "Contract #42").is_ok());
    }

    #[test]
    fn malformed_values_name_the_value_field() {
        for (t, country, value) in [
            (LegalDocumentType::EuVat, "AT", "AT12345678"),
            (LegalDocumentType::EuVat, "AT", "US123"),
            (LegalDocumentType::BrCpf, "BR", "123.456.789-8"),
            (LegalDocumentType::BrCpf, "BR", "123456789-87"),
            (LegalDocumentType::BrCnpj, "BR", "01.234.456/5432-1"),
            (LegalDocumentType::Other, "US", "  "),
        ] {
            assert_eq!(
                doc(t, country, value).unwrap_err().field,
                "value",
                "{value}"
            );
        }
    }

    #[test]
    fn the_issuing_country_must_match_the_document() {
        assert_eq!(
            doc(LegalDocumentType::EuVat, "DE", "ATU12345678")
                .unwrap_err()
                .field,
            "country"
        );
        assert_eq!(
            doc(LegalDocumentType::BrCpf, "PT", "123.456.789-87")
                .unwrap_err()
                .field,
            "country"
        );
        assert_eq!(
            doc(LegalDocumentType::Other, "ZZ", "x").unwrap_err().field,
            "country"
        );
    }

    #[test]
    fn dates_must_be_real() {
        let mut draft = LegalDocumentDraft {
            document_type: Some(LegalDocumentType::Other),
            country: "US".into(),
            value: "x".into(),
            issued_date: Some("2021-02-30".into()),
        };
        assert_eq!(
            LegalDocument::parse(&draft).unwrap_err().field,
            "issuedDate"
        );
        draft.issued_date = None;
        assert!(LegalDocument::parse(&draft).is_ok());
    }
}
