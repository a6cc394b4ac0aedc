//! Outgoing email through Amazon SES v2: the one adapter between the
//! gateway and a mail service, as `store` is the one between it and
//! DynamoDB. It knows SES and nothing of GraphQL; what an email says is
//! composed in the domain (`domain::invitation::email`).
//!
//! Locally, `scripts/dev` and `scripts/test` start the SES v2 emulator and
//! point the SDK at it with the standard `AWS_ENDPOINT_URL_SESV2`.

use std::sync::Arc;

use aws_sdk_sesv2::Client;
use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message};
use tokio::sync::OnceCell;

use crate::config::InvitationMailConfig;
use crate::domain::invitation::email::Email;

/// Why an email was not sent. The source goes to the logs only.
#[derive(Debug, thiserror::Error)]
#[error("the email could not be sent")]
pub struct MailError(#[source] Box<dyn std::error::Error + Send + Sync>);

/// Sends emails from the configured sender. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Mailer {
    settings: Arc<InvitationMailConfig>,
    client: Arc<OnceCell<Client>>,
}

impl Mailer {
    /// A mailer over an SES client built from `aws` (production: during
    /// init, so no request pays for it).
    pub fn new(settings: InvitationMailConfig, aws: &aws_config::SdkConfig) -> Self {
        Self::with_client(settings, Client::new(aws))
    }

    /// A mailer over a given SES client (tests point one at a dead port).
    pub fn with_client(settings: InvitationMailConfig, client: Client) -> Self {
        Self {
            settings: Arc::new(settings),
            client: Arc::new(OnceCell::new_with(Some(client))),
        }
    }

    /// A mailer whose SES client is built from the standard environment on
    /// first use (an app built without an AWS configuration at hand).
    pub fn from_env_lazily(settings: InvitationMailConfig) -> Self {
        Self {
            settings: Arc::new(settings),
            client: Arc::new(OnceCell::new()),
        }
    }

    /// The accept page invitation links open.
    pub fn accept_url(&self) -> &url::Url {
        &self.settings.accept_url
    }

    async fn client(&self) -> &Client {
        self.client
            .get_or_init(|| async {
                let aws = crate::store::aws_config(&crate::store::Timeouts::default()).await;
                Client::new(&aws)
            })
            .await
    }

    /// Sends `email` (text and HTML parts, UTF-8) to its one recipient.
    pub async fn send(&self, email: &Email) -> Result<(), MailError> {
        let content = |data: &str| {
            Content::builder()
                .data(data)
                .charset("UTF-8")
                .build()
                .map_err(|e| MailError(Box::new(e)))
        };
        let message = Message::builder()
            .subject(content(&email.subject)?)
            .body(
                Body::builder()
                    .text(content(&email.text)?)
                    .html(content(&email.html)?)
                    .build(),
            )
            .build();
        self.client()
            .await
            .send_email()
            .from_email_address(&self.settings.from)
            .set_reply_to_addresses(self.settings.reply_to.clone().map(|r| vec![r]))
            .destination(Destination::builder().to_addresses(&email.to).build())
            .content(EmailContent::builder().simple(message).build())
            .send()
            .await
            .map_err(|e| MailError(Box::new(e)))?;
        Ok(())
    }
}
