// The binary as a Lambda function, reached by a browser through a small
// stand-in for API Gateway (HTTP API, a named stage) and the Lambda Runtime
// API: each browser request becomes an API Gateway v2 event
// (`rawPath: /<stage>/...`, `requestContext.stage`), the function takes it
// from `/2018-06-01/runtime/invocation/next` as on Lambda, and its response
// goes back to the browser. One invocation at a time, as in one execution
// environment.
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { BINARY, freePort, gatewayEnv, startProcess } from './harness.mjs';

const TEXT = /^(text\/|application\/(json|graphql-response\+json|javascript|xml))/i;

function listen(t, port, handler) {
  const server = http.createServer(handler);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      t.after(() => {
        server.closeAllConnections();
        return new Promise((done) => server.close(done));
      });
      resolve(server);
    });
  });
}

function readBody(request) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    request.on('data', (chunk) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

/** The API Gateway HTTP API (payload 2.0) event for one browser request. */
function toEvent(request, body, stage, requestId) {
  const url = new URL(request.url, 'http://stand-in');
  const headers = {};
  let cookies;
  for (const [name, value] of Object.entries(request.headers)) {
    if (name === 'cookie') cookies = String(value).split(/;\s*/);
    else headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  const query = {};
  for (const [name, value] of url.searchParams) query[name] = name in query ? `${query[name]},${value}` : value;
  const now = new Date();
  const text = body.length === 0 || TEXT.test(headers['content-type'] ?? '');
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    ...(cookies ? { cookies } : {}),
    headers,
    ...(url.search ? { queryStringParameters: query } : {}),
    requestContext: {
      accountId: '123456789012',
      apiId: 'standin',
      domainName: headers.host,
      domainPrefix: 'standin',
      http: {
        method: request.method,
        path: url.pathname,
        protocol: 'HTTP/1.1',
        sourceIp: '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId,
      routeKey: '$default',
      stage,
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    ...(body.length ? { body: text ? body.toString('utf8') : body.toString('base64') } : {}),
    isBase64Encoded: !text,
  };
}

/**
 * Starts the stand-ins and the function. Resolves to the stage's base URL
 * (`http://127.0.0.1:<port>/<stage>/`) and the events handed to the function.
 */
export async function lambdaBehindStage(t, table, stage, extraEnv = {}) {
  const queue = []; // events waiting for the function
  const waiting = []; // the function's held `next` polls
  const pending = new Map(); // request id → browser response
  const events = [];

  function dispatch() {
    while (queue.length && waiting.length) {
      const { id, event } = queue.shift();
      const poll = waiting.shift();
      poll.writeHead(200, {
        'content-type': 'application/json',
        'lambda-runtime-aws-request-id': id,
        'lambda-runtime-deadline-ms': String(Date.now() + 30_000),
        'lambda-runtime-invoked-function-arn': 'arn:aws:lambda:us-east-1:123456789012:function:switchboard',
        'lambda-runtime-trace-id': `Root=1-${Date.now().toString(16)}-${id.replaceAll('-', '').slice(0, 24)};Sampled=0`,
      });
      poll.end(JSON.stringify(event));
    }
  }

  const runtimePort = await freePort();
  await listen(t, runtimePort, async (request, response) => {
    const body = await readBody(request);
    const path = request.url ?? '';
    if (request.method === 'GET' && path === '/2018-06-01/runtime/invocation/next') {
      waiting.push(response);
      return dispatch();
    }
    const reply = /^\/2018-06-01\/runtime\/invocation\/([^/]+)\/(response|error)$/.exec(path);
    const browser = reply && pending.get(reply[1]);
    if (browser) {
      pending.delete(reply[1]);
      if (reply[2] === 'response') {
        const answer = JSON.parse(body.toString('utf8'));
        const headers = { ...(answer.headers ?? {}) };
        if (answer.cookies?.length) headers['set-cookie'] = answer.cookies;
        browser.writeHead(answer.statusCode ?? 200, headers);
        browser.end(answer.body ? Buffer.from(answer.body, answer.isBase64Encoded ? 'base64' : 'utf8') : undefined);
      } else {
        browser.writeHead(502, { 'content-type': 'application/json' });
        browser.end('{"message":"Internal Server Error"}');
      }
    }
    response.writeHead(202).end();
  });

  const apiPort = await freePort();
  await listen(t, apiPort, async (request, response) => {
    const body = await readBody(request);
    const path = new URL(request.url, 'http://stand-in').pathname;
    if (path !== `/${stage}` && !path.startsWith(`/${stage}/`)) {
      response.writeHead(404, { 'content-type': 'application/json' });
      return response.end('{"message":"Not Found"}');
    }
    const id = randomUUID();
    const event = toEvent(request, body, stage, id);
    events.push(event);
    pending.set(id, response);
    queue.push({ id, event });
    dispatch();
  });

  startProcess(
    BINARY,
    [],
    {
      env: gatewayEnv(table, {
        AWS_LAMBDA_RUNTIME_API: `127.0.0.1:${runtimePort}`,
        AWS_LAMBDA_FUNCTION_NAME: 'switchboard',
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '512',
        AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
        AWS_LAMBDA_LOG_STREAM_NAME: 'browser-test',
        AWS_LAMBDA_LOG_GROUP_NAME: 'browser-test',
        ...extraEnv,
      }),
    },
    t,
  );
  return { url: `http://127.0.0.1:${apiPort}/${stage}/`, events };
}
