//! A linear pre-check of how deeply a document nests brackets, run before
//! any parser sees it.
//!
//! async-graphql's parser bounds the nesting of selection sets but not of
//! argument values: `[[[…]]]` or `{a: {a: …}}` some 2,000 levels deep
//! overflows a worker's stack and aborts the whole process (on Lambda, the
//! execution environment). Counting `(`, `[` and `{` outside strings and
//! comments costs one pass over bytes and no allocation, so every document
//! passes through here first.

/// Why a document was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooDeep {
    /// The configured limit that was exceeded.
    pub limit: usize,
}

/// Checks that brackets, braces and parentheses in `document` nest at most
/// `limit` levels deep. Strings (`"…"` and `"""…"""`) and comments are
/// skipped; unbalanced documents are left to the parser to report.
pub fn check(document: &str, limit: usize) -> Result<(), TooDeep> {
    let bytes = document.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'(' | b'[' | b'{' => {
                depth += 1;
                if depth > limit {
                    return Err(TooDeep { limit });
                }
            }
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' && bytes[i] != b'\r' {
                    i += 1;
                }
            }
            b'"' if bytes[i..].starts_with(b"\"\"\"") => {
                i += 3;
                while i < bytes.len() && !bytes[i..].starts_with(b"\"\"\"") {
                    // `\"""` is an escaped delimiter inside a block string.
                    i += if bytes[i..].starts_with(b"\\\"\"\"") {
                        4
                    } else {
                        1
                    };
                }
                i += 2;
            }
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            _ => {}
        }
        i += 1;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nested(open: &str, close: &str, levels: usize) -> String {
        format!(
            "{{ f(x: {}1{}) }}",
            open.repeat(levels),
            close.repeat(levels)
        )
    }

    #[test]
    fn ordinary_documents_pass() {
        assert_eq!(check("{ a { b { c(x: [1, {y: [2]}]) } } }", 64), Ok(()));
        let graphiql = include_str!("../../tests/api/fixtures/graphiql-introspection.graphql");
        assert_eq!(check(graphiql, 64), Ok(()));
    }

    #[test]
    fn deep_lists_and_objects_are_refused() {
        assert_eq!(check(&nested("[", "]", 70), 64), Err(TooDeep { limit: 64 }));
        assert_eq!(
            check(&nested("{a: ", "}", 70), 64),
            Err(TooDeep { limit: 64 })
        );
        // The limit counts the enclosing selection set and argument list.
        assert_eq!(check(&nested("[", "]", 62), 64), Ok(()));
        assert!(check(&nested("[", "]", 63), 64).is_err());
    }

    #[test]
    fn brackets_inside_strings_and_comments_do_not_count() {
        let deep = "[".repeat(500);
        assert_eq!(check(&format!("{{ f(x: \"{deep}\") }}"), 4), Ok(()));
        assert_eq!(check(&format!("{{ f(x: \"\\\"{deep}\") }}"), 4), Ok(()));
        assert_eq!(
            check(
                &format!("{{ f(x: \"\"\"{deep} \\\"\"\" {deep}\"\"\") }}"),
                4
            ),
            Ok(())
        );
        assert_eq!(check(&format!("# {deep}\n{{ f }}"), 4), Ok(()));
    }

    #[test]
    fn an_unterminated_string_ends_the_scan_safely() {
        assert_eq!(check("{ f(x: \"[[[[[", 4), Ok(()));
        assert_eq!(check("{ f(x: \"\"\"[[[[[", 4), Ok(()));
        assert_eq!(check("{ f(x: \"\\", 4), Ok(()));
    }
}
