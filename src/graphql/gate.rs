//! The checks every document passes before it runs, as one async-graphql
//! extension:
//! - parse and validation failures get stable codes
//!   (`GRAPHQL_PARSE_FAILED`, `GRAPHQL_VALIDATION_FAILED`,
//!   `QUERY_TOO_COMPLEX` for depth and complexity);
//! - alias and field counts are limited. async-graphql's own complexity
//!   limit does not count `__typename`, so a thousand aliases of it would
//!   pass; here every selection counts, fragments expanded;
//! - depth is limited here too, not by async-graphql: inside introspection
//!   an `ofType` chain (linear, cheap) does not add depth, or GraphiQL's own
//!   schema query would exceed any sensible limit. What makes introspection
//!   expensive is nesting its *lists* (`types { fields { type { fields …`),
//!   so that is capped at [`MAX_INTROSPECTION_LISTS`];
//! - the operation name is recorded on the request's log span.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextExecute, NextParseQuery, NextValidation,
};
use async_graphql::parser::types::{
    ExecutableDocument, FragmentDefinition, Selection, SelectionSet,
};
use async_graphql::{
    Name, Positioned, Response, ServerError, ServerResult, ValidationResult, Variables,
};

use super::error::Code;
use crate::config::Limits;

/// Deepest nesting of introspection list fields; the standard introspection
/// query needs 3 (`types { fields { args } } }`).
pub const MAX_INTROSPECTION_LISTS: usize = 3;

/// Introspection fields that return lists.
const INTROSPECTION_LISTS: &[&str] = &[
    "types",
    "fields",
    "args",
    "inputFields",
    "interfaces",
    "possibleTypes",
    "enumValues",
    "directives",
];

/// Factory for the gate; holds the configured limits.
pub struct Gate {
    limits: Limits,
    introspection: bool,
}

impl Gate {
    /// A gate enforcing `limits`; with `introspection` off, documents that
    /// ask for `__schema` or `__type` are refused with a clear error instead
    /// of the silent `null` async-graphql would give.
    pub fn new(limits: Limits, introspection: bool) -> Self {
        Self {
            limits,
            introspection,
        }
    }
}

impl ExtensionFactory for Gate {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(GateExtension {
            limits: self.limits,
            introspection: self.introspection,
        })
    }
}

struct GateExtension {
    limits: Limits,
    introspection: bool,
}

/// Sets `extensions.code` on an error that has none yet.
pub fn with_code(mut err: ServerError, code: Code) -> ServerError {
    let has_code = err
        .extensions
        .as_ref()
        .is_some_and(|e| e.get("code").is_some());
    if !has_code {
        err.extensions
            .get_or_insert_with(Default::default)
            .set("code", code.as_str());
    }
    err
}

/// Names the offending argument in `extensions.field` when async-graphql's
/// message does (`Invalid value for argument "input.customerType", …`), so
/// a client can point at the field as it does for `BAD_USER_INPUT`.
fn with_field(mut err: ServerError) -> ServerError {
    const PREFIX: &str = "Invalid value for argument \"";
    let field = err
        .message
        .strip_prefix(PREFIX)
        .and_then(|rest| rest.split_once('"'))
        .map(|(field, _)| field.to_owned());
    if let Some(field) = field {
        err.extensions
            .get_or_insert_with(Default::default)
            .set("field", field);
    }
    err
}

fn too_complex(message: String) -> ServerError {
    with_code(ServerError::new(message, None), Code::QueryTooComplex)
}

/// The error for a document refused by [`super::nesting::check`].
pub fn too_deep(err: super::nesting::TooDeep) -> ServerError {
    too_complex(too_deep_message(err))
}

/// What a client is told when its document nests too deeply.
pub fn too_deep_message(err: super::nesting::TooDeep) -> String {
    format!(
        "the document nests brackets, braces or parentheses more than {} levels deep",
        err.limit
    )
}

/// Every limit a parsed document must meet before anything else walks it:
/// the HTTP edge calls this on the document it parsed (before
/// async-graphql's own checks, which follow every fragment spread without
/// a budget), and the gate again for every other way a document arrives.
pub fn check_document(
    document: &ExecutableDocument,
    limits: &Limits,
    introspection: bool,
) -> Result<(), ServerError> {
    let flat_cap = flat_cap(limits);
    let written = Shape::written(document, flat_cap);
    if written > flat_cap {
        return Err(too_complex(format!(
            "the document holds more than {flat_cap} selections and directives"
        )));
    }
    let shape = Shape::measure(document, limits.max_fields);
    if let Some(name) = shape.cycle {
        return Err(with_code(
            ServerError::new(format!("fragment `{name}` spreads itself"), None),
            Code::GraphqlValidationFailed,
        ));
    }
    if shape.visits > flat_cap {
        return Err(too_complex(format!(
            "the query expands to more than {flat_cap} selections"
        )));
    }
    if shape.depth > limits.max_depth {
        return Err(too_complex(format!(
            "the query is nested deeper than {} levels",
            limits.max_depth
        )));
    }
    if shape.introspection_lists > MAX_INTROSPECTION_LISTS {
        return Err(too_complex(format!(
            "introspection lists may be nested at most {MAX_INTROSPECTION_LISTS} deep"
        )));
    }
    if shape.fields > limits.max_fields {
        return Err(too_complex(format!(
            "the query selects more than {} fields",
            limits.max_fields
        )));
    }
    if shape.aliases > limits.max_aliases {
        return Err(too_complex(format!(
            "the query uses more than {} aliases",
            limits.max_aliases
        )));
    }
    if shape.introspects && !introspection {
        return Err(with_code(
            ServerError::new("introspection is disabled on this server", None),
            Code::GraphqlValidationFailed,
        ));
    }
    Ok(())
}

/// Most selections (fields, spreads, inline fragments) and directives a
/// document may hold as written, and most selections its operations may
/// expand to: four per allowed field leaves room for the spreads and
/// fragments real clients write (GraphiQL's schema query needs about 150
/// expanded) while bounding every walk over the document, ours and
/// async-graphql's, to a few thousand steps.
fn flat_cap(limits: &Limits) -> usize {
    limits.max_fields.saturating_mul(4)
}

#[async_graphql::async_trait::async_trait]
impl Extension for GateExtension {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        // The HTTP edge checks this before anything parses; checking again
        // here covers every other way a document reaches the schema.
        super::nesting::check(query, self.limits.max_nesting).map_err(too_deep)?;
        let document = next
            .run(ctx, query, variables)
            .await
            .map_err(|e| with_code(e, Code::GraphqlParseFailed))?;
        check_document(&document, &self.limits, self.introspection)?;
        Ok(document)
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        next.run(ctx).await.map_err(|errors| {
            errors
                .into_iter()
                .map(|e| {
                    let code = if e.message.starts_with("Query is too complex") {
                        Code::QueryTooComplex
                    } else {
                        Code::GraphqlValidationFailed
                    };
                    with_field(with_code(e, code))
                })
                .collect()
        })
    }

    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        let name = operation_name.unwrap_or("(anonymous)");
        tracing::Span::current().record("operation", name);
        if let Some(RequestSpan(span)) = ctx.data_opt::<RequestSpan>() {
            span.record("operation", name);
        }
        // A caller without a token (accepting an invitation) could name
        // each request anew and mint metric dimensions at will: its
        // operations are counted under one name.
        if ctx.data_opt::<crate::auth::Principal>().is_some() {
            crate::metrics::record_operation(operation_name);
        } else {
            crate::metrics::record_operation(Some(crate::metrics::WITHOUT_TOKEN));
        }
        next.run(ctx, operation_name).await
    }
}

/// The HTTP request's span, put into the GraphQL request data by the HTTP
/// layer: the execution runs in a span of its own, and the operation name
/// belongs on the request's (its summary line reports it).
#[derive(Debug, Clone)]
pub struct RequestSpan(pub tracing::Span);

/// What a document selects, fragments expanded: fields, aliases, depth,
/// and introspection. Counting stops once `cap` fields or four times as
/// many selections are exceeded, so a fragment bomb costs no more than the
/// limit, whether its fragments end in fields or in nothing.
#[derive(Debug, Default, PartialEq, Eq)]
struct Shape {
    fields: usize,
    aliases: usize,
    depth: usize,
    introspection_lists: usize,
    introspects: bool,
    /// Every selection visited: fields, spreads and inline fragments.
    visits: usize,
    /// A fragment that spreads itself, directly or not.
    cycle: Option<String>,
}

impl Shape {
    fn measure(document: &ExecutableDocument, cap: usize) -> Self {
        let mut walker = Walker {
            fragments: &document.fragments,
            shape: Self::default(),
            cap,
            stack: Vec::new(),
        };
        for (_, operation) in document.operations.iter() {
            walker.walk(&operation.node.selection_set.node, 0, None);
        }
        walker.shape
    }

    /// Selections and directives as written, in every operation and every
    /// fragment (used or not: validation visits them all, and each may
    /// cost an error), counted up to just past `cap`.
    fn written(document: &ExecutableDocument, cap: usize) -> usize {
        fn count(set: &SelectionSet, total: &mut usize, cap: usize) {
            for selection in &set.items {
                if *total > cap {
                    return;
                }
                *total += 1;
                match &selection.node {
                    Selection::Field(field) => {
                        *total += field.node.directives.len();
                        count(&field.node.selection_set.node, total, cap);
                    }
                    Selection::InlineFragment(fragment) => {
                        *total += fragment.node.directives.len();
                        count(&fragment.node.selection_set.node, total, cap);
                    }
                    Selection::FragmentSpread(spread) => {
                        *total += spread.node.directives.len();
                    }
                }
            }
        }
        let mut total = 0;
        for (_, operation) in document.operations.iter() {
            total += operation.node.directives.len();
            count(&operation.node.selection_set.node, &mut total, cap);
        }
        for fragment in document.fragments.values() {
            total += fragment.node.directives.len();
            count(&fragment.node.selection_set.node, &mut total, cap);
        }
        total
    }
}

struct Walker<'a> {
    fragments: &'a HashMap<Name, Positioned<FragmentDefinition>>,
    shape: Shape,
    cap: usize,
    stack: Vec<&'a Name>,
}

impl<'a> Walker<'a> {
    /// Walks `set`, whose parent field is at `depth`; `introspection` is the
    /// number of introspection lists above, when inside introspection.
    fn walk(&mut self, set: &'a SelectionSet, depth: usize, introspection: Option<usize>) {
        for selection in &set.items {
            if self.shape.fields > self.cap || self.shape.visits > self.cap.saturating_mul(4) {
                return;
            }
            self.shape.visits += 1;
            match &selection.node {
                Selection::Field(field) => {
                    self.shape.fields += 1;
                    if field.node.alias.is_some() {
                        self.shape.aliases += 1;
                    }
                    let name = field.node.name.node.as_str();
                    let introspection = if name == "__schema" || name == "__type" {
                        self.shape.introspects = true;
                        Some(0)
                    } else {
                        introspection
                    };
                    let (depth, introspection) = match introspection {
                        Some(lists) if name == "ofType" => (depth, Some(lists)),
                        Some(lists) if INTROSPECTION_LISTS.contains(&name) => {
                            (depth + 1, Some(lists + 1))
                        }
                        other => (depth + 1, other),
                    };
                    self.shape.depth = self.shape.depth.max(depth);
                    let lists = introspection.unwrap_or(0);
                    self.shape.introspection_lists = self.shape.introspection_lists.max(lists);
                    self.walk(&field.node.selection_set.node, depth, introspection);
                }
                Selection::InlineFragment(fragment) => {
                    self.walk(&fragment.node.selection_set.node, depth, introspection);
                }
                Selection::FragmentSpread(spread) => {
                    let name = &spread.node.fragment_name.node;
                    // A cycle is refused (async-graphql's own checks
                    // would follow it 32 levels deep, each spread again).
                    if self.stack.contains(&name) {
                        self.shape.cycle.get_or_insert_with(|| name.to_string());
                        return;
                    }
                    if let Some(fragment) = self.fragments.get(name) {
                        self.stack.push(name);
                        self.walk(&fragment.node.selection_set.node, depth, introspection);
                        self.stack.pop();
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fmt::Write as _;

    fn shape(query: &str) -> Shape {
        Shape::measure(&async_graphql::parser::parse_query(query).unwrap(), 10_000)
    }

    #[test]
    fn typename_and_aliases_count() {
        let s = shape("{ a: __typename b: __typename __typename }");
        assert_eq!((s.fields, s.aliases), (3, 2));
    }

    #[test]
    fn fragments_are_expanded_each_time_they_are_spread() {
        let s = shape("{ x { ...F } y: x { ...F } } fragment F on T { a b }");
        assert_eq!((s.fields, s.aliases), (6, 1));
        assert!(!s.introspects);
        assert!(shape("{ ...I } fragment I on Query { __schema { types { name } } }").introspects);
    }

    #[test]
    fn depth_counts_nested_fields_through_fragments() {
        assert_eq!(shape("{ a }").depth, 1);
        assert_eq!(shape("{ a { b { c } } }").depth, 3);
        assert_eq!(shape("{ a { ...F } } fragment F on T { b { c } }").depth, 3);
    }

    #[test]
    fn of_type_chains_do_not_deepen_introspection_but_lists_are_counted() {
        let chain = "{ __type(name: \"Q\") { ofType { ofType { ofType { ofType { ofType { name } } } } } } }";
        assert_eq!(shape(chain).depth, 2);
        let graphiql = include_str!("../../tests/api/fixtures/graphiql-introspection.graphql");
        let s = shape(graphiql);
        assert!(s.depth <= 8, "{s:?}");
        assert_eq!(s.introspection_lists, 3);
        let bomb =
            "{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }";
        assert_eq!(shape(bomb).introspection_lists, 4);
        // Outside introspection, a field called `ofType` is an ordinary field.
        assert_eq!(shape("{ ofType { ofType { x } } }").depth, 3);
    }

    #[test]
    fn a_fragment_bomb_stops_at_the_cap() {
        let mut query = String::from("{ ...F0 }");
        for i in 0..30 {
            let next = i + 1;
            write!(query, " fragment F{i} on Q {{ ...F{next} ...F{next} }}").unwrap();
        }
        query.push_str(" fragment F30 on Q { __typename }");
        let document = async_graphql::parser::parse_query(&query).unwrap();
        let s = Shape::measure(&document, 500);
        assert!(s.fields > 500 && s.fields < 1000, "{s:?}");
    }

    fn limits() -> Limits {
        Limits {
            max_fields: 500,
            ..Limits::default()
        }
    }

    fn refusal(query: &str) -> Option<String> {
        let document = async_graphql::parser::parse_query(query).unwrap();
        check_document(&document, &limits(), true)
            .err()
            .map(|e| e.message)
    }

    #[test]
    fn a_fragment_bomb_ending_in_nothing_stops_at_the_selection_cap() {
        // No field is ever reached (the last fragment spreads one that does
        // not exist), so only counting spreads bounds the walk.
        let mut query = String::from("{ ...F0 }");
        for i in 0..30 {
            let next = i + 1;
            write!(query, " fragment F{i} on Q {{ ...F{next} ...F{next} }}").unwrap();
        }
        query.push_str(" fragment F30 on Q { ...Missing }");
        let document = async_graphql::parser::parse_query(&query).unwrap();
        let s = Shape::measure(&document, 500);
        assert!(s.visits > 2000 && s.visits < 2100, "{s:?}");
        assert_eq!(
            refusal(&query).as_deref(),
            Some("the query expands to more than 2000 selections")
        );
    }

    #[test]
    fn fragment_cycles_are_refused_before_anything_follows_them() {
        let message =
            refusal("{ ...A } fragment A on Q { ...B ...B } fragment B on Q { ...A ...A }");
        assert_eq!(message.as_deref(), Some("fragment `A` spreads itself"));
    }

    #[test]
    fn unused_fragments_and_directives_count_as_written() {
        let mut fields = String::from("{ __typename } fragment U on Query {");
        for _ in 0..2001 {
            fields.push_str(" a");
        }
        fields.push('}');
        let mut directives = String::from("{ __typename");
        for _ in 0..2001 {
            directives.push_str(" @a");
        }
        directives.push('}');
        for query in [fields, directives] {
            assert_eq!(
                refusal(&query).as_deref(),
                Some("the document holds more than 2000 selections and directives")
            );
        }
        let graphiql = include_str!("../../tests/api/fixtures/graphiql-introspection.graphql");
        assert_eq!(refusal(graphiql), None);
    }
}
