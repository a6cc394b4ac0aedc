//! API Gateway stage prefixes.
//!
//! `lambda_http` puts a named stage into the path (`/prod/graphql`), so the
//! routes would not match; the stage is stripped here before routing and
//! remembered as [`BasePath`] so pages can link back under it. Locally there
//! is no request context and nothing changes.

use http::{Request, Uri};
use lambda_http::RequestExt as _;
use lambda_http::request::RequestContext;

/// The path prefix the client sees in front of the routes (`""` or `/prod`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BasePath(pub String);

fn stage_of<B>(request: &Request<B>) -> Option<String> {
    let stage = match request.request_context_ref()? {
        RequestContext::ApiGatewayV2(ctx) => ctx.stage.clone(),
        RequestContext::ApiGatewayV1(ctx) => ctx.stage.clone(),
        _ => None,
    }?;
    (stage != "$default" && !stage.is_empty()).then_some(stage)
}

/// Removes the stage prefix from the request path, recording it as the
/// request's [`BasePath`].
pub fn strip_stage_prefix<B>(mut request: Request<B>) -> Request<B> {
    let mut base = BasePath::default();
    if let Some(stage) = stage_of(&request) {
        let prefix = format!("/{stage}");
        let path = request.uri().path();
        let rest = path
            .strip_prefix(&prefix)
            .filter(|rest| rest.is_empty() || rest.starts_with('/'));
        if let Some(rest) = rest {
            let rest = if rest.is_empty() { "/" } else { rest };
            let path_and_query = match request.uri().query() {
                Some(query) => format!("{rest}?{query}"),
                None => rest.to_owned(),
            };
            let mut parts = request.uri().clone().into_parts();
            if let Ok(pq) = path_and_query.parse() {
                parts.path_and_query = Some(pq);
                if let Ok(uri) = Uri::from_parts(parts) {
                    *request.uri_mut() = uri;
                    base = BasePath(prefix);
                }
            }
        }
    }
    request.extensions_mut().insert(base);
    request
}
