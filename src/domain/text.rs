//! Rules for free text that people type: names and descriptions.

use super::InvalidInput;
use super::error::AtField;

/// Trims `raw` and checks it holds between `min` and `max` characters and no
/// control characters (which break logs, CSV exports and terminals).
pub fn clean_text(raw: &str, min: usize, max: usize) -> Result<String, String> {
    let text = raw.trim();
    let length = text.chars().count();
    if length < min {
        return Err(if min == 1 {
            "must not be blank".to_owned()
        } else {
            format!("must be at least {min} characters long")
        });
    }
    if length > max {
        return Err(format!("must be at most {max} characters long"));
    }
    if text.chars().any(char::is_control) {
        return Err("must not contain control characters".to_owned());
    }
    Ok(text.to_owned())
}

/// An optional free-text field: trimmed and bounded like [`clean_text`],
/// with blank meaning absent, and any error reported at `field`.
pub fn optional_text(
    raw: Option<String>,
    max: usize,
    field: &str,
) -> Result<Option<String>, InvalidInput> {
    raw.map(|r| clean_text(&r, 0, max))
        .transpose()
        .at_field(field)
        .map(|t| t.filter(|t| !t.is_empty()))
}

/// An optional field with its own `parse` rule: blank (or only white
/// space) means absent, anything else must parse; errors at `field`.
pub fn optional<T>(
    raw: Option<String>,
    parse: impl Fn(&str) -> Result<T, String>,
    field: &str,
) -> Result<Option<T>, InvalidInput> {
    raw.filter(|r| !r.trim().is_empty())
        .map(|r| parse(&r))
        .transpose()
        .at_field(field)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_trimmed_and_bounded() {
        assert_eq!(clean_text("  Gold  ", 1, 10).unwrap(), "Gold");
        assert!(clean_text("   ", 1, 10).is_err());
        assert!(clean_text("abcdefghijk", 1, 10).is_err());
        assert!(clean_text("a\u{0}b", 1, 10).is_err());
        assert_eq!(clean_text("ééééé", 1, 5).unwrap(), "ééééé");
    }
}
