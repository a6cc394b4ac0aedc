//! BCP 47 language tags.

use language_tags::LanguageTag;

/// Parses and validates a BCP 47 tag such as `pt-BR`, returning its
/// canonical form.
pub fn parse_language(raw: &str) -> Result<String, String> {
    let tag = LanguageTag::parse(raw.trim())
        .map_err(|_| format!("`{}` is not a BCP 47 language tag", raw.trim()))?;
    tag.validate()
        .map_err(|_| format!("`{}` is not a valid BCP 47 language tag", raw.trim()))?;
    Ok(tag
        .canonicalize()
        .map_or_else(|_| tag.to_string(), |t| t.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_checked() {
        assert_eq!(parse_language("pt-BR").unwrap(), "pt-BR");
        assert_eq!(parse_language("en").unwrap(), "en");
        for bad in ["", "english!", "en-", "xx-XX-1"] {
            assert!(parse_language(bad).is_err(), "{bad}");
        }
    }
}
