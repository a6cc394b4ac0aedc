//! Per-request metrics as CloudWatch Embedded Metric Format (EMF): one JSON
//! log line per request, which CloudWatch turns into metrics with no API
//! call and no agent (Lambda ships stdout to CloudWatch Logs).
//!
//! Each request runs inside [`scope`]; the code that knows a fact records
//! it on the request's [`RequestMetrics`] through the task-local: the gate
//! the operation name, the HTTP layer the error codes, an SDK interceptor
//! each DynamoDB call. The whole request (DataLoader fetches included) runs
//! on one task, so nothing is missed; outside a request, recording is a
//! no-op.
//!
//! The `Operation` dimension is bounded: a name that is not a plain GraphQL
//! name of at most 64 characters counts as `(other)`, an unnamed operation
//! as `(anonymous)`, and every operation of a caller without a token as
//! [`WITHOUT_TOKEN`], so only signed-in clients name operations (each new
//! name a few custom metrics, which trusted documents bound further).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use aws_sdk_dynamodb::config::interceptors::{
    AfterDeserializationInterceptorContextRef, BeforeSerializationInterceptorContextMut,
    BeforeTransmitInterceptorContextRef,
};
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::error::BoxError;
use serde_json::{Map, Value, json};

tokio::task_local! {
    static CURRENT: Arc<RequestMetrics>;
}

/// What one request did.
#[derive(Debug, Default)]
pub struct RequestMetrics {
    operation: Mutex<Option<String>>,
    dynamodb_calls: AtomicU32,
    /// Capacity units DynamoDB reported, in thousandths (an atomic integer
    /// keeps recording lock-free; DynamoDB reports halves and whole units).
    consumed_milli_units: AtomicU64,
    /// Argon2id hashes computed (each costs ~19 MiB and tens of ms of a core).
    password_hashes: AtomicU32,
    errors: Mutex<BTreeMap<&'static str, u32>>,
    refusals: Mutex<BTreeMap<&'static str, u32>>,
}

/// Runs `future` with `metrics` as the current request's metrics.
pub async fn scope<F: Future>(metrics: Arc<RequestMetrics>, future: F) -> F::Output {
    CURRENT.scope(metrics, future).await
}

fn with_current(f: impl FnOnce(&RequestMetrics)) {
    let _ = CURRENT.try_with(|metrics| f(metrics));
}

/// The `Operation` of every request made without a token.
pub const WITHOUT_TOKEN: &str = "WithoutToken";

/// Records the GraphQL operation the current request runs.
pub fn record_operation(name: Option<&str>) {
    let bounded = match name {
        None => "(anonymous)".to_owned(),
        Some(name) if is_plain_name(name) => name.to_owned(),
        Some(_) => "(other)".to_owned(),
    };
    with_current(|m| {
        *m.operation.lock().unwrap_or_else(PoisonError::into_inner) = Some(bounded);
    });
}

/// Records one Argon2id password hash computed for the current request.
pub fn record_password_hash() {
    with_current(|m| {
        m.password_hashes.fetch_add(1, Ordering::Relaxed);
    });
}

/// Records one credential check refused by policy, by its reason.
pub fn record_refusal(reason: &'static str) {
    with_current(|m| {
        *m.refusals
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(reason)
            .or_default() += 1;
    });
}

/// Records one error the current request answers with, by its code.
pub fn record_error(code: &'static str) {
    with_current(|m| {
        *m.errors
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(code)
            .or_default() += 1;
    });
}

fn is_plain_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        && !name.as_bytes()[0].is_ascii_digit()
}

fn in_request() -> bool {
    CURRENT.try_with(|_| ()).is_ok()
}

/// Applies `$body` to the input or output of whichever DynamoDB operation
/// it is, for the operations this service calls.
macro_rules! each_operation {
    ($value:expr, $method:ident, $binding:ident => $body:expr, [$($kind:ident),*]) => {
        $(
            if let Some($binding) = $value.$method::<$kind>() {
                $body;
            }
        )*
    };
}

/// Counts each DynamoDB call (each attempt) of the current request, and
/// the capacity units each consumed: inside a request it asks DynamoDB to
/// report them (`ReturnConsumedCapacity: TOTAL`, free of charge) and adds
/// up what comes back. Outside a request it does neither.
#[derive(Debug, Clone, Copy, Default)]
pub struct DynamoDbCalls;

impl Intercept for DynamoDbCalls {
    fn name(&self) -> &'static str {
        "DynamoDbCalls"
    }

    fn modify_before_serialization(
        &self,
        context: &mut BeforeSerializationInterceptorContextMut<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        use aws_sdk_dynamodb::operation::{
            batch_get_item::BatchGetItemInput, batch_write_item::BatchWriteItemInput,
            delete_item::DeleteItemInput, get_item::GetItemInput, put_item::PutItemInput,
            query::QueryInput, transact_get_items::TransactGetItemsInput,
            transact_write_items::TransactWriteItemsInput, update_item::UpdateItemInput,
        };
        use aws_sdk_dynamodb::types::ReturnConsumedCapacity;
        if !in_request() {
            return Ok(());
        }
        let input = context.input_mut();
        each_operation!(input, downcast_mut, i => {
            i.return_consumed_capacity
                .get_or_insert(ReturnConsumedCapacity::Total);
        }, [GetItemInput, BatchGetItemInput, QueryInput, PutItemInput, UpdateItemInput,
            DeleteItemInput, TransactWriteItemsInput, TransactGetItemsInput, BatchWriteItemInput]);
        Ok(())
    }

    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        use aws_sdk_dynamodb::operation::{
            batch_get_item::BatchGetItemOutput, batch_write_item::BatchWriteItemOutput,
            delete_item::DeleteItemOutput, get_item::GetItemOutput, put_item::PutItemOutput,
            query::QueryOutput, transact_get_items::TransactGetItemsOutput,
            transact_write_items::TransactWriteItemsOutput, update_item::UpdateItemOutput,
        };
        let Ok(output) = context.output_or_error() else {
            return Ok(());
        };
        let mut units = 0.0;
        each_operation!(output, downcast_ref, o => {
            units += o.consumed_capacity.as_ref().and_then(|c| c.capacity_units).unwrap_or(0.0);
        }, [GetItemOutput, QueryOutput, PutItemOutput, UpdateItemOutput, DeleteItemOutput]);
        each_operation!(output, downcast_ref, o => {
            units += o.consumed_capacity.iter().flatten().filter_map(|c| c.capacity_units).sum::<f64>();
        }, [BatchGetItemOutput, TransactWriteItemsOutput, TransactGetItemsOutput,
            BatchWriteItemOutput]);
        if units > 0.0 {
            // Thousandths of a unit: exact for DynamoDB's halves.
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let milli = (units * 1000.0).round() as u64;
            with_current(|m| {
                m.consumed_milli_units.fetch_add(milli, Ordering::Relaxed);
            });
        }
        Ok(())
    }

    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        with_current(|m| {
            m.dynamodb_calls.fetch_add(1, Ordering::Relaxed);
        });
        Ok(())
    }
}

/// Where EMF lines go: stdout in production, a buffer in tests.
#[derive(Clone, Debug)]
pub enum Sink {
    /// Metrics are off (the default outside Lambda).
    Off,
    /// One line per request on stdout.
    Stdout,
    /// Lines kept in memory, for tests.
    Memory(Arc<Mutex<Vec<String>>>),
}

/// Turns requests' metrics into EMF lines under one namespace.
#[derive(Clone, Debug)]
pub struct Emitter {
    namespace: Arc<str>,
    sink: Sink,
}

/// What the HTTP edge knows when a request ends.
#[derive(Debug)]
pub struct Finished<'a> {
    /// The request id, for finding the request's log lines.
    pub request_id: &'a str,
    /// The X-Ray trace id, when there is one.
    pub trace_id: Option<&'a str>,
    /// The HTTP status answered.
    pub status: u16,
    /// Wall time from the edge's start to the response.
    pub duration: Duration,
}

impl Emitter {
    /// An emitter writing to `sink` under `namespace`.
    pub fn new(namespace: impl Into<Arc<str>>, sink: Sink) -> Self {
        Self {
            namespace: namespace.into(),
            sink,
        }
    }

    /// Whether lines are written at all; when not, requests skip the
    /// bookkeeping entirely.
    pub fn enabled(&self) -> bool {
        !matches!(self.sink, Sink::Off)
    }

    /// Writes the EMF line for a finished request.
    pub fn emit(&self, metrics: &RequestMetrics, finished: &Finished<'_>) {
        let line = self.line(metrics, finished);
        match &self.sink {
            Sink::Off => {}
            Sink::Stdout => println!("{line}"),
            Sink::Memory(lines) => lines
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(line),
        }
    }

    fn line(&self, metrics: &RequestMetrics, finished: &Finished<'_>) -> String {
        let operation = metrics
            .operation
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
            .unwrap_or_else(|| "(none)".to_owned());
        let errors = metrics
            .errors
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let mut definitions = vec![
            json!({"Name": "Latency", "Unit": "Milliseconds"}),
            json!({"Name": "DynamoDBCalls", "Unit": "Count"}),
            json!({"Name": "ConsumedCapacity", "Unit": "Count"}),
            json!({"Name": "PasswordHashes", "Unit": "Count"}),
            json!({"Name": "Errors", "Unit": "Count"}),
        ];
        let mut line = Map::new();
        line.insert("Operation".into(), Value::String(operation));
        line.insert(
            "Latency".into(),
            json!(finished.duration.as_secs_f64() * 1000.0),
        );
        line.insert(
            "DynamoDBCalls".into(),
            json!(metrics.dynamodb_calls.load(Ordering::Relaxed)),
        );
        #[allow(clippy::cast_precision_loss)]
        let consumed = metrics.consumed_milli_units.load(Ordering::Relaxed) as f64 / 1000.0;
        line.insert("ConsumedCapacity".into(), json!(consumed));
        line.insert(
            "PasswordHashes".into(),
            json!(metrics.password_hashes.load(Ordering::Relaxed)),
        );
        line.insert("Errors".into(), json!(errors.values().sum::<u32>()));
        for (code, count) in &errors {
            let name = format!("Errors.{code}");
            definitions.push(json!({"Name": name, "Unit": "Count"}));
            line.insert(name, json!(count));
        }
        let refusals = metrics
            .refusals
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        for (reason, count) in &refusals {
            let name = format!("Refusals.{reason}");
            definitions.push(json!({"Name": name, "Unit": "Count"}));
            line.insert(name, json!(count));
        }
        line.insert("requestId".into(), json!(finished.request_id));
        if let Some(trace) = finished.trace_id {
            line.insert("traceId".into(), json!(trace));
        }
        line.insert("status".into(), json!(finished.status));
        let timestamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis();
        line.insert(
            "_aws".into(),
            json!({
                "Timestamp": u64::try_from(timestamp).unwrap_or(u64::MAX),
                "CloudWatchMetrics": [{
                    "Namespace": &*self.namespace,
                    "Dimensions": [["Operation"]],
                    "Metrics": definitions,
                }],
            }),
        );
        Value::Object(line).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_line_carries_the_operation_latency_calls_and_errors_by_code() {
        let lines = Arc::new(Mutex::new(Vec::new()));
        let emitter = Emitter::new("Test", Sink::Memory(lines.clone()));
        let metrics = Arc::new(RequestMetrics::default());
        scope(metrics.clone(), async {
            record_operation(Some("ListTiers"));
            record_error("BAD_USER_INPUT");
            record_error("BAD_USER_INPUT");
            record_error("NOT_FOUND");
        })
        .await;
        emitter.emit(
            &metrics,
            &Finished {
                request_id: "r1",
                trace_id: Some("Root=1-abc"),
                status: 200,
                duration: Duration::from_millis(12),
            },
        );
        let line: Value = serde_json::from_str(&lines.lock().unwrap()[0]).unwrap();
        assert_eq!(line["Operation"], "ListTiers");
        assert_eq!(line["Errors"], 3);
        assert_eq!(line["Errors.BAD_USER_INPUT"], 2);
        assert_eq!(line["Latency"], 12.0);
        assert_eq!(line["traceId"], "Root=1-abc");
        let directive = &line["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(directive["Namespace"], "Test");
        assert_eq!(directive["Dimensions"], json!([["Operation"]]));
        // Latency, DynamoDBCalls, ConsumedCapacity, PasswordHashes, Errors
        // and one per code.
        assert_eq!(directive["Metrics"].as_array().unwrap().len(), 7);
        assert_eq!(line["PasswordHashes"], 0);
        assert_eq!(line["ConsumedCapacity"], 0.0);
    }

    #[tokio::test]
    async fn operation_names_are_bounded() {
        for (name, expected) in [
            (None, "(anonymous)"),
            (Some("GetTier"), "GetTier"),
            (Some("has space"), "(other)"),
            (Some("9lives"), "(other)"),
        ] {
            let metrics = Arc::new(RequestMetrics::default());
            scope(metrics.clone(), async { record_operation(name) }).await;
            assert_eq!(metrics.operation.lock().unwrap().as_deref(), Some(expected));
        }
        let long = "a".repeat(65);
        let metrics = Arc::new(RequestMetrics::default());
        scope(metrics.clone(), async { record_operation(Some(&long)) }).await;
        assert_eq!(
            metrics.operation.lock().unwrap().as_deref(),
            Some("(other)")
        );
    }

    #[test]
    fn recording_outside_a_request_does_nothing() {
        record_operation(Some("X"));
        record_error("NOT_FOUND");
    }
}
