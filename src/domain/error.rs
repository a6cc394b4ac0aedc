//! The one error the domain raises: a value that breaks a rule.
//!
//! It names the offending field relative to the value being validated
//! (`currency`, `ratePerMinute`); the edge prefixes the path it came from
//! (`input.currency`) with [`InvalidInput::within`], so clients always learn
//! exactly which field to fix.

use std::fmt;

/// A client-supplied value that breaks a domain rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct InvalidInput {
    /// Path of the offending field, in API (camelCase) spelling.
    pub field: String,
    /// Human-readable explanation of the rule that was broken.
    pub message: String,
}

impl InvalidInput {
    /// A rule broken by the value at `field`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }

    /// Prefixes the field path, e.g. `currency` within `input` becomes
    /// `input.currency`.
    #[must_use]
    pub fn within(mut self, parent: &str) -> Self {
        self.field = if self.field.is_empty() {
            parent.to_owned()
        } else {
            format!("{parent}.{}", self.field)
        };
        self
    }
}

impl fmt::Display for InvalidInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// Attaches a field name to the bare message a newtype constructor returns.
pub trait AtField<T> {
    /// Names the field whose value failed to parse.
    fn at_field(self, field: &str) -> Result<T, InvalidInput>;
}

impl<T> AtField<T> for Result<T, String> {
    fn at_field(self, field: &str) -> Result<T, InvalidInput> {
        self.map_err(|message| InvalidInput::new(field, message))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn within_builds_a_dotted_path() {
        let err = InvalidInput::new("currency", "bad").within("input");
        assert_eq!(err.field, "input.currency");
        assert_eq!(InvalidInput::new("", "bad").within("id").field, "id");
    }
}
