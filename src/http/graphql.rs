//! `GET` and `POST /graphql`, following the GraphQL-over-HTTP spec.
//!
//! The stock async-graphql integration is not used because it answers
//! `Accept: application/json` with the other media type, accepts batches,
//! runs mutations over GET, reads `text/plain` bodies as JSON and has no
//! body cap. Here: one operation per request; mutations only over POST
//! (405 otherwise); bodies only as `application/json` (415 otherwise, which
//! also blocks cross-site form posts); bodies over the limit get 413; every
//! request needs a valid bearer token (401 otherwise) whose subject is an
//! admin or an active user, except a mutation whose only root field is
//! `acceptInvitation` sent without any `Authorization` header; and every
//! error in the response carries a stable `extensions.code`.

use std::collections::HashMap;
use tracing::Instrument as _;

use async_graphql::parser::types::{DocumentOperations, OperationType};
use async_graphql::{ServerError, Variables};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::header::{ALLOW, CONTENT_LENGTH, CONTENT_TYPE, WWW_AUTHENTICATE};
use http::{HeaderValue, StatusCode};
use http_body_util::{BodyExt as _, LengthLimitError, Limited};
use serde_json::{Map, Value, json};

use super::AppState;
use super::documents::{Asked, Asker, Refusal};
use super::graphiql;
use super::negotiate::{Format, is_json_body, negotiate, wants_html};
use crate::auth::AuthError;
use crate::domain::access::Caller;
use crate::domain::user::UserStatus;
use crate::graphql::access::RequestAccess;
use crate::graphql::error::{ApiError, Code, INTERNAL_MESSAGE};
use crate::graphql::gate::{self, too_deep_message, with_code};
use crate::graphql::loaders::{Loaders, run_batched};
use crate::graphql::nesting;

/// A response carrying only request-level errors, with `format`'s media type.
pub(crate) fn error_response(
    status: StatusCode,
    format: Format,
    code: Code,
    message: &str,
) -> Response {
    crate::metrics::record_error(code.as_str());
    let mut extensions = json!({"code": code.as_str()});
    if code == Code::ServiceUnavailable {
        // As on every such error: the one a client should simply retry.
        extensions["retryable"] = Value::Bool(true);
    }
    let body = json!({
        "errors": [{"message": message, "extensions": extensions}]
    });
    json_response(status, format, &body)
}

fn json_response(status: StatusCode, format: Format, body: &Value) -> Response {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    (
        status,
        [(
            CONTENT_TYPE,
            HeaderValue::from_static(format.content_type()),
        )],
        bytes,
    )
        .into_response()
}

fn unauthorized(format: Format, err: &AuthError) -> Response {
    unauthorized_with(format, &err.to_string())
}

fn unauthorized_with(format: Format, message: &str) -> Response {
    let mut response = error_response(
        StatusCode::UNAUTHORIZED,
        format,
        Code::Unauthenticated,
        message,
    );
    response
        .headers_mut()
        .insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    response
}

fn bad_request(format: Format, message: &str) -> Response {
    error_response(StatusCode::BAD_REQUEST, format, Code::BadRequest, message)
}

/// Ends a GraphQL request that runs past [`AppState::request_timeout`]
/// with a retryable `SERVICE_UNAVAILABLE` (503, `Retry-After: 1`). Each
/// DynamoDB call is bounded on its own, but several in a row (retries
/// included) could add up past Lambda's timeout, whose bare 502/504 a
/// client cannot tell from a crash. Whatever was cut short is safe to
/// retry: writes are single transactions, and the cascades resume.
pub async fn within_deadline(
    State(state): State<AppState>,
    request: Request,
    next: axum::middleware::Next,
) -> Response {
    let format = negotiate(request.headers()).unwrap_or(Format::Json);
    let Ok(response) = tokio::time::timeout(state.request_timeout, next.run(request)).await else {
        tracing::warn!(
            timeout_ms = state.request_timeout.as_millis(),
            "request cut short by REQUEST_TIMEOUT_MS"
        );
        let mut response = error_response(
            StatusCode::SERVICE_UNAVAILABLE,
            format,
            Code::ServiceUnavailable,
            "the request took too long to answer; try again",
        );
        response
            .headers_mut()
            .insert(http::header::RETRY_AFTER, HeaderValue::from_static("1"));
        return response;
    };
    response
}

/// `POST /graphql` with a JSON body `{query, operationName?, variables?,
/// extensions?}`.
pub async fn post(State(state): State<AppState>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let Some(format) = negotiate(&parts.headers) else {
        return not_acceptable();
    };
    if !is_json_body(&parts.headers) {
        return error_response(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format,
            Code::UnsupportedMediaType,
            "the request body must be `Content-Type: application/json`",
        );
    }
    let limit = state.limits.max_body_bytes;
    let declared_too_large = parts
        .headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
        .is_some_and(|length| length > limit);
    if declared_too_large {
        return too_large(format, limit);
    }
    let bytes = match read_body(body, limit).await {
        Ok(bytes) => bytes,
        Err(BodyError::TooLarge) => return too_large(format, limit),
        Err(BodyError::Unreadable) => {
            return bad_request(format, "the request body could not be read");
        }
    };
    // Without a token, only an anonymous operation may go on (see below).
    let principal = match state.verifier.authenticate(&parts.headers).await {
        Ok(principal) => Some(principal),
        Err(AuthError::Missing) => None,
        Err(err) => return unauthorized(format, &err),
    };
    let incoming = match parse_post_body(&bytes) {
        Ok(incoming) => incoming,
        Err(_) if principal.is_none() => return unauthorized(format, &AuthError::Missing),
        Err(message) => return bad_request(format, message),
    };
    let asker = match &principal {
        None => Asker::Anonymous,
        Some(p) if p.platform_role.is_some() => Asker::Admin,
        Some(_) => Asker::User,
    };
    let mut graphql_request = match admit(&state, incoming, asker, format) {
        Ok(request) => request,
        Err(refusal) => return *refusal,
    };
    // Mutations name the request in their audit events, and what creates
    // an entity records the caller's address.
    if let Some(id) = parts.extensions.get::<crate::graphql::audit::RequestId>() {
        graphql_request = graphql_request.data(id.clone());
    }
    graphql_request = graphql_request.data(crate::graphql::audit::SourceIp(source_ip(&parts)));
    let Some(principal) = principal else {
        // The one operation no token authorises: accepting an invitation,
        // whose own token is the credential. Anything else without a token
        // stays 401.
        if is_anonymous_operation(&mut graphql_request) {
            return execute(&state, graphql_request, format).await;
        }
        return unauthorized(format, &AuthError::Missing);
    };
    let access = match request_access(&state, &principal).await {
        Ok(access) => access,
        Err(response) => return response(format),
    };
    execute(&state, graphql_request.data(principal).data(access), format).await
}

/// Root fields that run without a token. Each must authenticate by its own
/// arguments and return nothing that needs a caller to be read.
const ANONYMOUS_FIELDS: &[&str] = &["acceptInvitation"];

/// Whether the request's operation is a mutation whose only root selection
/// is one of [`ANONYMOUS_FIELDS`]: no fragments, no second field, so nothing
/// else can ride along without a token. Decided on the parsed document; a
/// document that does not parse is not anonymous (the caller then gets the
/// usual 401).
fn is_anonymous_operation(request: &mut async_graphql::Request) -> bool {
    use async_graphql::parser::types::Selection;
    let name = request.operation_name.clone();
    let Ok(document) = request.parsed_query() else {
        return false;
    };
    let operation = match (&document.operations, name.as_deref()) {
        (DocumentOperations::Single(op), None) => Some(op),
        (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name),
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => ops.values().next(),
        _ => None,
    };
    let Some(operation) = operation else {
        return false;
    };
    let items = &operation.node.selection_set.node.items;
    operation.node.ty == OperationType::Mutation
        && items.len() == 1
        && matches!(&items[0].node, Selection::Field(field)
            if ANONYMOUS_FIELDS.contains(&field.node.name.node.as_str()))
}

type AccessRefusal = Box<dyn FnOnce(Format) -> Response + Send>;

/// The caller behind a verified token: an admin, or an existing, active
/// user whose id is the token's `sub`. Anything else is 401, like a bad
/// token (a deleted or disabled user's tokens stop working at once).
async fn request_access(
    state: &AppState,
    principal: &crate::auth::Principal,
) -> Result<RequestAccess, AccessRefusal> {
    if let Some(role) = principal.platform_role {
        return Ok(RequestAccess::new(Caller::Platform(role)));
    }
    let refused: AccessRefusal = Box::new(|format| {
        unauthorized_with(
            format,
            "the token's subject is not an active user of this gateway",
        )
    });
    let Some(Ok(id)) = principal.user_id.as_deref().map(uuid::Uuid::parse_str) else {
        return Err(refused);
    };
    match state.store.users().get(id).await {
        Ok(Some(user)) if user.status == UserStatus::Active => {
            // A sign-in is recorded once per token: the first request with
            // a token issued after the last recorded sign-in writes it,
            // every later one finds it recorded and writes nothing.
            if let Some(iat) = principal.issued_at
                && user.last_login_at.is_none_or(|at| at.timestamp() < iat)
                && let Err(err) = state.store.users().record_sign_in(user.id, iat).await
            {
                tracing::warn!(
                    error = %crate::graphql::error::error_chain(&err),
                    "the user's sign-in could not be recorded"
                );
            }
            Ok(RequestAccess::new(Caller::User(user.id)))
        }
        Ok(_) => Err(refused),
        Err(err) => {
            let error = ApiError::from(err);
            Err(Box::new(move |format| {
                let status = if error.code == Code::ServiceUnavailable {
                    StatusCode::SERVICE_UNAVAILABLE
                } else {
                    StatusCode::INTERNAL_SERVER_ERROR
                };
                error_response(status, format, error.code, &error.message)
            }))
        }
    }
}

/// The caller's address: API Gateway's `sourceIp` (HTTP API or REST API
/// request context) on Lambda, the TCP peer under `switchboard serve`.
/// Never a header a client can set (`X-Forwarded-For`): the gateway sits
/// directly behind API Gateway, which sets the context itself.
fn source_ip(parts: &http::request::Parts) -> Option<std::net::IpAddr> {
    use lambda_http::request::RequestContext;
    let from_lambda = match parts.extensions.get::<RequestContext>() {
        Some(RequestContext::ApiGatewayV2(ctx)) => ctx.http.source_ip.clone(),
        Some(RequestContext::ApiGatewayV1(ctx)) => ctx.identity.source_ip.clone(),
        _ => None,
    };
    from_lambda.and_then(|ip| ip.parse().ok()).or_else(|| {
        parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|c| c.0.ip())
    })
}

/// `GET /graphql?query=…&variables=…&operationName=…` for queries; GraphiQL
/// for a browser that asks for HTML without a query.
pub async fn get(State(state): State<AppState>, request: Request) -> Response {
    let (parts, _) = request.into_parts();
    let params: HashMap<String, String> =
        match serde_urlencoded::from_str(parts.uri.query().unwrap_or_default()) {
            Ok(params) => params,
            Err(_) => return bad_request(Format::Json, "the query string is malformed"),
        };
    if !params.contains_key("query") && wants_html(&parts.headers) {
        return graphiql::page(&parts).into_response();
    }
    let Some(format) = negotiate(&parts.headers) else {
        return not_acceptable();
    };
    let principal = match state.verifier.authenticate(&parts.headers).await {
        Ok(principal) => principal,
        Err(err) => return unauthorized(format, &err),
    };
    let access = match request_access(&state, &principal).await {
        Ok(access) => access,
        Err(response) => return response(format),
    };
    let incoming = match parse_get_params(params) {
        Ok(incoming) => incoming,
        Err(message) => return bad_request(format, message),
    };
    let asker = if principal.platform_role.is_some() {
        Asker::Admin
    } else {
        Asker::User
    };
    let mut graphql_request = match admit(&state, incoming, asker, format) {
        Ok(request) => request,
        Err(refusal) => return *refusal,
    };
    if selects_mutation(&mut graphql_request) {
        let mut response = error_response(
            StatusCode::METHOD_NOT_ALLOWED,
            format,
            Code::MethodNotAllowed,
            "mutations must be sent with POST",
        );
        response
            .headers_mut()
            .insert(ALLOW, HeaderValue::from_static("POST"));
        return response;
    }
    execute(&state, graphql_request.data(principal).data(access), format).await
}

/// Decides which document the request runs, before anything parses it:
/// the text sent or a persisted/trusted one named by hash (see
/// [`Documents`]), and not one nested too deeply (see [`nesting`]).
/// Refusals are request errors, like the limits the gate enforces after
/// parsing.
fn admit(
    state: &AppState,
    incoming: Incoming,
    asker: Asker,
    format: Format,
) -> Result<async_graphql::Request, Box<Response>> {
    let request_error = |code: Code, message: &str| {
        let status = if format == Format::GraphqlResponseJson {
            StatusCode::BAD_REQUEST
        } else {
            StatusCode::OK
        };
        error_response(status, format, code, message)
    };
    let query = state.documents.resolve(incoming.asked, asker).map_err(
        |refusal| match refusal {
            Refusal::Missing => bad_request(format, "the request has no `query`"),
            Refusal::NotFound => {
                request_error(Code::PersistedQueryNotFound, "PersistedQueryNotFound")
            }
            Refusal::NotTrusted => request_error(
                Code::Forbidden,
                "only the trusted documents this deployment ships may run; send one by its hash",
            ),
            Refusal::HashMismatch => bad_request(
                format,
                "`extensions.persistedQuery.sha256Hash` is not the SHA-256 of `query`",
            ),
            Refusal::UnsupportedVersion => {
                bad_request(format, "`extensions.persistedQuery.version` must be 1")
            }
        },
    )?;
    if let Err(err) = nesting::check(&query, state.limits.max_nesting) {
        return Err(Box::new(request_error(
            Code::QueryTooComplex,
            &too_deep_message(err),
        )));
    }
    let mut request = async_graphql::Request::new(query);
    if let Some(name) = incoming.operation_name {
        request = request.operation_name(name);
    }
    if let Some(variables) = incoming.variables {
        request = request.variables(variables);
    }
    for (key, value) in incoming.extensions {
        request.extensions.insert(key, value);
    }
    // Parsed once, here, and kept in the request for the executor: the
    // limits are checked before async-graphql's own walks, which follow
    // every fragment spread with no budget. A document that does not
    // parse is left to the executor, which reports the parse error.
    if let Ok(document) = request.parsed_query()
        && let Err(err) = gate::check_document(document, &state.limits, true)
    {
        let code = code_of(&err).unwrap_or(Code::QueryTooComplex);
        return Err(Box::new(request_error(code, &err.message)));
    }
    Ok(request)
}

/// The `extensions.code` of an error, if it has a known one.
fn code_of(err: &ServerError) -> Option<Code> {
    err.extensions
        .as_ref()
        .and_then(|ext| ext.get("code"))
        .and_then(|code| match code {
            async_graphql::Value::String(code) => Code::from_wire(code),
            _ => None,
        })
}

fn not_acceptable() -> Response {
    error_response(
        StatusCode::NOT_ACCEPTABLE,
        Format::Json,
        Code::NotAcceptable,
        "this server responds with application/json or application/graphql-response+json",
    )
}

fn too_large(format: Format, limit: usize) -> Response {
    error_response(
        StatusCode::PAYLOAD_TOO_LARGE,
        format,
        Code::PayloadTooLarge,
        &format!("the request body is larger than {limit} bytes"),
    )
}

enum BodyError {
    TooLarge,
    Unreadable,
}

async fn read_body(body: Body, limit: usize) -> Result<Bytes, BodyError> {
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(err) if err.downcast_ref::<LengthLimitError>().is_some() => Err(BodyError::TooLarge),
        Err(_) => Err(BodyError::Unreadable),
    }
}

/// A GraphQL request as it arrived, before its document is decided.
struct Incoming {
    asked: Asked,
    operation_name: Option<String>,
    variables: Option<Variables>,
    extensions: HashMap<String, async_graphql::Value>,
}

fn parse_post_body(bytes: &[u8]) -> Result<Incoming, &'static str> {
    let value: Value =
        serde_json::from_slice(bytes).map_err(|_| "the request body is not valid JSON")?;
    match value {
        Value::Object(fields) => request_from_fields(fields),
        Value::Array(_) => {
            Err("batched requests are not supported; send one operation per request")
        }
        _ => Err("the request body must be a JSON object"),
    }
}

fn request_from_fields(mut fields: Map<String, Value>) -> Result<Incoming, &'static str> {
    let mut incoming = Incoming {
        asked: Asked::default(),
        operation_name: None,
        variables: None,
        extensions: HashMap::new(),
    };
    match fields.remove("query") {
        Some(Value::String(query)) => incoming.asked.query = Some(query),
        Some(Value::Null) | None => {}
        Some(_) => return Err("`query` must be a string"),
    }
    match fields.remove("operationName") {
        Some(Value::String(name)) => incoming.operation_name = Some(name),
        Some(Value::Null) | None => {}
        Some(_) => return Err("`operationName` must be a string"),
    }
    match fields.remove("variables") {
        Some(value @ Value::Object(_)) => incoming.variables = Some(Variables::from_json(value)),
        Some(Value::Null) | None => {}
        Some(_) => return Err("`variables` must be an object"),
    }
    match fields.remove("extensions") {
        Some(Value::Object(map)) => {
            for (key, value) in map {
                if key == "persistedQuery" {
                    read_persisted_query(&value, &mut incoming.asked)?;
                }
                if let Ok(value) = async_graphql::Value::from_json(value) {
                    incoming.extensions.insert(key, value);
                }
            }
        }
        Some(Value::Null) | None => {}
        Some(_) => return Err("`extensions` must be an object"),
    }
    Ok(incoming)
}

/// Reads `extensions.persistedQuery { version, sha256Hash }`.
fn read_persisted_query(value: &Value, asked: &mut Asked) -> Result<(), &'static str> {
    const SHAPE: &str =
        "`extensions.persistedQuery` must be `{\"version\": 1, \"sha256Hash\": \"<hex>\"}`";
    let Value::Object(fields) = value else {
        return Err(SHAPE);
    };
    let hash = fields
        .get("sha256Hash")
        .and_then(Value::as_str)
        .filter(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
        .ok_or(SHAPE)?;
    asked.hash = Some(hash.to_owned());
    asked.version = Some(fields.get("version").and_then(Value::as_i64).ok_or(SHAPE)?);
    Ok(())
}

fn parse_get_params(mut params: HashMap<String, String>) -> Result<Incoming, &'static str> {
    let mut fields = Map::new();
    if let Some(query) = params.remove("query").filter(|q| !q.is_empty()) {
        fields.insert("query".into(), Value::String(query));
    }
    if let Some(name) = params.remove("operationName").filter(|n| !n.is_empty()) {
        fields.insert("operationName".into(), Value::String(name));
    }
    for key in ["variables", "extensions"] {
        if let Some(raw) = params.remove(key).filter(|v| !v.is_empty()) {
            let value = serde_json::from_str(&raw).map_err(|_| match key {
                "variables" => "`variables` must be a JSON object",
                _ => "`extensions` must be a JSON object",
            })?;
            fields.insert(key.into(), value);
        }
    }
    request_from_fields(fields)
}

/// Whether the operation a GET request would run is a mutation (or
/// subscription). A document that does not parse is left to the executor,
/// which reports the parse error.
fn selects_mutation(request: &mut async_graphql::Request) -> bool {
    let name = request.operation_name.clone();
    let Ok(document) = request.parsed_query() else {
        return false;
    };
    let operation = match (&document.operations, name.as_deref()) {
        (DocumentOperations::Single(op), _) => Some(op),
        (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name),
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => ops.values().next(),
        (DocumentOperations::Multiple(_), None) => None,
    };
    operation.is_some_and(|op| op.node.ty != OperationType::Query)
}

/// Most errors one response lists; the rest are counted in one more. A
/// document can make thousands (an unknown directive repeated, say), and
/// a response is not the place to list them all.
const MAX_ERRORS: usize = 20;

/// Runs the request and renders the response. A response whose errors all
/// came before execution (parse, validation, limits) is a request error:
/// it has no `data` entry and, for `application/graphql-response+json`,
/// status 400.
async fn execute(state: &AppState, request: async_graphql::Request, format: Format) -> Response {
    // Fresh loaders per request: their caches must not outlive it, and
    // their fetches start when the execution is blocked (see loaders.rs).
    let (loaders, fetches) = Loaders::new(&state.store);
    let request = request.data(loaders);
    let request = request.data(crate::graphql::gate::RequestSpan(tracing::Span::current()));
    let response = run_batched(fetches, state.schema.execute(request))
        .instrument(tracing::info_span!(
            "graphql",
            operation = tracing::field::Empty
        ))
        .await;
    let request_error = response.data == async_graphql::Value::Null
        && !response.errors.is_empty()
        && response.errors.iter().all(|e| e.path.is_empty());
    let total_errors = response.errors.len();
    let mut errors: Vec<ServerError> = response
        .errors
        .into_iter()
        .take(MAX_ERRORS)
        .map(|e| ensure_code(e, request_error))
        .inspect(|e| crate::metrics::record_error(code_of(e).map_or("UNKNOWN", Code::as_str)))
        .collect();
    if total_errors > MAX_ERRORS {
        let more = ServerError::new(
            format!("… and {} more errors like these", total_errors - MAX_ERRORS),
            None,
        );
        let code = errors
            .last()
            .and_then(code_of)
            .unwrap_or(Code::GraphqlValidationFailed);
        errors.push(with_code(more, code));
    }
    let mut body = Map::new();
    if !request_error {
        body.insert(
            "data".into(),
            response.data.into_json().unwrap_or(Value::Null),
        );
    }
    if !errors.is_empty() {
        body.insert(
            "errors".into(),
            serde_json::to_value(&errors).unwrap_or(Value::Null),
        );
    }
    if !response.extensions.is_empty() {
        body.insert(
            "extensions".into(),
            serde_json::to_value(&response.extensions).unwrap_or(Value::Null),
        );
    }
    let status = if request_error && format == Format::GraphqlResponseJson {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    json_response(status, format, &Value::Object(body))
}

/// Gives a code to an error that reached here without one: a request-level
/// error is a validation failure (an unknown operation name, say); an
/// argument that failed to coerce is bad input; anything else is internal,
/// logged in full and reported generically.
fn ensure_code(err: ServerError, request_error: bool) -> ServerError {
    let has_code = err
        .extensions
        .as_ref()
        .is_some_and(|e| e.get("code").is_some());
    if has_code {
        return err;
    }
    if request_error {
        return with_code(err, Code::GraphqlValidationFailed);
    }
    if err.message.starts_with("Failed to parse") || err.message.starts_with("Invalid value") {
        return with_code(err, Code::BadUserInput);
    }
    tracing::error!(error = %err.message, path = ?err.path, "uncoded resolver error");
    let mut generic = ServerError::new(INTERNAL_MESSAGE, None);
    generic.locations = err.locations;
    generic.path = err.path;
    with_code(generic, Code::InternalServerError)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ACCEPT: &str = "acceptInvitation(token: \"t\", firstName: \"A\", lastName: \"B\", password: \"p\") { userId }";

    fn anonymous(query: &str, operation: Option<&str>) -> bool {
        let mut request = async_graphql::Request::new(query);
        if let Some(name) = operation {
            request = request.operation_name(name);
        }
        is_anonymous_operation(&mut request)
    }

    #[test]
    fn only_a_mutation_whose_sole_root_field_accepts_an_invitation_is_anonymous() {
        assert!(anonymous(&format!("mutation {{ {ACCEPT} }}"), None));
        assert!(anonymous(
            &format!("mutation {{ renamed: {ACCEPT} }}"),
            None
        ));
        assert!(anonymous(
            &format!("query Q {{ viewer {{ isAdmin }} }} mutation M {{ {ACCEPT} }}"),
            Some("M")
        ));
        for refused in [
            format!("query {{ {ACCEPT} }}"),
            format!("mutation {{ {ACCEPT} a2: {ACCEPT} }}"),
            format!("mutation {{ {ACCEPT} deleteUser(id: \"x\") }}"),
            format!("mutation {{ ...F }} fragment F on Mutation {{ {ACCEPT} }}"),
            format!("mutation {{ ... on Mutation {{ {ACCEPT} }} }}"),
            "mutation { deleteUser(id: \"x\") }".to_owned(),
            "not graphql".to_owned(),
        ] {
            assert!(!anonymous(&refused, None), "{refused}");
        }
        assert!(!anonymous(
            &format!("query Q {{ viewer {{ isAdmin }} }} mutation M {{ {ACCEPT} }}"),
            Some("Q")
        ));
        assert!(!anonymous(
            &format!("query Q {{ viewer {{ isAdmin }} }} mutation M {{ {ACCEPT} }}"),
            None
        ));
    }
}
