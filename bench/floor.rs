//! The cold-start floor: a hello-world `lambda_http` function built with the
//! same profile as the gateway. `scripts/bench` starts it against the same
//! Runtime API stand-in with the same event, so the difference between its
//! cold start and the gateway's is what the gateway itself adds.

use lambda_http::{Body, Error, Request, Response, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_http::run(service_fn(|_request: Request| async {
        Ok::<_, Error>(
            Response::builder()
                .header("content-type", "application/json")
                .body(Body::from(r#"{"data":{"hello":"world"}}"#))?,
        )
    }))
    .await
}
