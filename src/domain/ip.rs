//! IP allow-list entries: single IPv4/IPv6 addresses or CIDR blocks,
//! parsed by `ipnet` and kept in one canonical spelling so duplicates are
//! recognisable.

use std::net::IpAddr;

use ipnet::IpNet;

/// Parses an address (`203.0.113.7`, `2001:db8::1`) or a CIDR block
/// (`203.0.113.0/24`) and returns its canonical form: a block is reduced to
/// its network address (`10.1.2.3/8` becomes `10.0.0.0/8`), a block of
/// one host is written as the bare address, IPv6 in RFC 5952 form.
pub fn parse_ip_rule(raw: &str) -> Result<String, String> {
    let text = raw.trim();
    if text.len() > 64 {
        return Err("is not an IP address or CIDR block".into());
    }
    let net = if text.contains('/') {
        text.parse::<IpNet>()
            .map_err(|_| format!("`{text}` is not an IP address or CIDR block"))?
            .trunc()
    } else {
        IpNet::from(
            text.parse::<IpAddr>()
                .map_err(|_| format!("`{text}` is not an IP address or CIDR block"))?,
        )
    };
    Ok(if net.prefix_len() == net.max_prefix_len() {
        net.addr().to_string()
    } else {
        net.to_string()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_are_normalised() {
        assert_eq!(parse_ip_rule(" 203.0.113.7 ").unwrap(), "203.0.113.7");
        assert_eq!(parse_ip_rule("203.0.113.7/32").unwrap(), "203.0.113.7");
        assert_eq!(parse_ip_rule("10.1.2.3/8").unwrap(), "10.0.0.0/8");
        assert_eq!(parse_ip_rule("2001:DB8:0:0::1").unwrap(), "2001:db8::1");
        assert_eq!(parse_ip_rule("2001:db8::/32").unwrap(), "2001:db8::/32");
        for bad in ["", "300.1.1.1", "10.0.0.0/33", "example.com", "1.2.3"] {
            assert!(parse_ip_rule(bad).is_err(), "{bad}");
        }
    }
}
