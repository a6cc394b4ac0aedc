// GraphiQL behind an API Gateway stage (`/Prod/`), through the Lambda path:
// the binary runs as a Lambda function and the browser reaches it through
// stand-ins for API Gateway and the Runtime API.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { createTable, editor, launchBrowser, mintToken, outputDir, recordRequests } from './lib/harness.mjs';
import { lambdaBehindStage } from './lib/lambda.mjs';

test('GraphiQL behind the Prod stage on Lambda loads its assets and posts to /Prod/graphql', async (t) => {
  const table = createTable();
  const { url, events } = await lambdaBehindStage(t, table, 'Prod');
  const token = mintToken({ admin: true });

  const browser = await launchBrowser(t);
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const { requests, failed } = recordRequests(page);
  await page.goto(`${url}#token=${encodeURIComponent(token)}`);
  await page.locator('.graphiql-container').waitFor();

  await editor.set(page, '.graphiql-query-editor', '{ pricingTiers(first: 5) { edges { cursor } pageInfo { hasNextPage } } }');
  const graphqlUrl = new URL('graphql', url).toString();
  const answered = page.waitForResponse((r) => r.url() === graphqlUrl && r.request().method() === 'POST');
  await page.locator('.graphiql-execute-button').click();
  assert.equal((await answered).status(), 200);
  await page.waitForFunction(() =>
    document.querySelector('.graphiql-response .CodeMirror')?.CodeMirror.getValue().includes('hasNextPage'),
  );
  assert.deepEqual(JSON.parse(await editor.value(page, '.graphiql-response')), {
    data: { pricingTiers: { edges: [], pageInfo: { hasNextPage: false } } },
  });
  await page.screenshot({ path: path.join(outputDir('graphiql-stage'), 'graphiql-prod-stage.png'), fullPage: true });

  // Every request the page made stayed under the stage, and the GraphQL
  // ones went to /Prod/graphql; the function saw them as stage events.
  const paths = requests.filter((r) => !r.url().startsWith('data:')).map((r) => new URL(r.url()).pathname);
  assert.ok(paths.length >= 5, paths.join(' '));
  for (const p of paths) assert.match(p, /^\/Prod\//);
  const posts = requests.filter((r) => r.method() === 'POST').map((r) => r.url());
  assert.ok(posts.length >= 1);
  assert.deepEqual([...new Set(posts)], [graphqlUrl]);
  assert.deepEqual(failed, []);
  assert.ok(events.every((e) => e.requestContext.stage === 'Prod' && e.rawPath.startsWith('/Prod/')));
  assert.ok(events.some((e) => e.rawPath === '/Prod/graphql' && e.requestContext.http.method === 'POST'));
});
