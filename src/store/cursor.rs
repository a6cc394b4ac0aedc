//! Opaque pagination cursors.
//!
//! A cursor is the sort position of an item (the index sort key and the
//! item id), base64url-encoded with a version tag. The store rebuilds the
//! `ExclusiveStartKey` from it and always supplies the partition itself, so
//! a forged cursor can at most move the start within the list it names.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::StoreError;

const VERSION: &str = "v1";
/// Longest position component accepted back from a client: DynamoDB's own
/// limit for a sort key value, so any position the store can hold (and so
/// any cursor it emits) parses back.
const MAX_PART_LEN: usize = 1024;

/// Encodes the position parts of one item.
pub fn encode(parts: &[&str]) -> String {
    let mut value = vec![VERSION];
    value.extend_from_slice(parts);
    let json = serde_json::to_vec(&value).unwrap_or_default();
    URL_SAFE_NO_PAD.encode(json)
}

/// Decodes a cursor that must hold exactly `count` position parts.
pub fn decode(cursor: &str, count: usize) -> Result<Vec<String>, StoreError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(cursor.trim())
        .map_err(|_| StoreError::InvalidCursor)?;
    let mut parts: Vec<String> =
        serde_json::from_slice(&bytes).map_err(|_| StoreError::InvalidCursor)?;
    if parts.len() != count + 1
        || parts[0] != VERSION
        || parts.iter().any(|p| p.is_empty() || p.len() > MAX_PART_LEN)
    {
        return Err(StoreError::InvalidCursor);
    }
    parts.remove(0);
    Ok(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip() {
        let c = encode(&["gold", "0190-abc"]);
        assert_eq!(decode(&c, 2).unwrap(), vec!["gold", "0190-abc"]);
    }

    #[test]
    fn foreign_or_damaged_cursors_are_rejected() {
        let c = encode(&["gold", "x"]);
        assert!(decode(&c, 1).is_err());
        assert!(decode("not base64 !", 2).is_err());
        assert!(decode(&URL_SAFE_NO_PAD.encode("[\"v0\",\"a\",\"b\"]"), 2).is_err());
        assert!(decode(&URL_SAFE_NO_PAD.encode("{}"), 2).is_err());
    }
}
