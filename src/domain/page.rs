//! Forward pagination, as every list in the API offers it.

use super::InvalidInput;

/// The most items one page may hold; keeps each list a single bounded query.
pub const MAX_PAGE_SIZE: u16 = 100;

/// A validated request for one page of a list: at most `first` items after
/// the opaque position `after` (a cursor from a previous page).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    /// How many items to return, `0..=MAX_PAGE_SIZE`.
    pub first: u16,
    /// Cursor of the last item already seen, if any.
    pub after: Option<String>,
}

impl PageRequest {
    /// Checks the page size (`first`) a client asked for.
    pub fn new(first: i32, after: Option<String>) -> Result<Self, InvalidInput> {
        let first = u16::try_from(first)
            .ok()
            .filter(|n| *n <= MAX_PAGE_SIZE)
            .ok_or_else(|| {
                InvalidInput::new("first", format!("must be between 0 and {MAX_PAGE_SIZE}"))
            })?;
        Ok(Self { first, after })
    }
}

/// One page of a list, in order, each item with the cursor that resumes
/// the list after it.
#[derive(Debug, Clone)]
pub struct Page<T> {
    /// The items with their cursors.
    pub items: Vec<(T, String)>,
    /// Whether more items follow the last one.
    pub has_next_page: bool,
    /// Where the next page starts when that is past the last item: the
    /// store stopped at its read budget after reading (and filtering out)
    /// items beyond it. `None` means right after the last item.
    pub resume_cursor: Option<String>,
}

impl<T> Page<T> {
    /// A page that ends at its last item.
    pub fn new(items: Vec<(T, String)>, has_next_page: bool) -> Self {
        Self {
            items,
            has_next_page,
            resume_cursor: None,
        }
    }

    /// The cursor a client passes as `after` for the next page.
    pub fn end_cursor(&self) -> Option<&str> {
        self.resume_cursor
            .as_deref()
            .or_else(|| self.items.last().map(|(_, cursor)| cursor.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_size_is_bounded() {
        assert_eq!(PageRequest::new(0, None).unwrap().first, 0);
        assert_eq!(PageRequest::new(100, None).unwrap().first, 100);
        assert_eq!(PageRequest::new(101, None).unwrap_err().field, "first");
        assert_eq!(PageRequest::new(-1, None).unwrap_err().field, "first");
    }
}
