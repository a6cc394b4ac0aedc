// The example app (examples/web) in headless Chromium, served by `vite
// preview` on its own origin, against a gateway that allows that origin
// (CORS) and runs only the app's persisted documents (trusted documents,
// enforced for admins too). A page on an origin the gateway does not allow
// is refused by the browser.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import {
  MANIFEST,
  WEB,
  createTable,
  graphql,
  launchBrowser,
  mintToken,
  outputDir,
  preview,
  serve,
} from './lib/harness.mjs';

if (!existsSync(path.join(WEB, 'dist/index.html')) || !existsSync(MANIFEST)) {
  throw new Error('examples/web is not built: run scripts/test-browser (npm ci, codegen, vite build)');
}
const manifest = JSON.parse(readFileSync(MANIFEST, 'utf8'));

/** Three tiers and three customers, written through an unrestricted gateway on the same table. */
async function seed(t, table, token) {
  const gateway = await serve(t, table);
  for (const [name, rate] of [['Alpha', '0.0100'], ['Beta', '0.0200'], ['Delta', '0.0300']]) {
    await graphql(
      gateway,
      token,
      'mutation($input: CreatePricingTierInput!) { createPricingTier(input: $input) { id } }',
      { input: { name, currency: 'USD', ratePerMinute: rate } },
    );
  }
  for (const [index, company] of ['Acme Corp', 'Globex', 'Initech'].entries()) {
    await graphql(
      gateway,
      token,
      'mutation($input: CreateCustomerInput!) { createCustomer(input: $input) { id } }',
      {
        input: {
          customerType: 'BUSINESS',
          companyName: company,
          firstName: 'Ada',
          lastName: 'Lovelace',
          email: `ada${index}@customer${index}.example`,
          password: 'a long passphrase',
          country: 'GB',
          currency: 'GBP',
          telephones: [{ telephoneType: 'MOBILE', default: true, number: `+44 7911 12345${index}` }],
        },
      },
    );
  }
}

/** Opens the app at `origin`, signs in to `endpoint` with `token`. */
async function signIn(browser, origin, endpoint, token, beforeSignIn = async () => {}) {
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  await beforeSignIn(page);
  const gatewayRequests = [];
  const consoleErrors = [];
  page.on('request', (request) => {
    if (request.url().startsWith(endpoint)) gatewayRequests.push(request);
  });
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text());
  });
  await page.goto(`${origin}/?pageSize=2`);
  await page.getByLabel('Gateway URL').fill(endpoint);
  await page.getByLabel('Token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  return { page, gatewayRequests, consoleErrors };
}

const itemsOf = (page, list) => page.locator(`#${list} li`).allTextContents();

test('the example app lists, loads more, creates and shows errors by code, sending only trusted hashes across origins', async (t) => {
  const table = createTable();
  const token = mintToken({ admin: true });
  await seed(t, table, token);

  const app = await preview(t);
  const gateway = await serve(t, table, {
    CORS_ALLOWED_ORIGINS: app,
    TRUSTED_DOCUMENTS: MANIFEST,
    TRUSTED_DOCUMENTS_ENFORCE_ADMINS: 'true',
  });
  assert.notEqual(new URL(app).origin, new URL(gateway).origin);

  const browser = await launchBrowser(t);
  const { page, gatewayRequests } = await signIn(browser, app, `${gateway}/graphql`, token);
  assert.equal(await page.evaluate(() => sessionStorage.getItem('switchboard:token')), token);

  // Lists, two at a time, then "load more" over endCursor until hasNextPage is false.
  await page.locator('#tiers li').nth(1).waitFor();
  await page.locator('#customers li').nth(1).waitFor();
  assert.deepEqual(
    (await itemsOf(page, 'tiers')).map((text) => text.split(' — ')[0]),
    ['Alpha', 'Beta'],
  );
  await page.getByRole('button', { name: 'Load more tiers' }).click();
  await page.locator('#tiers li').nth(2).waitFor();
  assert.deepEqual(
    (await itemsOf(page, 'tiers')).map((text) => text.split(' — ')[0]),
    ['Alpha', 'Beta', 'Delta'],
  );
  await page.getByRole('button', { name: 'Load more tiers' }).waitFor({ state: 'hidden' });

  assert.deepEqual(
    (await itemsOf(page, 'customers')).map((text) => text.split(' <')[0]),
    ['Initech', 'Globex'],
  );
  await page.getByRole('button', { name: 'Load more customers' }).click();
  await page.locator('#customers li').nth(2).waitFor();
  assert.deepEqual(
    (await itemsOf(page, 'customers')).map((text) => text.split(' <')[0]),
    ['Initech', 'Globex', 'Acme Corp'],
  );
  await page.getByRole('button', { name: 'Load more customers' }).waitFor({ state: 'hidden' });

  // Create a tier: it is confirmed and the list (reloaded) shows it.
  const form = page.locator('#create-tier');
  await form.getByLabel('Name').fill('Gamma');
  await form.getByLabel('Currency').fill('EUR');
  await form.getByLabel('Rate per minute').fill('0.0450');
  await form.getByRole('button', { name: 'Create tier' }).click();
  await page.getByRole('status').getByText('Created Gamma (0.0450 EUR/min).').waitFor();
  // The list reloads from the first page; Gamma sorts last.
  await page.getByRole('button', { name: 'Load more tiers' }).click();
  await page.locator('#tiers li').nth(3).waitFor();
  await page.getByRole('button', { name: 'Load more tiers' }).waitFor({ state: 'hidden' });
  assert.deepEqual(
    (await itemsOf(page, 'tiers')).map((text) => text.split(' — ')[0]),
    ['Alpha', 'Beta', 'Delta', 'Gamma'],
  );

  // Errors are shown by their code and field.
  await form.getByLabel('Name').fill('Epsilon');
  await form.getByLabel('Currency').fill('XYZ');
  await form.getByRole('button', { name: 'Create tier' }).click();
  const invalid = page.locator('#errors li[data-code="BAD_USER_INPUT"][data-field="input.currency"]');
  await invalid.waitFor();
  assert.match(await invalid.textContent(), /^BAD_USER_INPUT input\.currency: /);

  await form.getByLabel('Name').fill('alpha');
  await form.getByLabel('Currency').fill('USD');
  await form.getByRole('button', { name: 'Create tier' }).click();
  await page.locator('#errors li[data-code="CONFLICT"][data-field="input.name"]').waitFor();
  await page.screenshot({ path: path.join(outputDir('example-app'), 'example-app.png'), fullPage: true });

  // The token survives a reload of the tab (sessionStorage), not the tab.
  await page.reload();
  await page.locator('#tiers li').nth(1).waitFor();
  assert.equal(await page.getByRole('button', { name: 'Sign in' }).isVisible(), false);
  const fresh = await browser.newPage();
  await fresh.goto(`${app}/?pageSize=2`);
  await fresh.getByRole('button', { name: 'Sign in' }).waitFor();
  assert.equal(await fresh.evaluate(() => sessionStorage.getItem('switchboard:token')), null);

  // Only hashes went out, each one in the app's manifest; queries as GET.
  const operations = gatewayRequests.filter((r) => r.method() !== 'OPTIONS');
  assert.ok(operations.length >= 8, `${operations.length} operations`);
  for (const request of operations) {
    const body = sent(request);
    assert.equal(body.query, undefined, `no document text in ${request.method()} ${request.url()}`);
    const extensions = typeof body.extensions === 'string' ? JSON.parse(body.extensions) : body.extensions;
    assert.ok(extensions.persistedQuery.sha256Hash in manifest, `${request.url()} sends a trusted hash`);
  }
  assert.deepEqual(
    [...new Set(operations.map((r) => `${r.method()} ${sent(r).operationName}`))].sort(),
    ['GET CustomersPage', 'GET PricingTiersPage', 'POST CreatePricingTier'],
  );
});

/** What a request to the gateway carried: GET parameters or the POST body. */
function sent(request) {
  return request.method() === 'GET'
    ? Object.fromEntries(new URL(request.url()).searchParams)
    : JSON.parse(request.postData() ?? '{}');
}

test('a page on an origin the gateway does not allow is refused by the browser', async (t) => {
  const table = createTable();
  const token = mintToken({ admin: true });
  const allowed = await preview(t);
  const other = await preview(t);
  const gateway = await serve(t, table, { CORS_ALLOWED_ORIGINS: allowed, TRUSTED_DOCUMENTS: MANIFEST });

  const browser = await launchBrowser(t);
  const { page, consoleErrors } = await signIn(browser, other, `${gateway}/graphql`, token);
  const refused = page.locator(`#errors li[data-code="NETWORK_ERROR"]`);
  await refused.waitFor();
  assert.match(await refused.textContent(), /CORS_ALLOWED_ORIGINS/);
  assert.deepEqual(await itemsOf(page, 'tiers'), []);
  assert.ok(
    consoleErrors.some((text) => text.includes('blocked by CORS policy')),
    `the browser blocked it for CORS: ${consoleErrors.join('\n')}`,
  );
  await page.screenshot({ path: path.join(outputDir('example-app'), 'refused-origin.png'), fullPage: true });

  // The same build from the allowed origin works against the same gateway.
  const { page: allowedPage } = await signIn(browser, allowed, `${gateway}/graphql`, token);
  await allowedPage.getByRole('button', { name: 'Sign out' }).waitFor();
  const form = allowedPage.locator('#create-tier');
  await form.getByLabel('Name').fill('Allowed');
  await form.getByRole('button', { name: 'Create tier' }).click();
  await allowedPage.getByRole('status').getByText('Created Allowed').waitFor();
  assert.equal(await allowedPage.locator('#errors li').count(), 0);
});

test('a tier list still in flight when a tier is created is replaced, neither shown stale nor appended', async (t) => {
  const table = createTable();
  const token = mintToken({ admin: true });
  const app = await preview(t);
  const gateway = await serve(t, table, { CORS_ALLOWED_ORIGINS: app, TRUSTED_DOCUMENTS: MANIFEST });
  const browser = await launchBrowser(t);

  // The first tier list (empty) is answered only after a tier was created:
  // the list must not show that stale page, nor the new tier twice.
  let release;
  const held = new Promise((resolve) => (release = resolve));
  let heldFirst = false;
  const { page } = await signIn(browser, app, `${gateway}/graphql`, token, (tab) =>
    tab.route(
      (url) => url.searchParams.get('operationName') === 'PricingTiersPage',
      async (route) => {
        if (heldFirst) return route.continue();
        heldFirst = true;
        const response = await route.fetch();
        await held;
        await route.fulfill({ response });
      },
    ),
  );
  const form = page.locator('#create-tier');
  await form.getByLabel('Name').fill('Fresh');
  const created = page.waitForResponse((r) => r.request().method() === 'POST');
  await form.getByRole('button', { name: 'Create tier' }).click();
  assert.equal((await created).status(), 200);
  assert.ok(heldFirst, 'the first list was held back');
  release();
  await page.getByRole('status').getByText('Created Fresh').waitFor();
  await page.locator('#tiers li', { hasText: 'Fresh' }).waitFor();
  assert.deepEqual(await itemsOf(page, 'tiers'), ['Fresh — 0.0100 USD/min, per 60 s (default)']);
  assert.equal(await page.locator('#errors li').count(), 0);
});
