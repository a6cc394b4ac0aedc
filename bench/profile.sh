#!/usr/bin/env bash
# Where a warm gateway spends its CPU: perf samples of a running
# `switchboard serve` (with symbols: build it with
# CARGO_PROFILE_RELEASE_STRIP=false) while QUERY is sent N times, folded by
# symbol. Used for the profile summary in docs/performance.md.
#
#   bench/profile.sh PID PORT TOKEN QUERY_JSON [N]
set -euo pipefail
pid="$1" port="$2" token="$3" body="$4" n="${5:-3000}"
out="${TMPDIR:-/tmp}/switchboard-perf.data"
perf record -F 2000 -g --call-graph dwarf,16384 -p "$pid" -o "$out" -- sleep 1000 2>/dev/null &
perf_pid=$!
sleep 1
python3 - "$port" "$token" "$body" "$n" <<'PY'
import http.client, sys
port, token, body, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
c = http.client.HTTPConnection("127.0.0.1", int(port))
for _ in range(n):
    c.request("POST", "/graphql", body=body, headers={"content-type": "application/json", "authorization": f"Bearer {token}"})
    r = c.getresponse(); data = r.read()
    assert r.status == 200 and b'"errors"' not in data, data[:300]
PY
kill -INT "$perf_pid"; wait "$perf_pid" || true
perf report -i "$out" --no-children --sort symbol --stdio 2>/dev/null | grep -v '^$' | grep '%' | head -40
echo "--- inclusive (children):"
perf report -i "$out" --children --sort symbol --stdio -g none 2>/dev/null | grep '%' | head -60
