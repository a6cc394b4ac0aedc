// GraphiQL at `/` of a real `switchboard serve`, in headless Chromium.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import {
  createTable,
  editor,
  graphql,
  launchBrowser,
  mintToken,
  outputDir,
  recordRequests,
  serve,
} from './lib/harness.mjs';

const TIERS_QUERY = '{ pricingTiers(first: 10) { edges { node { name currency ratePerMinute } } } }';

test('GraphiQL loads from the gateway alone, takes the token from the link, shows the docs and runs a query', async (t) => {
  const table = createTable();
  const gateway = await serve(t, table);
  const token = mintToken({ admin: true });
  await graphql(
    gateway,
    token,
    `mutation { createPricingTier(input: {name: "Browser Basic", currency: "EUR", ratePerMinute: "0.0125"}) { id } }`,
  );

  const browser = await launchBrowser(t);
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const { requests, failed } = recordRequests(page);
  await page.goto(`${gateway}/#token=${encodeURIComponent(token)}`);

  await page.locator('.graphiql-container').waitFor();
  assert.equal(new URL(page.url()).hash, '', 'the token is removed from the address bar');

  // The token from the link is in GraphiQL's headers editor.
  await page.getByRole('button', { name: 'Headers' }).click();
  const headers = JSON.parse(await editor.value(page, '.graphiql-editor-tool .graphiql-editor:not(.hidden)'));
  assert.deepEqual(headers, { Authorization: `Bearer ${token}` });

  // The docs pane shows the schema (fetched with that token).
  await page.getByRole('button', { name: /Show Documentation Explorer/ }).click();
  const docs = page.locator('.graphiql-doc-explorer');
  await docs.getByText('Query', { exact: true }).click();
  await docs.locator('.graphiql-doc-explorer-field-name', { hasText: /^pricingTiers$/ }).waitFor();
  await docs.getByText('Tiers in case-insensitive name order', { exact: false }).waitFor();

  // A query listing pricing tiers shows its result.
  await editor.set(page, '.graphiql-query-editor', TIERS_QUERY);
  const answered = page.waitForResponse((r) => r.url() === `${gateway}/graphql` && r.request().method() === 'POST');
  await page.locator('.graphiql-execute-button').click();
  assert.equal((await answered).status(), 200);
  await page.waitForFunction(() =>
    document.querySelector('.graphiql-response .CodeMirror')?.CodeMirror.getValue().includes('Browser Basic'),
  );
  const result = JSON.parse(await editor.value(page, '.graphiql-response'));
  assert.deepEqual(result, {
    data: { pricingTiers: { edges: [{ node: { name: 'Browser Basic', currency: 'EUR', ratePerMinute: '0.0125' } }] } },
  });

  await page.screenshot({ path: path.join(outputDir('graphiql'), 'graphiql.png'), fullPage: true });

  // Nothing came from anywhere but the gateway: no CDN, no fonts, no telemetry.
  const origins = new Set(requests.map((r) => new URL(r.url()).origin).filter((o) => o !== 'null'));
  assert.deepEqual([...origins], [gateway]);
  assert.deepEqual(failed, []);
});
