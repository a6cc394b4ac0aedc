//! Folding text for search: customers are found by prefixes of their
//! names, emails and identifiers in this form.

/// Longest search term, in bytes after folding. Folding can multiply the
/// length (`ﷺ` alone becomes 29 letters), and a term is part of a DynamoDB
/// sort key (at most 1,024 bytes) and of a list cursor; a prefix this long
/// identifies a customer anyway.
pub const MAX_SEARCH_TERM_BYTES: usize = 200;

/// The form text is compared in for search: ASCII-folded, lower case,
/// spaces collapsed (`José  Ñúñez` becomes `jose nunez`), cut to
/// [`MAX_SEARCH_TERM_BYTES`]. Terms and the prefixes searched for are cut
/// alike, so a long prefix still finds its customer.
pub fn search_key(text: &str) -> String {
    let mut key = deunicode::deunicode(text)
        .to_lowercase()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    if key.len() > MAX_SEARCH_TERM_BYTES {
        let mut end = MAX_SEARCH_TERM_BYTES;
        while !key.is_char_boundary(end) {
            end -= 1;
        }
        key.truncate(end);
        key.truncate(key.trim_end().len());
    }
    key
}
