//! The table definition, in one place: `create-tables` creates it from here
//! and a test checks that `template.yaml` declares exactly the same keys and
//! indexes, so local, test and deployed tables cannot drift apart.

use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::create_table::CreateTableError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, TableStatus, TimeToLiveSpecification, TimeToLiveStatus,
};
use serde_json::{Value, json};

use super::StoreError;
use super::error::from_sdk;
use super::keys::{INDEXES, PK, SK, TTL_ATTRIBUTE};

/// What `create_table` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Created {
    /// The table was created and is active.
    New,
    /// The table already existed; nothing changed.
    AlreadyExisted,
}

/// Every key attribute, with its type; all keys are strings.
fn key_attributes() -> Vec<&'static str> {
    let mut names = vec![PK, SK];
    for (_, pk, sk) in INDEXES {
        names.extend([pk, sk]);
    }
    names
}

/// The table's key schema, attribute definitions and global secondary
/// indexes in CloudFormation's `AWS::DynamoDB::Table` property shape.
pub fn cloudformation_properties() -> Value {
    let schema = |pk: &str, sk: &str| {
        json!([
            {"AttributeName": pk, "KeyType": "HASH"},
            {"AttributeName": sk, "KeyType": "RANGE"},
        ])
    };
    json!({
        "AttributeDefinitions": key_attributes()
            .iter()
            .map(|name| json!({"AttributeName": name, "AttributeType": "S"}))
            .collect::<Vec<_>>(),
        "KeySchema": schema(PK, SK),
        "GlobalSecondaryIndexes": INDEXES
            .iter()
            .map(|(index, pk, sk)| json!({
                "IndexName": index,
                "KeySchema": schema(pk, sk),
                "Projection": {"ProjectionType": "ALL"},
            }))
            .collect::<Vec<_>>(),
        "BillingMode": "PAY_PER_REQUEST",
        "TimeToLiveSpecification": {"AttributeName": TTL_ATTRIBUTE, "Enabled": true},
    })
}

fn key_schema(pk: &str, sk: &str) -> Result<Vec<KeySchemaElement>, StoreError> {
    [(pk, KeyType::Hash), (sk, KeyType::Range)]
        .into_iter()
        .map(|(name, kind)| {
            KeySchemaElement::builder()
                .attribute_name(name)
                .key_type(kind)
                .build()
                .map_err(StoreError::internal)
        })
        .collect()
}

/// Creates the table `name` with every index the code uses, and waits until
/// it is active. Idempotent: an existing table is left as it is.
pub async fn create_table(client: &Client, name: &str) -> Result<Created, StoreError> {
    let mut request = client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .set_key_schema(Some(key_schema(PK, SK)?));
    for attribute in key_attributes() {
        request = request.attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(attribute)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .map_err(StoreError::internal)?,
        );
    }
    for (index, pk, sk) in INDEXES {
        request = request.global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name(index)
                .set_key_schema(Some(key_schema(pk, sk)?))
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::All)
                        .build(),
                )
                .build()
                .map_err(StoreError::internal)?,
        );
    }
    let created = match request.send().await {
        Ok(_) => Created::New,
        Err(SdkError::ServiceError(ctx))
            if matches!(ctx.err(), CreateTableError::ResourceInUseException(_)) =>
        {
            Created::AlreadyExisted
        }
        Err(err) => return Err(from_sdk(err)),
    };
    wait_until_active(client, name).await?;
    enable_ttl(client, name).await?;
    Ok(created)
}

/// Turns on DynamoDB's time to live on [`TTL_ATTRIBUTE`] (expired
/// invitations), unless it is already on.
async fn enable_ttl(client: &Client, name: &str) -> Result<(), StoreError> {
    let described = client
        .describe_time_to_live()
        .table_name(name)
        .send()
        .await
        .map_err(from_sdk)?;
    let on = described
        .time_to_live_description()
        .and_then(|d| d.time_to_live_status())
        .is_some_and(|s| matches!(s, TimeToLiveStatus::Enabled | TimeToLiveStatus::Enabling));
    if on {
        return Ok(());
    }
    client
        .update_time_to_live()
        .table_name(name)
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .attribute_name(TTL_ATTRIBUTE)
                .enabled(true)
                .build()
                .map_err(StoreError::internal)?,
        )
        .send()
        .await
        .map_err(from_sdk)?;
    Ok(())
}

async fn wait_until_active(client: &Client, name: &str) -> Result<(), StoreError> {
    for _ in 0..600 {
        let table = client
            .describe_table()
            .table_name(name)
            .send()
            .await
            .map_err(from_sdk)?;
        let status = table.table().and_then(|t| t.table_status());
        if status == Some(&TableStatus::Active) {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(StoreError::internal(format!(
        "table {name} did not become active in 60 s"
    )))
}
