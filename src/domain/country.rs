//! ISO 3166-1 alpha-2 country codes, checked against the real list.

/// Parses a two-letter country code (`us` is normalised to `US`).
pub fn parse_country(raw: &str) -> Result<String, String> {
    let code = raw.trim().to_ascii_uppercase();
    if code.len() != 2 || !code.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(format!(
            "`{}` is not a two-letter ISO 3166-1 country code",
            raw.trim()
        ));
    }
    celes::Country::from_alpha2(&code)
        .map(|_| code.clone())
        .map_err(|_| format!("`{code}` is not an ISO 3166-1 country code"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_countries_parse_and_made_up_ones_do_not() {
        assert_eq!(parse_country("br").unwrap(), "BR");
        assert_eq!(parse_country(" AT ").unwrap(), "AT");
        for bad in ["XX", "USA", "U", "", "1A"] {
            assert!(parse_country(bad).is_err(), "{bad}");
        }
    }
}
