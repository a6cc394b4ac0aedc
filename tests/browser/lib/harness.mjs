// What every browser test needs: the real `switchboard` binary (serving, or
// on Lambda behind a stand-in Runtime API), a table of its own in the
// DynamoDB Local that scripts/test-browser started, tokens minted by the
// binary, the example app served on an origin of its own, the mails the
// SES v2 emulator received, headless Chromium, and a folder for screenshots.
import { spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const BINARY =
  process.env.SWITCHBOARD_BIN ??
  path.join(process.env.CARGO_TARGET_DIR ?? path.join(ROOT, 'target'), 'debug/switchboard');
export const WEB = path.join(ROOT, 'examples/web');
export const MANIFEST = path.join(WEB, 'src/gql/persisted-documents.json');
export const OUTPUT = process.env.BROWSER_TEST_OUTPUT ?? path.join(ROOT, 'target/browser-tests');

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'];

/** Test-only secrets (≥ 32 bytes), never used anywhere else. */
const SECRETS = {
  JWT_SECRET: 'browser-tests-jwt-secret-0123456789abcdef',
  ACCOUNT_SECRET_KEY: 'browser-tests-account-key-0123456789abcdef',
};

if (!process.env.AWS_ENDPOINT_URL_DYNAMODB) {
  throw new Error('AWS_ENDPOINT_URL_DYNAMODB is not set: run the browser tests with scripts/test-browser');
}

/** The environment the binary runs with: secrets, table, DynamoDB Local. */
export function gatewayEnv(table, extra = {}) {
  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    RUST_LOG: 'warn',
    TABLE_NAME: table,
    ...SECRETS,
    ...extra,
  };
  for (const name of [
    'AWS_ENDPOINT_URL_DYNAMODB',
    'AWS_ENDPOINT_URL_SESV2',
    'AWS_REGION',
    'AWS_ACCESS_KEY_ID',
    'AWS_SECRET_ACCESS_KEY',
  ]) {
    if (process.env[name] !== undefined) env[name] = process.env[name];
  }
  return env;
}

function run(args, env) {
  const result = spawnSync(BINARY, args, { env, encoding: 'utf8' });
  if (result.status !== 0) {
    throw new Error(`switchboard ${args.join(' ')} failed (${result.status}): ${result.stderr}`);
  }
  return result.stdout.trim();
}

/** A fresh table (unique name) with its indexes. */
export function createTable() {
  const table = `browser_${randomUUID().replaceAll('-', '')}`;
  run(['create-tables'], gatewayEnv(table));
  return table;
}

/** A token minted by `switchboard token`. */
export function mintToken({ admin = false, sub = 'browser-test@switchboard.local' } = {}) {
  return run(['token', '--sub', sub, ...(admin ? ['--admin'] : [])], gatewayEnv('unused'));
}

let nextPort = Number(process.env.BROWSER_TEST_PORT_BASE) || 0;

/** A TCP port nothing listens on (from BROWSER_TEST_PORT_BASE upwards when set). */
export async function freePort() {
  for (let attempt = 0; attempt < 50; attempt += 1) {
    const wanted = nextPort ? nextPort++ : 0;
    const port = await new Promise((resolve) => {
      const server = net.createServer();
      server.once('error', () => resolve(null));
      server.listen(wanted, '127.0.0.1', () => {
        const { port: bound } = server.address();
        server.close(() => resolve(bound));
      });
    });
    if (port) return port;
  }
  throw new Error('no free port');
}

/** Waits until something accepts connections on `port`. */
export async function waitForPort(port, what, child) {
  for (let waited = 0; waited < 600; waited += 1) {
    if (child && child.exitCode !== null) throw new Error(`${what} exited (${child.exitCode})`);
    const open = await new Promise((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${what} did not open port ${port} within 60 s`);
}

/** A child process that is killed when the test ends; its output is kept for failures. */
export function startProcess(command, args, options, t) {
  const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  child.output = () => output;
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
  });
  return child;
}

/** `switchboard serve` on a free port; resolves to its base URL once it listens. */
export async function serve(t, table, extraEnv = {}) {
  const port = await freePort();
  const child = startProcess(
    BINARY,
    ['serve', '--host', '127.0.0.1', '--port', String(port)],
    { env: gatewayEnv(table, extraEnv) },
    t,
  );
  try {
    await waitForPort(port, 'switchboard serve', child);
  } catch (error) {
    throw new Error(`${error.message}\n${child.output()}`);
  }
  return `http://127.0.0.1:${port}`;
}

/**
 * `vite preview` of the example app on a port of its own (`port`, or a free
 * one); resolves to its origin. `outDir` serves another build than
 * examples/web/dist (see `buildApp`).
 */
export async function preview(t, { port, outDir } = {}) {
  const listen = port ?? (await freePort());
  const child = startProcess(
    path.join(WEB, 'node_modules/.bin/vite'),
    [
      'preview',
      '--host',
      '127.0.0.1',
      '--port',
      String(listen),
      '--strictPort',
      ...(outDir ? ['--outDir', outDir] : []),
    ],
    { cwd: WEB, env: { PATH: process.env.PATH, HOME: process.env.HOME } },
    t,
  );
  try {
    await waitForPort(listen, 'vite preview', child);
  } catch (error) {
    throw new Error(`${error.message}\n${child.output()}`);
  }
  return `http://127.0.0.1:${listen}`;
}

/**
 * The example app built (`vite build`, from the documents scripts/test-browser
 * generated) into a temporary folder, removed when the test ends, for a
 * gateway at `endpoint`: the pages that take no endpoint from their user
 * (accept.html) are bound to one at build time (VITE_GRAPHQL_URL).
 */
export function buildApp(t, endpoint) {
  const outDir = mkdtempSync(path.join(os.tmpdir(), 'switchboard-web-'));
  t.after(() => rmSync(outDir, { recursive: true, force: true }));
  const result = spawnSync(
    path.join(WEB, 'node_modules/.bin/vite'),
    ['build', '--outDir', outDir, '--emptyOutDir', '--logLevel', 'warn'],
    {
      cwd: WEB,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, VITE_GRAPHQL_URL: endpoint },
      encoding: 'utf8',
    },
  );
  if (result.status !== 0) {
    throw new Error(`vite build failed (${result.status}): ${result.stdout}${result.stderr}`);
  }
  return outDir;
}

/**
 * The mails the SES v2 emulator (aws-ses-v2-local, at AWS_ENDPOINT_URL_SESV2)
 * received for `address`, waiting up to `timeoutMs` for at least `count`.
 * Its `GET /store` answers `{ templates, emails: [{ messageId, from,
 * destination: { to, cc, bcc }, subject, body: { text, html }, at, … }] }`,
 * `to` entries as the sender wrote them (`Name <address>` or `address`).
 */
export async function mailsTo(address, { count = 1, timeoutMs = 15000 } = {}) {
  const endpoint = process.env.AWS_ENDPOINT_URL_SESV2;
  if (!endpoint) {
    throw new Error('AWS_ENDPOINT_URL_SESV2 is not set: run the browser tests with scripts/test-browser');
  }
  const wanted = address.toLowerCase();
  const deadline = Date.now() + timeoutMs;
  let mails = [];
  for (;;) {
    const response = await fetch(new URL('/store', endpoint));
    if (!response.ok) throw new Error(`GET ${endpoint}/store: HTTP ${response.status}`);
    const { emails } = await response.json();
    mails = emails.filter((mail) =>
      mail.destination.to.some((to) => (to.match(/<([^>]*)>\s*$/)?.[1] ?? to).trim().toLowerCase() === wanted),
    );
    if (mails.length >= count || Date.now() > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  if (mails.length < count) {
    throw new Error(`${mails.length} mail(s) to ${address} after ${timeoutMs} ms, expected ${count}`);
  }
  return mails;
}

/** A free-form GraphQL request (for seeding data; the browser does the rest). */
export async function graphql(baseUrl, token, query, variables = {}) {
  const response = await fetch(`${baseUrl}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = await response.json();
  if (body.errors) throw new Error(`seeding failed: ${JSON.stringify(body.errors)}`);
  return body.data;
}

/** Headless Chromium (Debian's package), closed when the test ends. */
export async function launchBrowser(t) {
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  t.after(() => browser.close());
  return browser;
}

/** Every request a page makes, and every one that failed. */
export function recordRequests(page) {
  const requests = [];
  const failed = [];
  page.on('request', (request) => requests.push(request));
  page.on('requestfailed', (request) => failed.push(`${request.url()}: ${request.failure()?.errorText}`));
  return { requests, failed };
}

/** The test's output folder (screenshots), created if needed. */
export function outputDir(name) {
  const dir = path.join(OUTPUT, name);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** GraphiQL's CodeMirror editors, read and written through their instances. */
export const editor = {
  value: (page, selector) =>
    page.$eval(`${selector} .CodeMirror`, (element) => element.CodeMirror.getValue()),
  set: (page, selector, text) =>
    page.$eval(`${selector} .CodeMirror`, (element, value) => element.CodeMirror.setValue(value), text),
};
