//! Names and addresses on the web: host names, subdomain labels, origins
//! and URLs.

use url::Url;

/// Longest URL accepted.
pub const MAX_URL_LEN: usize = 2048;
/// Longest DNS label.
pub const MAX_LABEL_LEN: usize = 63;

/// Parses a fully qualified domain name with a public suffix (e.g.
/// `calls.example.com`), lower-cased, without a trailing dot.
pub fn parse_hostname(raw: &str) -> Result<String, String> {
    let name = raw.trim().trim_end_matches('.').to_ascii_lowercase();
    let invalid = || format!("`{}` is not a valid domain name", raw.trim());
    if name.is_empty() || name.len() > 253 || !name.contains('.') {
        return Err(invalid());
    }
    let all_labels_valid = name.split('.').all(|label| {
        !label.is_empty()
            && label.len() <= MAX_LABEL_LEN
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !label.starts_with('-')
            && !label.ends_with('-')
    });
    if !all_labels_valid {
        return Err(invalid());
    }
    let parsed = addr::parse_domain_name(&name).map_err(|_| invalid())?;
    if !parsed.has_known_suffix() {
        return Err(format!("`{name}` does not end in a known public suffix"));
    }
    Ok(name)
}

/// Parses one DNS label used as the customer's subdomain (`acme-corp`).
pub fn parse_subdomain(raw: &str) -> Result<String, String> {
    let label = raw.trim().to_ascii_lowercase();
    let valid = !label.is_empty()
        && label.len() <= MAX_LABEL_LEN
        && label
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !label.starts_with('-')
        && !label.ends_with('-');
    if valid {
        Ok(label)
    } else {
        Err(format!(
            "`{}` is not a valid subdomain: use 1–63 letters, digits and inner hyphens",
            raw.trim()
        ))
    }
}

/// Makes a DNS-safe label from free text (`Ação & Cia Ltda.` becomes
/// `acao-cia-ltda`), or `None` when nothing usable is left.
pub fn slugify(text: &str) -> Option<String> {
    let ascii = deunicode::deunicode(text).to_ascii_lowercase();
    let mut slug = String::with_capacity(ascii.len());
    for c in ascii.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    // Leave room for a collision suffix (`-` and 6 characters).
    slug.truncate(MAX_LABEL_LEN - 7);
    let slug = slug.trim_matches('-').to_owned();
    (!slug.is_empty()).then_some(slug)
}

/// Parses an absolute `http`/`https` URL.
pub fn parse_web_url(raw: &str) -> Result<String, String> {
    let text = raw.trim();
    if text.len() > MAX_URL_LEN {
        return Err(format!("must be at most {MAX_URL_LEN} characters long"));
    }
    let url = Url::parse(text).map_err(|_| format!("`{text}` is not a valid URL"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(format!("`{text}` must be an http or https URL"));
    }
    Ok(url.to_string())
}

/// Parses an allowed origin: a domain name, optionally with an `http` or
/// `https` scheme and a port (`https://app.example.com:8443`), but no path.
pub fn parse_origin(raw: &str) -> Result<String, String> {
    let text = raw.trim();
    let invalid =
        || format!("`{text}` is not a valid origin: use a domain, optionally with scheme and port");
    if text.contains("://") {
        let url = Url::parse(text).map_err(|_| invalid())?;
        if !matches!(url.scheme(), "http" | "https")
            || !matches!(url.path(), "" | "/")
            || url.query().is_some()
            || url.fragment().is_some()
            || !url.username().is_empty()
        {
            return Err(invalid());
        }
        let host = parse_hostname(url.host_str().ok_or_else(invalid)?).map_err(|_| invalid())?;
        return Ok(match url.port() {
            Some(port) => format!("{}://{host}:{port}", url.scheme()),
            None => format!("{}://{host}", url.scheme()),
        });
    }
    let (host, port) = match text.rsplit_once(':') {
        Some((host, port)) => (
            host,
            Some(
                port.parse::<u16>()
                    .ok()
                    .filter(|p| *p > 0)
                    .ok_or_else(invalid)?,
            ),
        ),
        None => (text, None),
    };
    let host = parse_hostname(host).map_err(|_| invalid())?;
    Ok(match port {
        Some(port) => format!("{host}:{port}"),
        None => host,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostnames_need_valid_labels_and_a_public_suffix() {
        assert_eq!(
            parse_hostname("Calls.Example.COM.").unwrap(),
            "calls.example.com"
        );
        assert_eq!(parse_hostname("acme.com.br").unwrap(), "acme.com.br");
        for bad in [
            "localhost",
            "example",
            "-bad.com",
            "bad-.com",
            "a..com",
            "exa mple.com",
            "x.notarealtld",
        ] {
            assert!(parse_hostname(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn subdomains_are_single_dns_labels() {
        assert_eq!(parse_subdomain("Acme-Corp").unwrap(), "acme-corp");
        for bad in ["", "-acme", "acme-", "ac.me", "ac_me", &"a".repeat(64)] {
            assert!(parse_subdomain(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn slugs_are_dns_safe() {
        assert_eq!(slugify("Ação & Cia Ltda.").unwrap(), "acao-cia-ltda");
        assert_eq!(slugify("  Ada   Lovelace ").unwrap(), "ada-lovelace");
        assert_eq!(slugify("!!!"), None);
        assert!(slugify(&"x".repeat(100)).unwrap().len() <= 56);
    }

    #[test]
    fn urls_must_be_http_or_https() {
        assert_eq!(
            parse_web_url("https://example.com").unwrap(),
            "https://example.com/"
        );
        for bad in [
            "ftp://example.com",
            "example.com",
            "javascript:alert(1)",
            "https://",
        ] {
            assert!(parse_web_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn origins_may_carry_scheme_and_port_but_no_path() {
        assert_eq!(parse_origin("app.example.com").unwrap(), "app.example.com");
        assert_eq!(
            parse_origin("app.example.com:8443").unwrap(),
            "app.example.com:8443"
        );
        assert_eq!(
            parse_origin("https://App.Example.com").unwrap(),
            "https://app.example.com"
        );
        assert_eq!(
            parse_origin("http://example.com:8080/").unwrap(),
            "http://example.com:8080"
        );
        for bad in [
            "https://example.com/path",
            "ftp://example.com",
            "example.com:0",
            "example.com:99999",
            "not a domain",
            "https://user@example.com",
        ] {
            assert!(parse_origin(bad).is_err(), "{bad}");
        }
    }
}
