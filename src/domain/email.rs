//! Email addresses.

use std::str::FromStr;

/// Longest accepted address (RFC 5321 path limit).
pub const MAX_EMAIL_LEN: usize = 254;

/// Parses an email address (RFC 5322 addr-spec, as `email_address` checks
/// it), trimmed. Uniqueness elsewhere compares it case-insensitively.
pub fn parse_email(raw: &str) -> Result<String, String> {
    let email = raw.trim();
    if email.len() > MAX_EMAIL_LEN {
        return Err(format!("must be at most {MAX_EMAIL_LEN} characters long"));
    }
    let parsed = email_address::EmailAddress::from_str(email)
        .map_err(|_| format!("`{email}` is not a valid email address"))?;
    // A bare `user@localhost` is valid RFC 5322 but never a customer's address.
    if !parsed.domain().contains('.') {
        return Err(format!("`{email}` is not a valid email address"));
    }
    Ok(email.to_owned())
}

/// Whether `a` and `b` are the same address as uniqueness compares them
/// (trimmed, case-insensitive).
pub fn same_address(a: &str, b: &str) -> bool {
    a.trim().to_lowercase() == b.trim().to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_checked() {
        assert_eq!(parse_email(" Ada@Example.com ").unwrap(), "Ada@Example.com");
        for bad in [
            "",
            "ada",
            "ada@",
            "@example.com",
            "ada@localhost",
            "a b@example.com",
        ] {
            assert!(parse_email(bad).is_err(), "{bad}");
        }
    }
}
