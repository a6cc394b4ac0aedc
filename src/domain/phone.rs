//! Telephone numbers in E.164.

use phonenumber::Mode;

/// Parses a number written in international form (`+1 415 555 1234`) and
/// returns it in E.164 (`+14155551234`). The number must be valid for its
/// country's numbering plan.
pub fn parse_e164(raw: &str) -> Result<String, String> {
    let text = raw.trim();
    if !text.starts_with('+') {
        return Err(format!(
            "`{text}` must be in international format, starting with + and the country code"
        ));
    }
    let number = phonenumber::parse(None, text)
        .map_err(|_| format!("`{text}` is not a telephone number"))?;
    if !phonenumber::is_valid(&number) {
        return Err(format!("`{text}` is not a valid telephone number"));
    }
    Ok(number.format().mode(Mode::E164).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_normalised_to_e164() {
        assert_eq!(parse_e164("+1 415 555 1234").unwrap(), "+14155551234");
        assert_eq!(parse_e164("+55 11 98765-4321").unwrap(), "+5511987654321");
        for bad in ["4155551234", "+1 555", "+999 1234567", "phone", ""] {
            assert!(parse_e164(bad).is_err(), "{bad}");
        }
    }
}
