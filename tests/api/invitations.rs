//! Invitations end to end: the token emailed to the invitee only (read back
//! from the SES emulator) and stored only as a hash, delivery that cannot
//! fail silently, acceptance with the invitee's consent (a new user without
//! a JWT, an existing one only signed in as itself), the inviter's rights
//! at acceptance, replacement, revocation, expiry, registration domains,
//! and two concurrent accepts of one token.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use http::StatusCode;
use serde_json::{Value, json};
use switchboard::store::Store;
use uuid::Uuid;

use crate::helpers::{TestApp, create_customer, data, error_code, error_field};
use crate::mailbox;

const INVITE: &str = "mutation($c: ID!, $e: String!, $p: [Permission!]) {
    inviteCustomerUser(customerId: $c, email: $e, permissions: $p) {
        replayed invitation { id email permissions status createdAt expiresAt acceptedAt
            deliveryStatus sentAt invitedBy { id } customer { id } } } }";
const ACCEPT: &str = "mutation($t: String!) {
    acceptInvitation(token: $t, firstName: \"Ivy\", lastName: \"Invitee\", password: \"a long passphrase\") {
        userId customerId createdUser permissions } }";
const REVOKE: &str = "mutation($id: ID!) { revokeInvitation(id: $id) { id status } }";
const LIST: &str = "query($c: ID!, $s: InvitationStatus) {
    invitations(customerId: $c, status: $s) { edges { node { id email status } } } }";

fn email(tag: &str) -> String {
    format!("{tag}-{}@example.com", Uuid::now_v7().simple())
}

async fn invite(app: &TestApp, customer: Uuid, email: &str, permissions: Value) -> Value {
    app.graphql(
        INVITE,
        json!({"c": customer.to_string(), "e": email, "p": permissions}),
    )
    .await
}

/// Invites `email` (as admin) and returns the invitation id and the token
/// from the email the invitee received.
async fn invited(app: &TestApp, customer: Uuid, email: &str) -> (String, String) {
    let body = invite(app, customer, email, json!(["CUSTOMER_READ", "USERS_READ"])).await;
    let payload = &data(&body)["inviteCustomerUser"];
    (
        payload["invitation"]["id"].as_str().unwrap().to_owned(),
        mailbox::latest_to(email).await.token(),
    )
}

/// Accepts without any Authorization header.
async fn accept(app: &TestApp, token: &str) -> Value {
    let reply = app.post_graphql(None, ACCEPT, json!({"t": token})).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    reply.json()
}

async fn statuses(app: &TestApp, customer: Uuid, status: Value) -> Vec<(String, String)> {
    let body = app
        .graphql(LIST, json!({"c": customer.to_string(), "s": status}))
        .await;
    data(&body)["invitations"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["node"]["id"].as_str().unwrap().to_owned(),
                e["node"]["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn the_token_goes_only_to_the_invitee_and_only_its_hash_is_stored_with_a_ttl() {
    let app = TestApp::spawn().await;
    let (customer, _) = create_customer(&app, json!({})).await;
    let address = email("Ivy");
    let body = invite(&app, customer, &address, json!(["BILLING_READ"])).await;
    let payload = &data(&body)["inviteCustomerUser"];
    let mail = mailbox::latest_to(&address).await;
    let token = mail.token();
    let token = token.as_str();
    assert!(
        !body.to_string().contains(token),
        "the inviter never sees the token"
    );
    assert_eq!(payload["invitation"]["deliveryStatus"], "SENT");
    assert!(payload["invitation"]["sentAt"].is_string());
    assert!(
        mail.text
            .contains(&format!("http://localhost:5173/accept#token={token}"))
    );
    assert!(
        mail.html
            .contains(&format!("http://localhost:5173/accept#token={token}"))
    );
    assert!(mail.text.contains("see billing settings"), "{}", mail.text);
    assert!(
        mail.subject.starts_with("You are invited to join Company "),
        "{}",
        mail.subject
    );
    assert!(mail.text.contains("administrators"), "{}", mail.text);
    assert!(
        mail.from.contains("invitations@switchboard.localhost"),
        "{}",
        mail.from
    );
    assert!(token.len() >= 43, "{token}");
    assert!(
        token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    );
    let invitation = &payload["invitation"];
    assert_eq!(invitation["status"], "PENDING");
    assert_eq!(invitation["permissions"], json!(["BILLING_READ"]));
    assert_eq!(invitation["invitedBy"], Value::Null);
    assert_eq!(invitation["customer"]["id"], json!(customer.to_string()));
    let created =
        chrono::DateTime::parse_from_rfc3339(invitation["createdAt"].as_str().unwrap()).unwrap();
    let expires =
        chrono::DateTime::parse_from_rfc3339(invitation["expiresAt"].as_str().unwrap()).unwrap();
    assert_eq!(expires - created, chrono::Duration::days(7));

    let client = switchboard::store::client_from_env().await;
    let items = client
        .scan()
        .table_name(app.store.table_name())
        .send()
        .await
        .unwrap()
        .items
        .unwrap_or_default();
    let dump = format!("{items:?}");
    assert!(!dump.contains(token), "the token must not be stored");
    let hash = switchboard::domain::invitation::hash_token(token);
    assert!(dump.contains(&hash));
    let with_ttl = items
        .iter()
        .filter(|i| i.get("ttl").is_some_and(|v| v.as_n().is_ok()))
        .filter(|i| {
            i.get("entity")
                .and_then(|v| v.as_s().ok())
                .map(String::as_str)
                != Some("AuditEvent")
        })
        .count();
    assert_eq!(with_ttl, 3, "invitation, token and pending pointer expire");
    let ttl = client
        .describe_time_to_live()
        .table_name(app.store.table_name())
        .send()
        .await
        .unwrap();
    let description = ttl.time_to_live_description().unwrap();
    assert_eq!(description.attribute_name(), Some("ttl"));
}

#[tokio::test]
async fn accepting_without_a_jwt_creates_the_user_and_its_membership() {
    let app = TestApp::spawn().await;
    let (customer, _) = create_customer(&app, json!({})).await;
    let address = email("new");
    let (id, token) = invited(&app, customer, &address).await;
    let body = accept(&app, &token).await;
    let accepted = &data(&body)["acceptInvitation"];
    assert_eq!(accepted["createdUser"], true);
    assert_eq!(accepted["customerId"], json!(customer.to_string()));
    assert_eq!(
        accepted["permissions"],
        json!(["CUSTOMER_READ", "USERS_READ"])
    );
    let user = Uuid::parse_str(accepted["userId"].as_str().unwrap()).unwrap();
    let stored = app.store.users().get(user).await.unwrap().unwrap();
    assert_eq!(stored.email, address);
    assert_eq!(stored.first_name, "Ivy");
    let hash = app
        .store
        .users()
        .password_hash(user)
        .await
        .unwrap()
        .unwrap();
    assert!(switchboard::domain::password::verify(
        "a long passphrase",
        &hash
    ));
    // The new member signs in and sees its customer.
    let seen = app
        .graphql_with(
            &app.token_for(user),
            "query($id: ID!) { customer(id: $id) { id users { edges { node { user { email } } } } } }",
            json!({"id": customer.to_string()}),
        )
        .await;
    assert_eq!(
        data(&seen)["customer"]["users"]["edges"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        statuses(&app, customer, Value::Null).await,
        vec![(id, "ACCEPTED".into())]
    );
    let again = accept(&app, &token).await;
    assert_eq!(error_code(&again), "FAILED_PRECONDITION");
    assert!(
        again["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("already accepted")
    );
}

/// Accepts with `token`'s JWT as Authorization and no names or password.
async fn accept_signed_in(app: &TestApp, jwt: &str, token: &str) -> Value {
    app.graphql_with(
        jwt,
        "mutation($t: String!) { acceptInvitation(token: $t) { userId customerId createdUser permissions } }",
        json!({"t": token}),
    )
    .await
}

#[tokio::test]
async fn an_existing_user_joins_only_signed_in_as_itself() {
    let app = TestApp::spawn().await;
    let (customer, _) = create_customer(&app, json!({})).await;
    let address = email("known");
    let user = app.create_user_with_email(&address).await;
    let (_, token) = invited(&app, customer, &address.to_uppercase()).await;

    // Without a sign-in the token cannot enrol an existing user, nor make
    // a second user with its email.
    let anonymous = accept(&app, &token).await;
    assert_eq!(error_code(&anonymous), "SIGN_IN_REQUIRED");
    assert!(
        app.store
            .memberships()
            .get(customer, user)
            .await
            .unwrap()
            .is_none(),
        "nobody joins a customer they did not choose"
    );
    // Another user's sign-in is not the invitee's consent.
    let other = app.create_user("other").await;
    let wrong = accept_signed_in(&app, &app.token_for(other), &token).await;
    assert_eq!(error_code(&wrong), "FAILED_PRECONDITION");
    assert!(
        app.store
            .memberships()
            .get(customer, other)
            .await
            .unwrap()
            .is_none()
    );

    let body = accept_signed_in(&app, &app.token_for(user), &token).await;
    let accepted = &data(&body)["acceptInvitation"];
    assert_eq!(accepted["createdUser"], false);
    assert_eq!(accepted["userId"], json!(user.to_string()));
    let hash = app
        .store
        .users()
        .password_hash(user)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(hash, "$argon2id$v=19$m=19456,t=2,p=1$test");
    let member = app
        .store
        .memberships()
        .get(customer, user)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(member.permissions.len(), 2);
    // Inviting a member again is a conflict.
    let twice = invite(&app, customer, &address, json!([])).await;
    assert_eq!(error_code(&twice), "CONFLICT");
    assert_eq!(error_field(&twice), "email");
}

#[tokio::test]
async fn a_user_registered_through_an_invitation_never_becomes_a_new_customers_owner_by_email() {
    // The attack: an owner invites an outsider's address and accepts it
    // itself. Now the token reaches only that mailbox, so the owner has
    // nothing to accept with.
    let app = TestApp::spawn().await;
    let (customer, owner) = create_customer(&app, json!({})).await;
    let victim = email("ceo");
    let invited = app
        .graphql_with(
            &app.token_for(owner),
            INVITE,
            json!({"c": customer.to_string(), "e": victim, "p": []}),
        )
        .await;
    let payload = &data(&invited)["inviteCustomerUser"];
    let text = invited.to_string();
    let token = mailbox::latest_to(&victim).await.token();
    assert!(!text.contains(&token), "the inviter never holds the token");
    assert_eq!(
        payload["invitation"]["invitedBy"]["id"],
        json!(owner.to_string())
    );
    assert!(
        app.store
            .users()
            .get_by_email(&victim)
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn an_unknown_token_is_answered_exactly_like_a_revoked_one() {
    let app = TestApp::spawn().await;
    let (customer, _) = create_customer(&app, json!({})).await;
    let (id, token) = invited(&app, customer, &email("revoked")).await;
    let revoked = app.graphql(REVOKE, json!({"id": id})).await;
    assert_eq!(data(&revoked)["revokeInvitation"]["status"], "REVOKED");
    let with_revoked = accept(&app, &token).await;
    let with_unknown = accept(&app, &switchboard::domain::invitation::generate_token()).await;
    let with_garbage = accept(&app, "x").await;
    assert_eq!(error_code(&with_revoked), "FAILED_PRECONDITION");
    assert_eq!(with_revoked, with_unknown);
    assert_eq!(with_revoked, with_garbage);
    let again = app.graphql(REVOKE, json!({"id": id})).await;
    assert_eq!(error_code(&again), "FAILED_PRECONDITION");
    let missing = app
        .graphql(REVOKE, json!({"id": Uuid::now_v7().to_string()}))
        .await;
    assert_eq!(error_code(&missing), "NOT_FOUND");
}

#[tokio::test]
async fn inviting_the_same_email_again_replaces_the_pending_invitation() {
    let app = TestApp::spawn().await;
    let (customer, _) = create_customer(&app, json!({})).await;
    let address = email("twice");
    let (first, old_token) = invited(&app, customer, &address).await;
    let (second, new_token) = invited(&app, customer, &address.to_uppercase()).await;
    assert_ne!(old_token, new_token);
    let listed = statuses(&app, customer, Value::Null).await;
    assert_eq!(
        listed,
        vec![
            (second.clone(), "PENDING".into()),
            (first.clone(), "REVOKED".into())
        ]
    );
    assert_eq!(statuses(&app, customer, json!("PENDING")).await.len(), 1);
    assert_eq!(
        error_code(&accept(&app, &old_token).await),
        "FAILED_PRECONDITION"
    );
    data(&accept(&app, &new_token).await);
    // After acceptance a new invitation to another email is independent.
    let (_, other) = invited(&app, customer, &email("other")).await;
    data(&accept(&app, &other).await);
}

#[tokio::test]
async fn an_expired_invitation_reads_as_expired_and_cannot_be_accepted() {
    let app = TestApp::spawn_with(&[("INVITATION_TTL", "1ms")]).await;
    let (customer, _) = create_customer(&app, json!({})).await;
    let (id, token) = invited(&app, customer, &email("late")).await;
    // The lifetime is one millisecond: wait until the gateway itself says
    // the invitation has expired, rather than assume a time.
    let mut expired = false;
    for _ in 0..200 {
        if statuses(&app, customer, json!("EXPIRED")).await == vec![(id.clone(), "EXPIRED".into())]
        {
            expired = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    assert!(expired);
    assert!(statuses(&app, customer, json!("PENDING")).await.is_empty());
    let refused = accept(&app, &token).await;
    assert_eq!(error_code(&refused), "FAILED_PRECONDITION");
    assert!(
        refused["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("expired")
    );
    let revoke = app.graphql(REVOKE, json!({"id": id})).await;
    assert_eq!(error_code(&revoke), "FAILED_PRECONDITION");
}

#[tokio::test]
async fn registration_domains_and_status_limit_invitations() {
    let app = TestApp::spawn().await;
    let (customer, _) =
        create_customer(&app, json!({"allowedDomainsRegistration": ["acme.com"]})).await;
    let refused = invite(&app, customer, &email("outside"), json!([])).await;
    assert_eq!(error_code(&refused), "FAILED_PRECONDITION");
    assert_eq!(error_field(&refused), "email");
    let inside = format!("in-{}@acme.com", Uuid::now_v7().simple());
    let (_, token) = invited(&app, customer, &inside).await;
    // The list changes after the invitation: acceptance checks it again.
    data(
        &app.graphql(
            "mutation($id: ID!) { updateCustomer(id: $id, input: {allowedDomainsRegistration: [\"other.com\"]}) { id } }",
            json!({"id": customer.to_string()}),
        )
        .await,
    );
    let late = accept(&app, &token).await;
    assert_eq!(error_code(&late), "FAILED_PRECONDITION");
    assert_eq!(error_field(&late), "token");
    let bad = invite(&app, customer, "not an email", json!([])).await;
    assert_eq!(error_field(&bad), "email");
    data(
        &app.graphql(
            "mutation($id: ID!) { setCustomerStatus(id: $id, status: SUSPENDED) { id } }",
            json!({"id": customer.to_string()}),
        )
        .await,
    );
    let suspended = invite(
        &app,
        customer,
        &format!("x-{}@other.com", Uuid::now_v7().simple()),
        json!([]),
    )
    .await;
    assert_eq!(error_code(&suspended), "FAILED_PRECONDITION");
}

#[tokio::test]
async fn a_member_who_manages_users_invites_within_its_own_permissions() {
    let app = TestApp::spawn().await;
    let (customer, _) = create_customer(&app, json!({})).await;
    let manager = app.create_user("manager").await;
    data(
        &app.graphql(
            "mutation($c: ID!, $u: ID!) { addCustomerUser(customerId: $c, userId: $u, permissions: [USERS_MANAGE, CUSTOMER_READ]) { owner } }",
            json!({"c": customer.to_string(), "u": manager.to_string()}),
        )
        .await,
    );
    let token = app.token_for(manager);
    let ok = app
        .graphql_with(
            &token,
            INVITE,
            json!({"c": customer.to_string(), "e": email("a"), "p": ["CUSTOMER_READ"]}),
        )
        .await;
    assert_eq!(
        data(&ok)["inviteCustomerUser"]["invitation"]["invitedBy"]["id"],
        json!(manager.to_string())
    );
    let too_much = app
        .graphql_with(
            &token,
            INVITE,
            json!({"c": customer.to_string(), "e": email("b"), "p": ["BILLING_WRITE"]}),
        )
        .await;
    assert_eq!(error_code(&too_much), "FORBIDDEN");
    let listed = app
        .graphql_with(&token, LIST, json!({"c": customer.to_string()}))
        .await;
    assert_eq!(
        data(&listed)["invitations"]["edges"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let (_, other_owner) = create_customer(&app, json!({})).await;
    let hidden = app
        .graphql_with(
            &app.token_for(other_owner),
            LIST,
            json!({"c": customer.to_string()}),
        )
        .await;
    assert_eq!(data(&hidden)["invitations"], Value::Null);
}

/// Holds the first `remaining` transactions until that many have arrived,
/// so concurrent requests are sure to have read before any of them writes.
#[derive(Debug)]
struct TransactionsMeet {
    barrier: Arc<Barrier>,
    remaining: Arc<AtomicUsize>,
}

impl Intercept for TransactionsMeet {
    fn name(&self) -> &'static str {
        "TransactionsMeet"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let target = context
            .request()
            .headers()
            .get("x-amz-target")
            .unwrap_or_default();
        if target.ends_with("TransactWriteItems")
            && self
                .remaining
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok()
        {
            self.barrier.wait();
        }
        Ok(())
    }
}

#[tokio::test]
async fn two_concurrent_accepts_of_one_token_yield_one_membership_and_one_conflict() {
    let app = TestApp::spawn().await;
    let (customer, _) = create_customer(&app, json!({})).await;
    let (_, token) = invited(&app, customer, &email("race")).await;
    let barrier = Arc::new(Barrier::new(2));
    let remaining = Arc::new(AtomicUsize::new(2));
    // Each accept runs on its own thread and runtime: the interceptor
    // blocks the thread it runs on until both transactions have arrived.
    let handles: Vec<_> = (0..2)
        .map(|_| {
            let (barrier, remaining) = (Arc::clone(&barrier), Arc::clone(&remaining));
            let (table, token) = (app.store.table_name().to_owned(), token.clone());
            std::thread::spawn(move || {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap()
                    .block_on(async move {
                        let config = switchboard::store::aws_config(
                            &switchboard::store::Timeouts::default(),
                        )
                        .await;
                        let dynamodb = aws_sdk_dynamodb::config::Builder::from(&config)
                            .interceptor(TransactionsMeet { barrier, remaining })
                            .build();
                        let racing = TestApp::over_store(Store::new(
                            aws_sdk_dynamodb::Client::from_conf(dynamodb),
                            table,
                        ));
                        accept(&racing, &token).await
                    })
            })
        })
        .collect();
    let results = tokio::task::spawn_blocking(move || {
        handles
            .into_iter()
            .map(|h| h.join().unwrap())
            .collect::<Vec<Value>>()
    })
    .await
    .unwrap();
    let winners: Vec<&Value> = results
        .iter()
        .filter(|r| r.get("errors").is_none())
        .collect();
    assert_eq!(winners.len(), 1, "{results:?}");
    let loser = results.iter().find(|r| r.get("errors").is_some()).unwrap();
    assert_eq!(error_code(loser), "CONFLICT", "{loser}");
    let members = app
        .graphql(
            "query($id: ID!) { customer(id: $id) { users { edges { node { owner } } } } }",
            json!({"id": customer.to_string()}),
        )
        .await;
    assert_eq!(
        data(&members)["customer"]["users"]["edges"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let users = app
        .graphql("{ users(first: 100) { edges { cursor } } }", json!({}))
        .await;
    assert_eq!(data(&users)["users"]["edges"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn only_accept_invitation_runs_without_a_token() {
    let app = TestApp::spawn().await;
    for query in [
        "{ viewer { isAdmin } }",
        "mutation { acceptInvitation(token: \"x\", firstName: \"A\", lastName: \"B\", password: \"a long passphrase\") { userId } viewer: createUser(input: {email: \"a@b.co\", firstName: \"A\", lastName: \"B\", password: \"a long passphrase\"}) { id } }",
        "mutation { ...F } fragment F on Mutation { acceptInvitation(token: \"x\", firstName: \"A\", lastName: \"B\", password: \"a long passphrase\") { userId } }",
        "query { pricingTiers { edges { cursor } } }",
        "not graphql",
    ] {
        let reply = app.post_graphql(None, query, json!({})).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{query}");
    }
    let reply = app
        .post_graphql(
            None,
            "mutation Go($t: String!) { acceptInvitation(token: $t, firstName: \"A\", lastName: \"B\", password: \"a long passphrase\") { userId } }",
            json!({"t": "unknown"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(error_code(&reply.json()), "FAILED_PRECONDITION");
}

#[tokio::test]
async fn deleting_a_customer_deletes_its_invitations_and_their_tokens() {
    let app = TestApp::spawn().await;
    let (customer, _) = create_customer(&app, json!({})).await;
    // Invited twice: both invitations name one pending pointer, which the
    // deletion must remove once (a batch naming an item twice is refused).
    let twice = email("pending");
    let (_, revoked) = invited(&app, customer, &twice).await;
    let (_, pending) = invited(&app, customer, &twice).await;
    let (_, used) = invited(&app, customer, &email("used")).await;
    data(&accept(&app, &used).await);
    for mutation in [
        "mutation($id: ID!) { setCustomerStatus(id: $id, status: TERMINATED) { id } }",
        "mutation($id: ID!) { deleteCustomer(id: $id) }",
    ] {
        data(
            &app.graphql(mutation, json!({"id": customer.to_string()}))
                .await,
        );
    }
    let client = switchboard::store::client_from_env().await;
    let items = client
        .scan()
        .table_name(app.store.table_name())
        .send()
        .await
        .unwrap()
        .items
        .unwrap_or_default();
    let left: Vec<String> = items
        .iter()
        .filter_map(|i| i.get("pk")?.as_s().ok().cloned())
        .filter(|pk| pk.starts_with("INVITATION"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
    for token in [&pending, &revoked] {
        assert_eq!(
            error_code(&accept(&app, token).await),
            "FAILED_PRECONDITION"
        );
    }
}

#[tokio::test]
async fn neither_the_accept_token_nor_the_password_reaches_the_logs() {
    let app = TestApp::spawn().await;
    let (customer, _) = create_customer(&app, json!({})).await;
    let (_, token) = invited(&app, customer, &email("quiet")).await;
    let password = format!("secret passphrase {}", Uuid::now_v7().simple());
    let reply = app
        .post_graphql_as_request(
            None,
            "mutation Accept($t: String!, $p: String!) { acceptInvitation(token: $t, firstName: \"Q\", lastName: \"R\", password: $p) { userId } }",
            json!({"t": token, "p": password}),
            Some(&format!("accept-{}", Uuid::now_v7().simple())),
        )
        .await;
    data(&reply.json());
    let logged = crate::helpers::logs().text();
    assert!(
        !logged.contains(&token),
        "the logs contain the accept token"
    );
    assert!(!logged.contains(&password), "the logs contain the password");
}

const RESEND: &str = "mutation($id: ID!) { resendInvitation(id: $id) { id status deliveryStatus sentAt expiresAt } }";

#[tokio::test]
async fn an_email_that_cannot_be_sent_leaves_the_invitation_undelivered_until_it_is_sent_again() {
    let app = TestApp::spawn().await;
    let (customer, _) = create_customer(&app, json!({})).await;
    let address = email("outage");
    let down = app.with_mail_down().await;
    let refused = invite(&down, customer, &address, json!(["USERS_READ"])).await;
    assert_eq!(error_code(&refused), "DELIVERY_FAILED");
    let message = refused["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("resendInvitation"), "{message}");
    assert!(
        !message.contains("dispatch") && !message.contains("127.0.0.1"),
        "no SDK detail reaches the client: {message}"
    );
    assert!(mailbox::mails_to(&address).await.is_empty());
    // Whole and visible: one invitation, pending, marked FAILED.
    let listed = app
        .graphql(
            "query($c: ID!) { invitations(customerId: $c) { edges { node { id email status deliveryStatus sentAt } } } }",
            json!({"c": customer.to_string()}),
        )
        .await;
    let edges = data(&listed)["invitations"]["edges"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(edges.len(), 1);
    let node = &edges[0]["node"];
    assert_eq!(node["status"], "PENDING");
    assert_eq!(node["deliveryStatus"], "FAILED");
    assert_eq!(node["sentAt"], Value::Null);
    let id = node["id"].as_str().unwrap().to_owned();

    // Sending again while the outage lasts is refused the same way.
    let still_down = down.graphql(RESEND, json!({"id": id})).await;
    assert_eq!(error_code(&still_down), "DELIVERY_FAILED");

    // Once the mail service is back, resending delivers a working link.
    let sent = app.graphql(RESEND, json!({"id": id})).await;
    assert_eq!(data(&sent)["resendInvitation"]["deliveryStatus"], "SENT");
    let token = mailbox::latest_to(&address).await.token();
    data(&accept(&app, &token).await);
}

#[tokio::test]
async fn resending_gives_a_fresh_token_and_the_old_one_stops_working() {
    let app = TestApp::spawn().await;
    let (customer, _) = create_customer(&app, json!({})).await;
    let address = email("again");
    let (id, first) = invited(&app, customer, &address).await;
    let resent = app.graphql(RESEND, json!({"id": id})).await;
    assert_eq!(data(&resent)["resendInvitation"]["status"], "PENDING");
    let mails = mailbox::mails_to(&address).await;
    assert_eq!(mails.len(), 2);
    let second = mails[1].token();
    assert_ne!(first, second);
    assert_eq!(
        error_code(&accept(&app, &first).await),
        "FAILED_PRECONDITION"
    );
    data(&accept(&app, &second).await);
    // An accepted invitation is not sent again.
    let late = app.graphql(RESEND, json!({"id": id})).await;
    assert_eq!(error_code(&late), "FAILED_PRECONDITION");
}

/// Adds `user` to `customer` with `permissions`, as admin.
async fn add_member(app: &TestApp, customer: Uuid, user: Uuid, permissions: Value) {
    data(
        &app.graphql(
            "mutation($c: ID!, $u: ID!, $p: [Permission!]) { addCustomerUser(customerId: $c, userId: $u, permissions: $p) { owner } }",
            json!({"c": customer.to_string(), "u": user.to_string(), "p": permissions}),
        )
        .await,
    );
}

#[tokio::test]
async fn an_invitation_grants_only_what_its_sender_still_holds_at_acceptance() {
    let app = TestApp::spawn().await;
    let (customer, _) = create_customer(&app, json!({})).await;
    let manager = app.create_user("manager").await;
    add_member(
        &app,
        customer,
        manager,
        json!(["USERS_MANAGE", "ACCOUNTS_WRITE"]),
    )
    .await;
    let as_manager = app.token_for(manager);
    let demoted_to = email("demoted");
    let removed_to = email("removed");
    for address in [&demoted_to, &removed_to] {
        data(
            &app.graphql_with(
                &as_manager,
                INVITE,
                json!({"c": customer.to_string(), "e": address, "p": ["ACCOUNTS_WRITE"]}),
            )
            .await,
        );
    }
    let demoted_token = mailbox::latest_to(&demoted_to).await.token();
    let removed_token = mailbox::latest_to(&removed_to).await.token();
    assert!(
        mailbox::latest_to(&demoted_to)
            .await
            .text
            .contains(&format!(
                "Test User ({})",
                app.store.users().get(manager).await.unwrap().unwrap().email
            )),
        "the email names who invited"
    );

    // Demoted: it no longer holds ACCOUNTS_WRITE, so its offer is void.
    data(
        &app.graphql(
            "mutation($c: ID!, $u: ID!) { updateCustomerUser(customerId: $c, userId: $u, permissions: [USERS_MANAGE]) { owner } }",
            json!({"c": customer.to_string(), "u": manager.to_string()}),
        )
        .await,
    );
    let refused = accept(&app, &demoted_token).await;
    assert_eq!(error_code(&refused), "FAILED_PRECONDITION");
    assert!(
        refused["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("no longer holds the rights"),
        "{refused}"
    );
    assert!(
        app.store
            .users()
            .get_by_email(&demoted_to)
            .await
            .unwrap()
            .is_none()
    );

    // Removed: its pending invitations are revoked with it.
    data(
        &app.graphql(
            "mutation($c: ID!, $u: ID!) { removeCustomerUser(customerId: $c, userId: $u) }",
            json!({"c": customer.to_string(), "u": manager.to_string()}),
        )
        .await,
    );
    assert_eq!(statuses(&app, customer, json!("PENDING")).await, vec![]);
    assert_eq!(statuses(&app, customer, json!("REVOKED")).await.len(), 2);
    assert_eq!(
        error_code(&accept(&app, &removed_token).await),
        "FAILED_PRECONDITION"
    );
}

/// The `PasswordHashes` figure of the metrics line of the request whose
/// answer is `reply` (by its request id).
fn hashes_of(lines: &std::sync::Mutex<Vec<String>>, reply: &crate::helpers::Reply) -> u64 {
    let id = reply
        .headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .expect("a request id")
        .to_owned();
    lines
        .lock()
        .unwrap()
        .iter()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|l| l["requestId"] == json!(id))
        .expect("a metrics line for the request")["PasswordHashes"]
        .as_u64()
        .unwrap()
}

#[tokio::test]
async fn a_doomed_anonymous_accept_is_refused_before_any_password_is_hashed() {
    let (app, lines) = TestApp::spawn_with_metrics(&[("METRICS", "on")]).await;
    let (customer, _) = create_customer(&app, json!({})).await;
    let (_, suspended) = invited(&app, customer, &email("suspended")).await;
    let existing = email("existing");
    app.create_user_with_email(&existing).await;
    let (_, for_existing) = invited(&app, customer, &existing).await;
    let (revoked_id, revoked) = invited(&app, customer, &email("revoked")).await;
    data(&app.graphql(REVOKE, json!({"id": revoked_id})).await);
    let (_, fine) = invited(&app, customer, &email("fine")).await;

    let reply = app.post_graphql(None, ACCEPT, json!({"t": revoked})).await;
    assert_eq!(error_code(&reply.json()), "FAILED_PRECONDITION");
    assert_eq!(hashes_of(&lines, &reply), 0, "revoked");
    let reply = app
        .post_graphql(None, ACCEPT, json!({"t": for_existing}))
        .await;
    assert_eq!(error_code(&reply.json()), "SIGN_IN_REQUIRED");
    assert_eq!(hashes_of(&lines, &reply), 0, "existing user");

    data(
        &app.graphql(
            "mutation($id: ID!) { setCustomerStatus(id: $id, status: SUSPENDED) { status } }",
            json!({"id": customer.to_string()}),
        )
        .await,
    );
    let reply = app
        .post_graphql(None, ACCEPT, json!({"t": suspended}))
        .await;
    assert_eq!(error_code(&reply.json()), "FAILED_PRECONDITION");
    assert_eq!(hashes_of(&lines, &reply), 0, "suspended customer");

    // The count is real: an accept that creates a user hashes once.
    data(
        &app.graphql(
            "mutation($id: ID!) { setCustomerStatus(id: $id, status: ACTIVE) { status } }",
            json!({"id": customer.to_string()}),
        )
        .await,
    );
    let reply = app.post_graphql(None, ACCEPT, json!({"t": fine})).await;
    data(&reply.json());
    assert_eq!(hashes_of(&lines, &reply), 1);
}
