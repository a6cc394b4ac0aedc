//! The HS256 secret read from Secrets Manager during init, through an SDK
//! test double at the boundary (there is no Secrets Manager locally).

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_secretsmanager::operation::get_secret_value::{
    GetSecretValueError, GetSecretValueOutput,
};
use aws_sdk_secretsmanager::types::error::ResourceNotFoundException;
use aws_smithy_mocks::{RuleMode, mock, mock_client};
use serde_json::json;
use switchboard::auth::TokenIssuer;
use switchboard::config::Config;

use crate::helpers::{TestApp, data};

const ARN: &str = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:switchboard-jwt-AbCdEf";
const STORED: &str = "a-secret-kept-in-secrets-manager-0123456789";

fn config_with_arn() -> Config {
    let vars = HashMap::from([
        ("JWT_SECRET_ARN".to_owned(), ARN.to_owned()),
        (
            "ACCOUNT_SECRET_KEY".to_owned(),
            crate::helpers::ACCOUNT_KEY.to_owned(),
        ),
    ]);
    Config::from_vars(&vars).expect("JWT_SECRET_ARN alone is a valid configuration")
}

#[tokio::test]
async fn the_secret_is_read_once_at_init_and_verifies_tokens() {
    let rule = mock!(aws_sdk_secretsmanager::Client::get_secret_value)
        .match_requests(|req| req.secret_id() == Some(ARN))
        .then_output(|| {
            GetSecretValueOutput::builder()
                .secret_string(STORED)
                .build()
        });
    let secrets = mock_client!(aws_sdk_secretsmanager, RuleMode::Sequential, &[&rule]);
    let config = config_with_arn();
    assert!(config.jwt.secret.is_none());
    let config = switchboard::app::with_secret_from(&config, &secrets)
        .await
        .unwrap();
    assert_eq!(rule.num_calls(), 1);
    assert_eq!(config.jwt.secret_bytes(), STORED.as_bytes());
    assert!(
        !format!("{config:?}").contains(STORED),
        "the secret never prints"
    );

    let app = TestApp::spawn().await;
    let app = TestApp::over(app.store.clone(), &config);
    let token = TokenIssuer::new(&config.jwt).mint("ops", true, Duration::from_mins(1));
    let reply = app
        .post_graphql(
            Some(&token),
            "{ pricingTiers { edges { cursor } } }",
            json!({}),
        )
        .await;
    data(&reply.json());
    // A token signed with another secret is not.
    let other = TestApp::issuer_for_tests().mint("ops", true, Duration::from_mins(1));
    let reply = app
        .post_graphql(Some(&other), "{ __typename }", json!({}))
        .await;
    assert_eq!(reply.status, http::StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_missing_or_weak_secret_stops_start_up_naming_the_variable() {
    let missing = mock!(aws_sdk_secretsmanager::Client::get_secret_value).then_error(|| {
        GetSecretValueError::ResourceNotFoundException(
            ResourceNotFoundException::builder()
                .message("Secrets Manager can't find the specified secret.")
                .build(),
        )
    });
    let secrets = mock_client!(aws_sdk_secretsmanager, RuleMode::Sequential, &[&missing]);
    let err = switchboard::app::with_secret_from(&config_with_arn(), &secrets)
        .await
        .unwrap_err();
    assert_eq!(err.variable, "JWT_SECRET_ARN");
    assert!(err.problem.contains(ARN), "{}", err.problem);

    let weak = mock!(aws_sdk_secretsmanager::Client::get_secret_value).then_output(|| {
        GetSecretValueOutput::builder()
            .secret_string("short")
            .build()
    });
    let secrets = mock_client!(aws_sdk_secretsmanager, RuleMode::Sequential, &[&weak]);
    let err = switchboard::app::with_secret_from(&config_with_arn(), &secrets)
        .await
        .unwrap_err();
    assert_eq!(err.variable, "JWT_SECRET_ARN");
    assert!(!err.problem.contains("short"), "{}", err.problem);
    assert!(err.problem.contains("32 bytes"), "{}", err.problem);
}
