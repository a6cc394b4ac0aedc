//! Rules for free text that people type: names and descriptions.

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
