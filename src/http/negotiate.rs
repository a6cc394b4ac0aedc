//! Content negotiation for GraphQL over HTTP.
//!
//! Responses are `application/graphql-response+json` when the client asks
//! for it (with at least the weight of `application/json`) and
//! `application/json` otherwise, including when there is no `Accept` header
//! or only wildcards. An `Accept` that allows neither is answered 406.

use http::HeaderMap;
use http::header::{ACCEPT, CONTENT_TYPE};

/// Media type of GraphQL responses per the GraphQL-over-HTTP spec.
pub const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";

/// The response media type chosen for a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `application/graphql-response+json`: status codes carry meaning.
    GraphqlResponseJson,
    /// `application/json`: 200 for every well-formed request.
    Json,
}

impl Format {
    /// The `Content-Type` header value for this format.
    pub const fn content_type(self) -> &'static str {
        match self {
            Self::GraphqlResponseJson => "application/graphql-response+json; charset=utf-8",
            Self::Json => "application/json; charset=utf-8",
        }
    }
}

/// One media range of an `Accept` header with its weight.
fn media_ranges(headers: &HeaderMap) -> Vec<(String, f32)> {
    headers
        .get_all(ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|range| {
            let mut parts = range.split(';');
            let media = parts.next()?.trim().to_ascii_lowercase();
            if media.is_empty() {
                return None;
            }
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            Some((media, q))
        })
        .collect()
}

fn weight(ranges: &[(String, f32)], accepts: impl Fn(&str) -> bool) -> f32 {
    ranges
        .iter()
        .filter(|(media, _)| accepts(media))
        .map(|(_, q)| *q)
        .fold(0.0, f32::max)
}

/// Picks the response format, or `None` when nothing acceptable is left.
pub fn negotiate(headers: &HeaderMap) -> Option<Format> {
    let ranges = media_ranges(headers);
    if ranges.is_empty() {
        return Some(Format::Json);
    }
    let graphql = weight(&ranges, |m| m == GRAPHQL_RESPONSE_JSON);
    let json = weight(&ranges, |m| {
        m == "application/json" || m == "application/*" || m == "*/*"
    });
    if graphql > 0.0 && graphql >= json {
        Some(Format::GraphqlResponseJson)
    } else if json > 0.0 {
        Some(Format::Json)
    } else {
        None
    }
}

/// Whether a browser is asking for a page: `text/html` is acceptable and
/// preferred to JSON.
pub fn wants_html(headers: &HeaderMap) -> bool {
    let ranges = media_ranges(headers);
    let html = weight(&ranges, |m| m == "text/html");
    let json = weight(&ranges, |m| {
        m == "application/json" || m == GRAPHQL_RESPONSE_JSON
    });
    html > 0.0 && html >= json
}

/// Whether the body is declared as JSON (`application/json`, UTF-8 if a
/// charset is named). Anything else is refused with 415, which also shuts
/// the door on form posts from other sites (CSRF).
pub fn is_json_body(headers: &HeaderMap) -> bool {
    let Some(value) = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let mut parts = value.split(';');
    let essence = parts.next().unwrap_or_default().trim();
    if !essence.eq_ignore_ascii_case("application/json") {
        return false;
    }
    parts.all(|param| match param.split_once('=') {
        Some((name, value)) if name.trim().eq_ignore_ascii_case("charset") => {
            value.trim().trim_matches('"').eq_ignore_ascii_case("utf-8")
        }
        _ => true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(name: http::HeaderName, value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(name, value.parse().unwrap());
        h
    }

    fn accept(value: &str) -> Option<Format> {
        negotiate(&headers(ACCEPT, value))
    }

    #[test]
    fn the_response_type_follows_accept() {
        assert_eq!(negotiate(&HeaderMap::new()), Some(Format::Json));
        assert_eq!(accept("application/json"), Some(Format::Json));
        assert_eq!(accept("*/*"), Some(Format::Json));
        assert_eq!(
            accept(GRAPHQL_RESPONSE_JSON),
            Some(Format::GraphqlResponseJson)
        );
        assert_eq!(
            accept("application/graphql-response+json, application/json;q=0.9"),
            Some(Format::GraphqlResponseJson)
        );
        assert_eq!(
            accept("application/graphql-response+json;q=0.5, application/json"),
            Some(Format::Json)
        );
        assert_eq!(accept("text/xml"), None);
        assert_eq!(accept("application/json;q=0"), None);
    }

    #[test]
    fn browsers_get_html_and_api_clients_do_not() {
        let browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
        assert!(wants_html(&headers(ACCEPT, browser)));
        assert!(!wants_html(&headers(ACCEPT, "application/json")));
        assert!(!wants_html(&HeaderMap::new()));
    }

    #[test]
    fn only_json_bodies_are_accepted() {
        assert!(is_json_body(&headers(CONTENT_TYPE, "application/json")));
        assert!(is_json_body(&headers(
            CONTENT_TYPE,
            "application/json; charset=UTF-8"
        )));
        assert!(!is_json_body(&headers(
            CONTENT_TYPE,
            "application/json; charset=latin1"
        )));
        assert!(!is_json_body(&headers(CONTENT_TYPE, "text/plain")));
        assert!(!is_json_body(&headers(
            CONTENT_TYPE,
            "application/x-www-form-urlencoded"
        )));
        assert!(!is_json_body(&HeaderMap::new()));
    }
}
