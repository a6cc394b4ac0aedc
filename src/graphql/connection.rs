//! The Relay connection every list returns.
//!
//! async-graphql's own `Connection` derives `pageInfo.endCursor` from the
//! last edge. A page cut short by the store's read budget (a sparse filter
//! over a large partition) may hold fewer items than asked for, or none,
//! yet must still hand the client a cursor past everything it read. This
//! type carries that cursor; its schema shape (names, fields, descriptions)
//! is the same as async-graphql's, so clients see no difference.

use std::borrow::Cow;

use async_graphql::connection::{Edge, EmptyFields, PageInfo};
use async_graphql::{Object, OutputType, TypeName};

use crate::domain::page::{MAX_PAGE_SIZE, Page};

/// The complexity of a connection field: its page size times what each
/// item selects, plus one. `first` is taken at most at the largest page
/// (a larger one is refused anyway), and the result stops at
/// [`MAX_FIELD_COMPLEXITY`]: in a release build a wrapping product could
/// otherwise let huge nested `first`s add up to a small total and slip
/// under the limit.
pub fn complexity(first: i32, child_complexity: usize) -> usize {
    usize::try_from(first)
        .unwrap_or(0)
        .min(usize::from(MAX_PAGE_SIZE))
        .saturating_mul(child_complexity)
        .saturating_add(1)
        .min(MAX_FIELD_COMPLEXITY)
}

/// The most one field's complexity counts: far above any limit, and small
/// enough that async-graphql's plain sum over a document's fields (a few
/// thousand at most, see `gate`) cannot overflow either.
pub const MAX_FIELD_COMPLEXITY: usize = 1 << 32;

/// One page of `N`s with Relay paging information.
pub struct Connection<N: OutputType> {
    edges: Vec<Edge<String, N, EmptyFields>>,
    has_next_page: bool,
    end_cursor: Option<String>,
}

impl<N: OutputType> Connection<N> {
    /// A connection with no items and nothing after them.
    pub fn empty() -> Self {
        Self {
            edges: Vec::new(),
            has_next_page: false,
            end_cursor: None,
        }
    }

    /// The connection for a store page, each item turned into its node.
    pub fn from_page<T>(page: Page<T>, node: impl Fn(T) -> N) -> Self {
        let end_cursor = page.end_cursor().map(str::to_owned);
        Self {
            has_next_page: page.has_next_page,
            edges: page
                .items
                .into_iter()
                .map(|(item, cursor)| Edge::new(cursor, node(item)))
                .collect(),
            end_cursor,
        }
    }
}

impl<N: OutputType> TypeName for Connection<N> {
    fn type_name() -> Cow<'static, str> {
        format!("{}Connection", N::type_name()).into()
    }
}

/// One page of a list, in order, with Relay paging information: pass
/// `pageInfo.endCursor` as `after` to get the next page while
/// `pageInfo.hasNextPage` is true.
#[Object(name_type)]
impl<N: OutputType> Connection<N> {
    /// Information to aid in pagination.
    async fn page_info(&self) -> PageInfo {
        PageInfo {
            has_previous_page: false,
            has_next_page: self.has_next_page,
            start_cursor: self.edges.first().map(|edge| edge.cursor.clone()),
            end_cursor: self.end_cursor.clone(),
        }
    }

    /// A list of edges.
    async fn edges(&self) -> &[Edge<String, N, EmptyFields>] {
        &self.edges
    }

    /// A list of nodes.
    async fn nodes(&self) -> Vec<&N> {
        self.edges.iter().map(|edge| &edge.node).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::{MAX_FIELD_COMPLEXITY, complexity};

    #[test]
    fn connection_complexity_is_capped_at_the_largest_page_and_saturates() {
        assert_eq!(complexity(10, 3), 31);
        assert_eq!(complexity(-5, 3), 1);
        // Beyond the largest page, counted as the largest page.
        assert_eq!(complexity(810_505_256, 81), complexity(100, 81));
        // Nested connections cannot wrap around to a small total.
        let nested = complexity(100, complexity(100, complexity(100, 81)));
        assert_eq!(nested, 81_010_101);
        assert_eq!(complexity(100, usize::MAX / 2), MAX_FIELD_COMPLEXITY);
        assert_eq!(complexity(100, nested), MAX_FIELD_COMPLEXITY);
    }
}
