// An invitation from email to membership, in headless Chromium: an admin
// invites an address, the gateway mails the invitee through SES v2 (the
// aws-ses-v2-local emulator scripts/test-browser runs, read back over its
// HTTP API), and the link in that mail opens the example app's accept page
// (examples/web/accept.html) on its own origin, against a gateway that
// allows that origin (CORS) and runs only the app's trusted documents for
// every caller without an admin token. The token travels in the link's
// fragment and must be gone from the address bar once the page has loaded.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { test } from 'node:test';
import {
  MANIFEST,
  buildApp,
  createTable,
  freePort,
  graphql,
  launchBrowser,
  mailsTo,
  mintToken,
  outputDir,
  preview,
  serve,
} from './lib/harness.mjs';

if (!existsSync(MANIFEST)) {
  throw new Error('examples/web is not built: run scripts/test-browser (npm ci, codegen, vite build)');
}
const manifest = JSON.parse(readFileSync(MANIFEST, 'utf8'));

const FROM = 'Switchboard tests <invitations@switchboard-tests.example>';
const PASSWORD = 'a long enough passphrase';

/**
 * A table, a gateway that mails invitations linking to the app's accept
 * page, and the app built for that gateway and served on its own origin.
 */
async function setUp(t) {
  const table = createTable();
  const admin = mintToken({ admin: true });
  // The app's port is held while the gateway, which must name it, starts
  // (so the gateway cannot be given the same one).
  const appPort = await freePort();
  const holder = net.createServer();
  t.after(() => holder.listening && holder.close());
  await new Promise((resolve, reject) => holder.once('error', reject).listen(appPort, '127.0.0.1', resolve));
  const app = `http://127.0.0.1:${appPort}`;
  const acceptUrl = `${app}/accept`;
  const gateway = await serve(t, table, {
    CORS_ALLOWED_ORIGINS: app,
    TRUSTED_DOCUMENTS: MANIFEST,
    INVITATION_ACCEPT_URL: acceptUrl,
    INVITATION_FROM: FROM,
  });
  const endpoint = `${gateway}/graphql`;
  const outDir = buildApp(t, endpoint);
  await new Promise((resolve) => holder.close(resolve));
  await preview(t, { port: appPort, outDir });
  assert.notEqual(new URL(app).origin, new URL(gateway).origin);
  const browser = await launchBrowser(t);
  return { admin, app, acceptUrl, gateway, endpoint, browser };
}

/** A business customer with a new owner; resolves to `{ id, owner: { id, email } }`. */
async function createCustomer(gateway, admin, company) {
  const tag = randomUUID().slice(0, 8);
  const { createCustomer: customer } = await graphql(
    gateway,
    admin,
    'mutation($input: CreateCustomerInput!) { createCustomer(input: $input) { id owner { id email } } }',
    {
      input: {
        customerType: 'BUSINESS',
        companyName: `${company} ${tag}`,
        firstName: 'Ada',
        lastName: 'Lovelace',
        email: `owner-${tag}@customer-${tag}.example`,
        password: PASSWORD,
        country: 'GB',
        currency: 'GBP',
        telephones: [{ telephoneType: 'MOBILE', default: true, number: '+44 7911 123456' }],
      },
    },
  );
  return customer;
}

async function invite(gateway, admin, customerId, email, permissions) {
  const { inviteCustomerUser } = await graphql(
    gateway,
    admin,
    `mutation($customerId: ID!, $email: String!, $permissions: [Permission!]!) {
      inviteCustomerUser(customerId: $customerId, email: $email, permissions: $permissions) {
        replayed
        invitation { id email status deliveryStatus permissions }
      }
    }`,
    { customerId, email, permissions },
  );
  return inviteCustomerUser;
}

const ENTITIES = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&#39;': "'" };
const unescapeHtml = (text) => text.replace(/&(amp|lt|gt|quot|#39);/g, (entity) => ENTITIES[entity]);

/**
 * The accept link of an invitation mail: the same one in its text part and
 * in its HTML part's `href`, the accept page with `#token=…`.
 */
function acceptLink(mail, acceptUrl) {
  const prefix = `${acceptUrl}#token=`;
  assert.ok(mail.body.text, 'the mail has a text part');
  assert.ok(mail.body.html, 'the mail has an HTML part');
  const inText = new Set(mail.body.text.split(/\s+/).filter((word) => word.startsWith(prefix)));
  const inHtml = new Set(
    [...mail.body.html.matchAll(/href="([^"]*)"/g)]
      .map((match) => unescapeHtml(match[1]))
      .filter((href) => href.startsWith(prefix)),
  );
  assert.equal(inText.size, 1, `one accept link in the text part:\n${mail.body.text}`);
  assert.deepEqual(inHtml, inText, `the HTML part links to the same page:\n${mail.body.html}`);
  const [link] = inText;
  const token = decodeURIComponent(link.slice(prefix.length));
  assert.ok(token.length >= 16, 'a token of some length');
  return { link, token };
}

/** The one invitation mail to `email`, its sender and subject checked. */
async function invitationMail(email) {
  const [mail, ...more] = await mailsTo(email);
  assert.equal(more.length, 0, `one mail to ${email}`);
  assert.equal(mail.from, FROM);
  assert.match(mail.subject, /invited/i);
  return mail;
}

/** A tab on the accept link, recording what it asks of the network. */
async function openLink(browser, link) {
  const page = await browser.newPage({ viewport: { width: 1000, height: 800 } });
  const requests = [];
  const consoleErrors = [];
  page.on('request', (request) => requests.push(request));
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text());
  });
  await page.goto(link);
  return { page, requests, consoleErrors };
}

/** Neither the address bar, nor the history entry, nor the page shows `token`. */
async function assertTokenGone(page, token, acceptUrl) {
  assert.equal(page.url(), acceptUrl, 'the address bar holds the accept page without its fragment');
  const seen = await page.evaluate(() => ({ href: location.href, hash: location.hash, state: history.state }));
  assert.deepEqual(seen, { href: acceptUrl, hash: '', state: null });
  assert.equal((await page.content()).includes(token), false, 'the token is not in the page');
}

/** What a request to the gateway carried: GET parameters or the POST body. */
function sent(request) {
  return request.method() === 'GET'
    ? Object.fromEntries(new URL(request.url()).searchParams)
    : JSON.parse(request.postData() ?? '{}');
}

/** The gateway requests of a tab (preflights aside), each checked: a trusted hash only. */
async function gatewayOperations(requests, endpoint) {
  const operations = requests.filter((r) => r.url().startsWith(endpoint) && r.method() !== 'OPTIONS');
  for (const request of operations) {
    const body = sent(request);
    assert.equal(body.query, undefined, 'no document text');
    assert.ok(body.extensions.persistedQuery.sha256Hash in manifest, 'a trusted hash');
    assert.equal(body.operationName, 'AcceptInvitation');
    assert.equal(request.method(), 'POST');
  }
  return Promise.all(operations.map(async (r) => ({ request: r, headers: await r.allHeaders() })));
}

async function members(gateway, admin, customerId) {
  const { customer } = await graphql(
    gateway,
    admin,
    `query($id: ID!) {
      customer(id: $id) {
        users(first: 100) { edges { node { owner permissions user { id email firstName lastName } } } }
      }
    }`,
    { id: customerId },
  );
  return customer.users.edges.map(({ node }) => node);
}

async function invitationsOf(gateway, admin, customerId) {
  const { invitations } = await graphql(
    gateway,
    admin,
    'query($id: ID!) { invitations(customerId: $id) { edges { node { id email status deliveryStatus } } } }',
    { id: customerId },
  );
  return invitations.edges.map(({ node }) => node);
}

test('an invitee opens the emailed link, creates an account on the accept page and joins the customer', async (t) => {
  const { admin, app, acceptUrl, gateway, endpoint, browser } = await setUp(t);
  const customer = await createCustomer(gateway, admin, 'Acme Corp');
  const email = `newcomer-${randomUUID().slice(0, 8)}@invitee.example`;
  const invited = await invite(gateway, admin, customer.id, email, ['CUSTOMER_READ', 'USERS_READ']);
  assert.equal(invited.replayed, false);
  assert.equal(invited.invitation.email, email);
  assert.equal(invited.invitation.status, 'PENDING');

  // The mail arrives, with the link to the app's accept page.
  const { link, token } = acceptLink(await invitationMail(email), acceptUrl);
  assert.equal(
    (await invitationsOf(gateway, admin, customer.id)).find((i) => i.id === invited.invitation.id)?.deliveryStatus,
    'SENT',
  );

  // The page takes the token out of the address bar as it loads.
  const { page, requests, consoleErrors } = await openLink(browser, link);
  const form = page.locator('#accept');
  await form.getByRole('button', { name: 'Accept invitation' }).waitFor();
  await assertTokenGone(page, token, acceptUrl);

  // A blank name is the gateway's BAD_USER_INPUT at firstName, shown by field.
  await form.getByLabel('First name').fill('   ');
  await form.getByLabel('Last name').fill('Hopper');
  await form.getByLabel('Password').fill(PASSWORD);
  await form.getByRole('button', { name: 'Accept invitation' }).click();
  const invalid = page.locator('#errors li[data-code="BAD_USER_INPUT"][data-field="firstName"]');
  await invalid.waitFor();
  assert.equal(await form.getByLabel('First name').getAttribute('aria-invalid'), 'true');

  // Accepted: the page says so, and names the customer joined.
  await form.getByLabel('First name').fill('Grace');
  await form.getByRole('button', { name: 'Accept invitation' }).click();
  const accepted = page.getByRole('status');
  await accepted.getByText('Invitation accepted').waitFor();
  const text = await accepted.textContent();
  assert.match(text, /your account was created and you joined the customer/);
  assert.ok(text.includes(customer.id), text);
  assert.match(text, /Your permissions: (CUSTOMER_READ, USERS_READ|USERS_READ, CUSTOMER_READ)\.$/);
  assert.equal(await page.locator('#errors li').count(), 0);
  assert.equal(await form.isVisible(), false);
  await assertTokenGone(page, token, acceptUrl);
  await page.screenshot({ path: path.join(outputDir('accept-invitation'), 'accepted.png'), fullPage: true });

  // Both tries went out anonymously, as the trusted hash; nothing carried
  // the token in a URL, and the page asked nothing of any other origin.
  const operations = await gatewayOperations(requests, endpoint);
  assert.equal(operations.length, 2);
  for (const { headers } of operations) assert.equal(headers.authorization, undefined, 'no Authorization header');
  for (const request of requests) {
    assert.ok(
      request.url().startsWith(`${app}/`) || request.url().startsWith(endpoint),
      `only the app and the gateway: ${request.url()}`,
    );
    if (request.url() !== link) assert.equal(request.url().includes(token), false, `${request.url()} has the token`);
  }
  assert.deepEqual(consoleErrors, []);

  // The admin sees the new member, with the names given and the permissions invited.
  const member = (await members(gateway, admin, customer.id)).find((m) => m.user.email === email);
  assert.ok(member, `${email} is a member`);
  assert.deepEqual(
    { owner: member.owner, permissions: [...member.permissions].sort(), first: member.user.firstName, last: member.user.lastName },
    { owner: false, permissions: ['CUSTOMER_READ', 'USERS_READ'], first: 'Grace', last: 'Hopper' },
  );
  assert.equal(await accepted.getAttribute('data-user-id'), member.user.id);
  const [after] = (await invitationsOf(gateway, admin, customer.id)).filter((i) => i.id === invited.invitation.id);
  assert.equal(after.status, 'ACCEPTED');

  // A reload has no token left to use.
  await page.reload();
  await page.locator('#no-token').waitFor();
  assert.equal(await form.isVisible(), false);

  // The same link again: the invitation is used, FAILED_PRECONDITION with what to do.
  const { page: again } = await openLink(browser, link);
  await assertTokenGone(again, token, acceptUrl);
  const second = again.locator('#accept');
  await second.getByLabel('First name').fill('Grace');
  await second.getByLabel('Last name').fill('Hopper');
  await second.getByLabel('Password').fill(PASSWORD);
  await second.getByRole('button', { name: 'Accept invitation' }).click();
  const used = again.locator('#errors li[data-code="FAILED_PRECONDITION"]');
  await used.waitFor();
  assert.match(await used.textContent(), /Ask whoever invited you to send a new invitation/);
  await again.screenshot({ path: path.join(outputDir('accept-invitation'), 'used-link.png'), fullPage: true });
});

test('an invitee who already has an account is told to sign in, and accepts signed in', async (t) => {
  const { admin, acceptUrl, gateway, endpoint, browser } = await setUp(t);
  const home = await createCustomer(gateway, admin, 'Globex');
  const other = await createCustomer(gateway, admin, 'Initech');
  // The owner of one customer is invited to the other: the email has an account.
  const { email, id: userId } = home.owner;
  await invite(gateway, admin, other.id, email, ['ACCOUNTS_READ']);
  const { link, token } = acceptLink(await invitationMail(email), acceptUrl);

  const { page, requests } = await openLink(browser, link);
  const form = page.locator('#accept');
  await form.getByRole('button', { name: 'Accept invitation' }).waitFor();
  await assertTokenGone(page, token, acceptUrl);
  await form.getByLabel('First name').fill('Someone');
  await form.getByLabel('Last name').fill('Else');
  await form.getByLabel('Password').fill('a password to take over');
  await form.getByRole('button', { name: 'Accept invitation' }).click();

  // Not accepted anonymously: the page asks to sign in, and hides the form.
  const signIn = page.locator('#sign-in-required');
  await signIn.waitFor();
  assert.match(
    (await signIn.textContent()).replace(/\s+/g, ' '),
    /already exists\. Sign in as that user and accept the invitation while signed in/,
  );
  assert.equal(await form.isVisible(), false);
  assert.equal(await page.locator('#errors li').count(), 0);
  assert.deepEqual(await members(gateway, admin, other.id).then((list) => list.map((m) => m.user.email)), [other.owner.email]);
  await page.screenshot({ path: path.join(outputDir('accept-invitation'), 'sign-in-required.png'), fullPage: true });

  // Signed in as that user, the same page accepts; names and password untouched.
  await signIn.getByLabel('Token').fill(mintToken({ sub: userId }));
  await signIn.getByRole('button', { name: 'Sign in and accept' }).click();
  const accepted = page.getByRole('status');
  await accepted.getByText('Invitation accepted').waitFor();
  const text = await accepted.textContent();
  assert.match(text, /^Invitation accepted: you joined the customer /);
  assert.ok(text.includes(other.id), text);
  assert.equal(await accepted.getAttribute('data-user-id'), userId);
  await assertTokenGone(page, token, acceptUrl);

  const operations = await gatewayOperations(requests, endpoint);
  assert.deepEqual(
    operations.map(({ headers }) => headers.authorization?.split(' ')[0]),
    [undefined, 'Bearer'],
  );
  const member = (await members(gateway, admin, other.id)).find((m) => m.user.id === userId);
  assert.ok(member, 'the existing user joined');
  assert.deepEqual(
    { permissions: member.permissions, first: member.user.firstName, last: member.user.lastName },
    { permissions: ['ACCOUNTS_READ'], first: 'Ada', last: 'Lovelace' },
  );
});
