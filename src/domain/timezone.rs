//! IANA time-zone names, checked against the tz database that `chrono-tz`
//! compiles in, so a typo (`America/Los_Angles`) is refused at the edge.

/// Longest accepted zone name; the longest real one is about 32 bytes.
const MAX_ZONE_LEN: usize = 64;

/// Parses an IANA zone name (`America/Los_Angeles`, `UTC`) and returns its
/// canonical spelling.
pub fn parse_timezone(raw: &str) -> Result<String, String> {
    let name = raw.trim();
    if name.is_empty() || name.len() > MAX_ZONE_LEN {
        return Err("must be an IANA time zone such as `America/Los_Angeles`".into());
    }
    name.parse::<chrono_tz::Tz>()
        .map(|tz| tz.name().to_owned())
        .map_err(|_| format!("`{name}` is not an IANA time zone"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_zones_parse_and_made_up_ones_do_not() {
        assert_eq!(
            parse_timezone(" America/Los_Angeles ").unwrap(),
            "America/Los_Angeles"
        );
        assert_eq!(parse_timezone("UTC").unwrap(), "UTC");
        for bad in ["America/Los_Angles", "PST8", "", "Mars/Olympus"] {
            assert!(parse_timezone(bad).is_err(), "{bad}");
        }
    }
}
