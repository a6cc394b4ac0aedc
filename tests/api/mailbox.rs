//! The SES v2 emulator's mailbox, as the invitee sees it: every email the
//! gateway sent in this test run, read over the emulator's HTTP API
//! (`GET /store`) at the address `scripts/test` exported as
//! `AWS_ENDPOINT_URL_SESV2`. Tests share the one emulator, so each reads
//! only the mail of its own, unique addresses.

use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

/// One email as the emulator kept it.
#[derive(Debug, Clone)]
pub struct Mail {
    pub from: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

impl Mail {
    /// The accept token from the link in the text part (`#token=…`).
    pub fn token(&self) -> String {
        let start = self
            .text
            .find("#token=")
            .unwrap_or_else(|| panic!("no accept link in the email: {}", self.text))
            + "#token=".len();
        self.text[start..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .collect()
    }
}

fn endpoint() -> String {
    std::env::var("AWS_ENDPOINT_URL_SESV2").expect(
        "invitation tests need the SES v2 emulator; run them with `scripts/test`, \
         which starts one and sets AWS_ENDPOINT_URL_SESV2",
    )
}

/// Everything the emulator holds, parsed.
async fn store() -> Value {
    let url = url::Url::parse(&endpoint()).expect("AWS_ENDPOINT_URL_SESV2 is a URL");
    let host = url.host_str().expect("a host").to_owned();
    let port = url.port_or_known_default().expect("a port");
    let mut stream = tokio::net::TcpStream::connect((host.as_str(), port))
        .await
        .expect("the SES emulator answers");
    stream
        .write_all(format!("GET /store HTTP/1.0\r\nHost: {host}:{port}\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    let text = String::from_utf8(raw).expect("UTF-8 from the emulator");
    let (_, body) = text.split_once("\r\n\r\n").expect("an HTTP response");
    serde_json::from_str(body).expect("the emulator's store is JSON")
}

/// Every email sent to `to` so far, oldest first.
pub async fn mails_to(to: &str) -> Vec<Mail> {
    let store = store().await;
    store["emails"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|m| {
            m["destination"]["to"].as_array().is_some_and(|list| {
                list.iter()
                    .any(|a| a.as_str().is_some_and(|a| a.eq_ignore_ascii_case(to)))
            })
        })
        .map(|m| Mail {
            from: m["from"].as_str().unwrap_or_default().to_owned(),
            subject: m["subject"].as_str().unwrap_or_default().to_owned(),
            text: m["body"]["text"].as_str().unwrap_or_default().to_owned(),
            html: m["body"]["html"].as_str().unwrap_or_default().to_owned(),
        })
        .collect()
}

/// The newest email to `to`, waiting a little for it (the gateway has
/// answered by the time a test asks, so it is normally there at once).
pub async fn latest_to(to: &str) -> Mail {
    for _ in 0..50 {
        if let Some(mail) = mails_to(to).await.pop() {
            return mail;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no email to {to} reached the SES emulator");
}
