//! What the gateway writes to its logs: JSON lines that correlate by
//! request id and operation, and never a token or a secret.

use std::io::Write;
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use switchboard::telemetry;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

use crate::helpers::{TestApp, data};

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Capture {
    type Writer = Capture;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

impl Capture {
    fn lines(&self) -> Vec<Value> {
        String::from_utf8(self.0.lock().unwrap().clone())
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|_| panic!("not a JSON log line: {l}")))
            .collect()
    }
}

#[tokio::test]
async fn logs_are_json_with_request_id_and_operation_and_never_the_token() {
    let app = TestApp::spawn().await;
    let capture = Capture::default();
    let _guard = tracing::subscriber::set_default(telemetry::subscriber(
        capture.clone(),
        EnvFilter::new("debug"),
    ));
    let token = app.admin_token();
    let secret_text = "s3cr3t-description-value";
    let body = app
        .post_graphql(
            Some(&token),
            "mutation CreateTier($input: CreatePricingTierInput!) { createPricingTier(input: $input) { id } }",
            json!({"input": {"name": "Logged", "currency": "USD", "ratePerMinute": "1", "description": secret_text}}),
        )
        .await
        .json();
    data(&body);
    let password = "hunter2-but-much-longer";
    let customer = app
        .post_graphql(
            Some(&token),
            "mutation($input: CreateCustomerInput!) { createCustomer(input: $input) { id } }",
            json!({"input": {"customerType": "PERSONAL", "firstName": "Log", "lastName": "Test",
                             "email": "log-test@example.com", "password": password,
                             "country": "US", "currency": "USD"}}),
        )
        .await
        .json();
    data(&customer);
    let rejected = app
        .post_graphql(Some("not-a-real-token"), "{ __typename }", json!({}))
        .await;
    assert_eq!(rejected.status, 401);

    let lines = capture.lines();
    let completed: Vec<&Value> = lines
        .iter()
        .filter(|l| l["message"] == "request completed")
        .collect();
    assert_eq!(completed.len(), 3, "{lines:?}");
    let first = completed[0];
    assert_eq!(first["span"]["operation"], "CreateTier");
    assert_eq!(first["status"], 200);
    assert!(!first["span"]["request_id"].as_str().unwrap().is_empty());
    assert_eq!(completed[2]["status"], 401);

    let everything = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    for secret in [
        token.as_str(),
        "not-a-real-token",
        secret_text,
        password,
        crate::helpers::SECRET,
    ] {
        assert!(!everything.contains(secret), "the logs contain `{secret}`");
    }
}
