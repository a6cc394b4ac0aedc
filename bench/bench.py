#!/usr/bin/env python3
"""Switchboard's benchmark: every figure of docs/performance.md, one table.

Run through scripts/bench, which builds the binaries, starts DynamoDB Local
and exports the AWS variables this script passes on. Python standard
library only. Each section fails loudly (non-zero exit, the reason on
stderr) when the gateway misbehaves: a GraphQL error, a wrong count, a
Lambda invocation that does not answer. It never asserts a time.

Sections (the numbers follow issue 11):
  1. cold start through the Lambda path, against the Runtime API stand-in
     in this file, beside a hello-world lambda_http floor;
  2. warm CPU per request from /proc, beside a bare aws-sdk-dynamodb loop
     (bench/sdk_floor.rs) making the same DynamoDB calls;
  3. DynamoDB requests (the gateway's own metrics line) and consumed read
     capacity (the bare loop, same calls) per list query;
  4. throughput and latency with wrk on a read and a create;
  5. sizes (passed in by scripts/bench) and peak RSS of the Lambda process
     after its cold start and 1,000 mixed invocations;
  6. CPU and memory per request at 1, 100 and 1,000 items.
"""

import argparse
import http.client
import http.server
import json
import os
import queue
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid

CLK_TCK = os.sysconf("SC_CLK_TCK")
JWT_SECRET = "benchmark-only-secret-0123456789abcdef"


def fail(message):
    print(f"bench: FAILED: {message}", file=sys.stderr)
    sys.exit(1)


def log(message):
    print(f"bench: {message}", file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_ticks(pid):
    """user + system CPU of a process (all its threads), in clock ticks."""
    with open(f"/proc/{pid}/stat") as f:
        rest = f.read().rsplit(")", 1)[1].split()
    return int(rest[11]) + int(rest[12])


def memory_kib(pid):
    """(current RSS, peak RSS) of a process in KiB."""
    values = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(value.split()[0])
    return values["VmRSS"], values["VmHWM"]


def percentile(values, p):
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[index]


# --- Queries ---------------------------------------------------------------

ACCOUNT_QUERY = (
    "query Account($id: ID!) { account(id: $id) { id name cpsLimit "
    "pricingTier { id name ratePerMinute } customer { id companyName status } } }"
)
PAGE_QUERY = (
    "query Accounts($first: Int!, $after: String) { accounts(first: $first, after: $after) { "
    "edges { node { id name cpsLimit pricingTier { id name ratePerMinute } "
    "customer { id companyName status } } } pageInfo { hasNextPage endCursor } } }"
)
CREATE_TIER = (
    "mutation Tier($input: CreatePricingTierInput!) { createPricingTier(input: $input) { id name } }"
)
CREATE_CUSTOMER = (
    "mutation Customer($input: CreateCustomerInput!) { createCustomer(input: $input) { id } }"
)
CREATE_ACCOUNT = (
    "mutation Account($input: CreateAccountInput!) { createAccount(input: $input) { account { id } } }"
)


def tier_input(name):
    return {
        "name": name,
        "description": "benchmark tier",
        "currency": "USD",
        "ratePerMinute": "0.0125",
        "billingIncrementSeconds": 60,
        "minimumDurationSeconds": 0,
    }


# --- The gateway as a local server -------------------------------------------


class Gateway:
    """`switchboard serve` on a free port, with a keep-alive client."""

    def __init__(self, binary, env, log_path):
        self.port = free_port()
        self.log_path = log_path
        self.log_file = open(log_path, "w")
        self.process = subprocess.Popen(
            [binary, "serve", "--port", str(self.port)],
            env=env,
            stdout=self.log_file,
            stderr=subprocess.STDOUT,
        )
        self.token = env["BENCH_TOKEN"]
        deadline = time.time() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    break
            except OSError:
                if self.process.poll() is not None or time.time() > deadline:
                    self.stop()
                    fail(f"the gateway did not start; see {log_path}")
                time.sleep(0.05)
        self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        self.log_offset = 0

    def graphql(self, query, variables=None):
        body = json.dumps({"query": query, "variables": variables or {}})
        self.connection.request(
            "POST",
            "/graphql",
            body=body,
            headers={
                "content-type": "application/json",
                "accept": "application/json",
                "authorization": f"Bearer {self.token}",
            },
        )
        response = self.connection.getresponse()
        payload = json.loads(response.read())
        if response.status != 200 or payload.get("errors"):
            fail(f"{query[:60]}… answered {response.status}: {json.dumps(payload)[:500]}")
        return payload["data"]

    def dynamodb_calls(self):
        """DynamoDB calls of each request since the last call, from the
        gateway's metrics lines (METRICS=on)."""
        self.log_file.flush()
        with open(self.log_path) as f:
            f.seek(self.log_offset)
            text = f.read()
            self.log_offset = f.tell()
        return [json.loads(line)["DynamoDBCalls"] for line in text.splitlines() if '"_aws"' in line]

    def cpu(self):
        return cpu_ticks(self.process.pid)

    def memory(self):
        return memory_kib(self.process.pid)

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log_file.close()


# --- Seeding -------------------------------------------------------------------


def seed(gateway, tiers, customers, accounts, label):
    """`tiers` pricing tiers, `customers` customers and `accounts` accounts
    spread round-robin over both; returns the account ids."""
    started = time.time()
    tier_ids = [
        gateway.graphql(CREATE_TIER, {"input": tier_input(f"{label}-tier-{i}")})["createPricingTier"]["id"]
        for i in range(tiers)
    ]
    customer_ids = []
    for i in range(customers):
        data = gateway.graphql(
            CREATE_CUSTOMER,
            {
                "input": {
                    "customerType": "BUSINESS",
                    "companyName": f"Bench {label} {i}",
                    "firstName": "Bench",
                    "lastName": "Mark",
                    "email": f"bench-{label}-{i}@example.com",
                    "password": "a long benchmark passphrase",
                    "country": "US",
                    "currency": "USD",
                }
            },
        )
        customer_ids.append(data["createCustomer"]["id"])
    account_ids = []
    for i in range(accounts):
        data = gateway.graphql(
            CREATE_ACCOUNT,
            {
                "input": {
                    "customerId": customer_ids[i % customers],
                    "pricingTierId": tier_ids[i % tiers],
                    "name": f"Bench account {i}",
                    "email": f"ops-{i}@example.com",
                    "purchasedCps": 5,
                }
            },
        )
        account_ids.append(data["createAccount"]["account"]["id"])
    log(f"seeded {label}: {tiers} tiers, {customers} customers, {accounts} accounts in {time.time() - started:.1f} s")
    return account_ids


# --- Section 1: cold start through the Lambda Runtime API --------------------


class RuntimeApi:
    """A local Lambda Runtime API: `GET …/invocation/next` hands out the
    queued events, `POST …/{id}/response` records the answer. Enough of
    the API for lambda_runtime; nothing of AWS."""

    def __init__(self):
        self.events = queue.Queue()
        self.answers = queue.Queue()
        self.polls = queue.Queue()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                if not self.path.endswith("/runtime/invocation/next"):
                    self.send_error(404)
                    return
                outer.polls.put(time.perf_counter())
                request_id, event = outer.events.get()
                body = json.dumps(event).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.send_header("lambda-runtime-aws-request-id", request_id)
                self.send_header("lambda-runtime-deadline-ms", str(int(time.time() * 1000) + 30000))
                self.send_header("lambda-runtime-invoked-function-arn", "arn:aws:lambda:us-east-1:123456789012:function:bench")
                self.send_header("lambda-runtime-trace-id", "Root=1-00000000-000000000000000000000000;Sampled=0")
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                length = int(self.headers.get("content-length", 0))
                body = self.rfile.read(length)
                arrived = time.perf_counter()
                match = re.search(r"/runtime/invocation/([^/]+)/(response|error)$", self.path)
                if match:
                    outer.answers.put((arrived, match.group(1), match.group(2), body))
                else:
                    outer.answers.put((arrived, None, "init-error", body))
                self.send_response(202)
                self.send_header("content-length", "0")
                self.end_headers()

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        # A killed function's pending poll ends in a broken pipe: expected.
        self.server.handle_error = lambda *args: None
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def env(self, base):
        """What Lambda gives a function: its own variables, the runtime's,
        and the function's configuration; nothing of this machine's shell
        (e.g. `SSL_CERT_DIR`, which makes the TLS stack read every file in
        a certificate directory at start-up). `SSL_CERT_FILE` names the one
        CA bundle, as docs/performance.md recommends for the function."""
        keep = ("PATH", "LANG", "AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                "AWS_ENDPOINT_URL_DYNAMODB", "TABLE_NAME", "JWT_SECRET", "ACCOUNT_SECRET_KEY", "RUST_LOG")
        env = {k: base[k] for k in keep if k in base}
        env.update(
            {
                "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{self.port}",
                "AWS_LAMBDA_FUNCTION_NAME": "switchboard",
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
                "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
                "AWS_LAMBDA_LOG_STREAM_NAME": "bench",
                "AWS_LAMBDA_LOG_GROUP_NAME": "bench",
                "AWS_DEFAULT_REGION": base.get("AWS_REGION", "us-east-1"),
                "TZ": ":UTC",
                "SSL_CERT_FILE": base.get("BENCH_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt"),
            }
        )
        return env

    def invoke(self, event):
        """Queues `event`, waits for its answer; returns (arrival, answer)."""
        request_id = str(uuid.uuid4())
        self.events.put((request_id, event))
        try:
            arrived, answered_id, kind, body = self.answers.get(timeout=60)
        except queue.Empty:
            fail("the Lambda function did not answer within 60 s")
        if kind != "response" or answered_id != request_id:
            fail(f"the Lambda function answered {kind}: {body[:500]!r}")
        return arrived, json.loads(body)

    def stop(self):
        self.server.shutdown()


def api_event(token, query, variables):
    with open("infra/events/http-api-v2-graphql.json") as f:
        event = json.load(f)
    event["headers"]["authorization"] = f"Bearer {token}"
    event["body"] = json.dumps({"query": query, "variables": variables})
    event["requestContext"]["requestId"] = uuid.uuid4().hex[:16]
    return event


def check_lambda_answer(answer, graphql=True):
    if answer.get("statusCode") != 200:
        fail(f"Lambda answer {answer.get('statusCode')}: {str(answer)[:500]}")
    if graphql:
        body = json.loads(answer["body"])
        if body.get("errors") or not body.get("data"):
            fail(f"Lambda answer has errors: {answer['body'][:500]}")


def cold_starts(binary, base_env, event, runs, graphql=True):
    """Exec-to-first-answer times (ms) of `runs` fresh processes, each with
    a Runtime API of its own (a killed process leaves a `next` poll behind
    that must not swallow the following run's event), and of each the part
    before its first poll (Lambda's "Init Duration")."""
    times = []
    inits = []
    for _ in range(runs):
        runtime = RuntimeApi()
        try:
            request_id = str(uuid.uuid4())
            runtime.events.put((request_id, event))
            env = runtime.env(base_env)
            started = time.perf_counter()
            process = subprocess.Popen([binary], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                arrived, answered_id, kind, body = runtime.answers.get(timeout=60)
            except queue.Empty:
                fail(f"{binary} did not answer its first invocation within 60 s")
            finally:
                process.kill()
                process.wait()
        finally:
            runtime.stop()
        if kind != "response" or answered_id != request_id:
            fail(f"{binary} answered {kind}: {body[:500]!r}")
        check_lambda_answer(json.loads(body), graphql)
        times.append((arrived - started) * 1000)
        inits.append((runtime.polls.get_nowait() - started) * 1000)
    return times, inits


def lambda_peak_rss(binary, base_env, first_event, events, count):
    """Peak RSS (KiB) and CPU per invocation (ms) of one Lambda process
    after its cold start and `count` invocations cycling through the event
    makers `events`."""
    runtime = RuntimeApi()
    env = runtime.env(base_env)
    process = subprocess.Popen([binary], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _, first = runtime.invoke(first_event)
        check_lambda_answer(first)
        before = cpu_ticks(process.pid)
        for i in range(count):
            _, answer = runtime.invoke(events[i % len(events)]())
            check_lambda_answer(answer)
        cpu = (cpu_ticks(process.pid) - before) * 1000 / CLK_TCK / count
        _, peak = memory_kib(process.pid)
    finally:
        process.kill()
        process.wait()
        runtime.stop()
    return peak, cpu


def lambda_cpu(binary, base_env, first_event, make_event, count, graphql=True):
    """CPU ms per invocation of one warm Lambda process (after its cold
    start and one more invocation) over `count` invocations of
    `make_event()`, and the wall time per invocation (ms): what Lambda
    bills, measured as on the local server."""
    runtime = RuntimeApi()
    env = runtime.env(base_env)
    process = subprocess.Popen([binary], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for event in (first_event, make_event()):
            _, answer = runtime.invoke(event)
            check_lambda_answer(answer, graphql)
        before = cpu_ticks(process.pid)
        started = time.perf_counter()
        for _ in range(count):
            _, answer = runtime.invoke(make_event())
            check_lambda_answer(answer, graphql)
        wall = (time.perf_counter() - started) * 1000 / count
        cpu = (cpu_ticks(process.pid) - before) * 1000 / CLK_TCK / count
    finally:
        process.kill()
        process.wait()
        runtime.stop()
    return cpu, wall


# --- Section 2, 3, 6: warm CPU, requests and capacity, scale ------------------


def sdk_floor(binary, table, args):
    output = subprocess.run(
        [binary, "--table", table, *[str(a) for a in args]], capture_output=True, text=True, env=os.environ
    )
    if output.returncode != 0:
        fail(f"bench-sdk-floor {' '.join(map(str, args))}: {output.stderr[-1000:]}")
    return json.loads(output.stdout)


def walk_pages(gateway, first, pages):
    """Runs `accounts(first:)` for `pages` pages; returns the items read."""
    after = None
    items = 0
    for _ in range(pages):
        data = gateway.graphql(PAGE_QUERY, {"first": first, "after": after})["accounts"]
        items += len(data["edges"])
        if not data["pageInfo"]["hasNextPage"]:
            break
        after = data["pageInfo"]["endCursor"]
    return items


def gateway_cpu(gateway, run, iterations):
    """CPU ms per iteration of `run`, the peak RSS (KiB) after it, and the
    wall time per iteration as the client sees it (ms)."""
    run()  # warm: connections, caches
    before = gateway.cpu()
    started = time.perf_counter()
    for _ in range(iterations):
        run()
    wall = (time.perf_counter() - started) * 1000 / iterations
    cpu = (gateway.cpu() - before) * 1000 / CLK_TCK / iterations
    return cpu, gateway.memory()[1], wall


# --- Section 4: wrk ------------------------------------------------------------

WRK_SCRIPT = """
local counter = 0
local threads = {}
function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end
request = function()
  counter = counter + 1
  local body = BODY_TEMPLATE
  body = string.gsub(body, "__N__", tostring(tid) .. "-" .. tostring(counter))
  return wrk.format("POST", "/graphql", {
    ["content-type"] = "application/json",
    ["accept"] = "application/json",
    ["authorization"] = "Bearer TOKEN",
  }, body)
end
response = function(status, headers, body)
  if status ~= 200 or string.find(body, '"errors"') then
    bad = (bad or 0) + 1
    if bad == 1 then io.stderr:write("wrk: unexpected answer " .. status .. " " .. string.sub(body, 1, 300) .. "\\n") end
  end
end
done = function(summary, latency, requests)
  io.write(string.format("BENCH p50=%.3f p99=%.3f\\n", latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
"""


def lua_string(text):
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def wrk(gateway, body, duration, connections, workdir, name):
    script = os.path.join(workdir, f"{name}.lua")
    with open(script, "w") as f:
        f.write(WRK_SCRIPT.replace("BODY_TEMPLATE", lua_string(body)).replace("TOKEN", gateway.token))
    output = subprocess.run(
        ["wrk", "-t", "2", "-c", str(connections), "-d", f"{duration}s", "--latency", "-s", script,
         f"http://127.0.0.1:{gateway.port}"],
        capture_output=True,
        text=True,
    )
    if output.returncode != 0 or "unexpected answer" in output.stderr:
        fail(f"wrk {name}: {output.stderr[-1000:]}{output.stdout[-1000:]}")
    if "Non-2xx" in output.stdout or "Socket errors" in output.stdout:
        fail(f"wrk {name} saw errors:\n{output.stdout}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output.stdout).group(1))
    match = re.search(r"BENCH p50=([\d.]+) p99=([\d.]+)", output.stdout)
    total = int(re.search(r"(\d+) requests in", output.stdout).group(1))
    if total == 0:
        fail(f"wrk {name} made no request")
    return rps, float(match.group(1)), float(match.group(2)), total


# --- The run -------------------------------------------------------------------


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin-dir", required=True, help="directory with switchboard, bench-floor, bench-sdk-floor")
    parser.add_argument("--small", action="store_true", help="a few seconds: tiny data, few iterations")
    parser.add_argument("--sizes", default="{}", help="JSON of Lambda artefact sizes measured by scripts/bench")
    parser.add_argument("--out", help="write the table (markdown) here too")
    args = parser.parse_args()
    small = args.small
    switchboard = os.path.join(args.bin_dir, "switchboard")
    floor = os.path.join(args.bin_dir, "bench-floor")
    sdk = os.path.join(args.bin_dir, "bench-sdk-floor")
    for binary in (switchboard, floor, sdk):
        if not os.access(binary, os.X_OK):
            fail(f"{binary} is not built")
    if "AWS_ENDPOINT_URL_DYNAMODB" not in os.environ:
        fail("AWS_ENDPOINT_URL_DYNAMODB is not set (scripts/bench starts DynamoDB Local)")
    if shutil.which("wrk") is None:
        fail("wrk is not installed (scripts/bench installs it: apt-get install wrk)")

    workdir = tempfile.mkdtemp(prefix="switchboard-bench-")
    prefix = f"bench-{uuid.uuid4().hex[:8]}"
    base_env = dict(os.environ)
    base_env.update(
        {
            "JWT_SECRET": JWT_SECRET,
            "ACCOUNT_SECRET_KEY": "benchmark-only-account-key-0123456789",
            "METRICS": "on",
            "RUST_LOG": base_env.get("RUST_LOG", "info"),
        }
    )
    token = subprocess.run(
        [switchboard, "token", "--admin", "--ttl", "2h"], env=base_env, capture_output=True, text=True, check=True
    ).stdout.strip()
    base_env["BENCH_TOKEN"] = token

    def table_env(table):
        env = dict(base_env)
        env["TABLE_NAME"] = table
        created = subprocess.run([switchboard, "create-tables"], env=env, capture_output=True, text=True)
        if created.returncode != 0:
            fail(f"create-tables {table}: {created.stderr}")
        return env

    sizes = json.loads(args.sizes)
    rows = []  # (section, figure, value, floor, ratio or note)

    # Datasets: few tiers and many tiers, same accounts.
    n_accounts = 12 if small else 1000
    n_customers = 2 if small else 10
    few_tiers = 5
    many_tiers = 12 if small else 1000
    tables = {"few": f"{prefix}-few", "many": f"{prefix}-many"}
    envs = {k: table_env(t) for k, t in tables.items()}
    ids = {}
    for kind, tiers in (("few", few_tiers), ("many", many_tiers)):
        gateway = Gateway(switchboard, envs[kind], os.path.join(workdir, f"seed-{kind}.log"))
        try:
            ids[kind] = seed(gateway, tiers, n_customers, n_accounts, kind)
        finally:
            gateway.stop()

    # 1. Cold start. First, what the TLS provider's first random draw costs a
    # process (a TLS handshake's first draw; DynamoDB Local speaks plain
    # HTTP, so the cold starts below never pay it). aws-lc's seeding took
    # 74 ms; ring reads getrandom.
    draws = [sdk_floor(sdk, "-", ["rng"]) for _ in range(3 if small else 20)]
    rows.append(("1 cold start", "TLS provider (ring) first random draw, median",
                 f"{statistics.median(d['first_ms'] for d in draws):.2f} ms",
                 f"second draw {statistics.median(d['second_ms'] for d in draws):.3f} ms"))

    runs = 3 if small else 25
    account_id = ids["many"][0]
    event = api_event(token, ACCOUNT_QUERY, {"id": account_id})
    floor_times, floor_inits = cold_starts(floor, envs["many"], event, runs, graphql=False)
    gateway_times, gateway_inits = cold_starts(switchboard, envs["many"], event, runs)
    rows.append(("1 cold start", f"hello-world floor, median / p90 of {runs}",
                 f"{statistics.median(floor_times):.1f} / {percentile(floor_times, 90):.1f} ms",
                 f"init {statistics.median(floor_inits):.1f} ms"))
    rows.append(("1 cold start", f"gateway (account + tier + customer), median / p90 of {runs}",
                 f"{statistics.median(gateway_times):.1f} / {percentile(gateway_times, 90):.1f} ms",
                 f"+{statistics.median(gateway_times) - statistics.median(floor_times):.1f} ms over the floor; "
                 f"init {statistics.median(gateway_inits):.1f} ms"))

    # 5. Peak RSS after cold start + 1,000 mixed invocations (Lambda path).
    mixed_count = 20 if small else 1000
    counter = iter(range(10**9))
    mixed = [
        lambda: api_event(token, ACCOUNT_QUERY, {"id": ids["many"][next(counter) % len(ids["many"])]}),
        lambda: api_event(token, PAGE_QUERY, {"first": 100, "after": None}),
        lambda: api_event(token, PAGE_QUERY, {"first": 10, "after": None}),
        lambda: api_event(token, CREATE_TIER, {"input": tier_input(f"mixed-{next(counter)}")}),
    ]
    peak, mixed_cpu = lambda_peak_rss(switchboard, envs["many"], event, mixed, mixed_count)
    rows.append(("5 memory", f"peak RSS, Lambda path, cold start + {mixed_count} mixed invocations",
                 f"{peak / 1024:.1f} MiB", f"{mixed_cpu:.2f} ms CPU per invocation"))

    # 2, 3, 6. Warm CPU, requests and capacity, scale.
    iterations = {"single": 30 if small else 2000, "page": 5 if small else 200, "thousand": 2 if small else 20}
    page_size = 10 if small else 100
    pages_1000 = 2 if small else 10
    gateway = Gateway(switchboard, envs["many"], os.path.join(workdir, "warm.log"))
    try:
        scale = []
        cpu1, rss1, wall1 = gateway_cpu(gateway, lambda: gateway.graphql(ACCOUNT_QUERY, {"id": account_id}), iterations["single"])
        floor1 = sdk_floor(sdk, tables["many"], ["single", account_id, iterations["single"]])
        cpu100, rss100, wall100 = gateway_cpu(gateway, lambda: walk_pages(gateway, page_size, 1), iterations["page"])
        floor100 = sdk_floor(sdk, tables["many"], ["page", page_size, 1, iterations["page"]])
        cpu1000, rss1000, _ = gateway_cpu(gateway, lambda: walk_pages(gateway, page_size, pages_1000), iterations["thousand"])
        floor1000 = sdk_floor(sdk, tables["many"], ["page", page_size, pages_1000, iterations["thousand"]])
        for label, cpu, floor_run, target in (
            ("1 account + tier + customer", cpu1, floor1, 1.5),
            (f"{page_size}-account page", cpu100, floor100, 2.0),
        ):
            ratio = cpu / floor_run["cpu_ms"] if floor_run["cpu_ms"] > 0 else float("nan")
            rows.append(("2 warm CPU, server", f"{label}: gateway / bare SDK per request",
                         f"{cpu:.3f} / {floor_run['cpu_ms']:.3f} ms", f"{ratio:.2f}× (target ≤ {target}×)"))
        # The same two queries through the Lambda path (Runtime API client,
        # API Gateway event), the one Lambda bills.
        lambda1, _ = lambda_cpu(switchboard, envs["many"], event,
                                lambda: api_event(token, ACCOUNT_QUERY, {"id": account_id}), iterations["single"])
        lambda100, _ = lambda_cpu(switchboard, envs["many"], event,
                                  lambda: api_event(token, PAGE_QUERY, {"first": page_size, "after": None}),
                                  iterations["page"])
        # What any function pays per invocation for the Runtime API's two
        # HTTP calls and the event's JSON: the hello-world floor, warm.
        runtime_floor, _ = lambda_cpu(floor, envs["many"], event,
                                      lambda: api_event(token, ACCOUNT_QUERY, {"id": account_id}),
                                      iterations["single"], graphql=False)
        rows.append(("2 warm CPU, Lambda", "hello-world floor per invocation (Runtime API calls, event JSON)",
                     f"{runtime_floor:.3f} ms", "paid by every Lambda function, whatever it does"))
        for label, cpu, floor_run, target in (
            ("1 account + tier + customer", lambda1, floor1, 1.5),
            (f"{page_size}-account page", lambda100, floor100, 2.0),
        ):
            ratio = cpu / floor_run["cpu_ms"] if floor_run["cpu_ms"] > 0 else float("nan")
            both = floor_run["cpu_ms"] + runtime_floor
            rows.append(("2 warm CPU, Lambda", f"{label}: gateway / bare SDK per invocation",
                         f"{cpu:.3f} / {floor_run['cpu_ms']:.3f} ms",
                         f"{ratio:.2f}× (target ≤ {target}×); {cpu / both:.2f}× bare SDK + hello-world floor"))
        for label, wall, floor_run in (("1 account", wall1, floor1), (f"{page_size}-account page", wall100, floor100)):
            rows.append(("2 warm CPU", f"{label}: wall time per request, gateway / bare SDK",
                         f"{wall:.2f} / {floor_run['wall_ms']:.2f} ms",
                         "the difference bounds any DataLoader wait (its delay is 0)"))
        items_1000 = page_size * pages_1000
        for items, cpu, rss, floor_run in ((1, cpu1, rss1, floor1), (page_size, cpu100, rss100, floor100),
                                          (items_1000, cpu1000, rss1000, floor1000)):
            scale.append((items, cpu, rss, floor_run["cpu_ms"]))
            rows.append(("6 scale", f"{items} item(s) per request: CPU, bare SDK CPU, peak RSS",
                         f"{cpu:.3f} ms, {floor_run['cpu_ms']:.3f} ms", f"{rss / 1024:.1f} MiB"))
        gateway.dynamodb_calls()  # skip the warm-up lines
        item_sizes = sdk_floor(sdk, tables["many"], ["sizes", account_id])
        rows.append(("6 scale", "item sizes (bytes): account, tier, customer",
                     f"{item_sizes['account']}, {item_sizes['tier']}, {item_sizes['customer']}",
                     "inputs of the hot-partition model"))

        # 3. DynamoDB requests and capacity per list.
        lists = [10, 100, 1000] if not small else [5, 10]
        for kind, tiers in (("few", few_tiers), ("many", many_tiers)):
            list_gateway = gateway if kind == "many" else Gateway(switchboard, envs[kind], os.path.join(workdir, "lists.log"))
            try:
                list_gateway.dynamodb_calls()
                for size in lists:
                    first = min(size, 100)
                    pages = -(-size // first)
                    read = walk_pages(list_gateway, first, pages)
                    if read != min(size, n_accounts):
                        fail(f"listing {size} accounts read {read}")
                    calls = sum(list_gateway.dynamodb_calls())
                    floor_run = sdk_floor(sdk, tables[kind], ["page", first, pages, 1])
                    if floor_run["requests"] != calls:
                        fail(f"the bare loop made {floor_run['requests']} DynamoDB requests for {size} accounts, "
                             f"the gateway {calls}: bench/sdk_floor.rs no longer mirrors src/store")
                    rows.append(("3 DynamoDB", f"{size} accounts over {tiers} tiers ({pages} page(s) of {first})",
                                 f"{calls} requests", f"{floor_run['capacity']:.1f} RCU"))
            finally:
                if list_gateway is not gateway:
                    list_gateway.stop()
    finally:
        gateway.stop()

    # 4. Throughput and latency (a table of its own, so creates do not change the lists above).
    throughput_env = table_env(f"{prefix}-load")
    gateway = Gateway(switchboard, throughput_env, os.path.join(workdir, "load.log"))
    try:
        load_ids = seed(gateway, 2, 1, 2, "load")
        duration = 1 if small else 10
        read_body = json.dumps({"query": ACCOUNT_QUERY, "variables": {"id": load_ids[0]}})
        create_body = json.dumps({"query": CREATE_TIER, "variables": {"input": tier_input("wrk-__N__")}})
        for name, body in (("read: account + tier + customer", read_body), ("create: createPricingTier", create_body)):
            rps, p50, p99, total = wrk(gateway, body, duration, 4 if small else 16, workdir, name.split(":")[0])
            rows.append(("4 load (wrk, 2 threads)", name, f"{rps:.0f} req/s", f"p50 {p50:.2f} ms, p99 {p99:.2f} ms ({total} requests)"))
    finally:
        gateway.stop()

    # 5. Sizes, measured by scripts/bench (cross builds take minutes).
    for arch in ("aarch64", "x86_64"):
        entry = sizes.get(arch)
        if entry:
            rows.append(("5 size", f"bootstrap {arch} (stripped) / zip", f"{entry['bootstrap'] / 1e6:.1f} MB",
                         f"zip {entry['zip'] / 1e6:.2f} MB (target ≤ 5 MB)"))
        else:
            rows.append(("5 size", f"bootstrap {arch}", "not built", "scripts/bench without --small builds it"))

    width = [max(len(r[i]) for r in rows) for i in range(4)]
    header = ("section", "figure", "value", "beside")
    lines = ["| " + " | ".join(h.ljust(w) for h, w in zip(header, width)) + " |",
             "| " + " | ".join("-" * w for w in width) + " |"]
    for row in rows:
        lines.append("| " + " | ".join(c.ljust(w) for c, w in zip(row, width)) + " |")
    table = "\n".join(lines)
    print(table)
    if args.out:
        with open(args.out, "w") as f:
            f.write(table + "\n")
    shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
