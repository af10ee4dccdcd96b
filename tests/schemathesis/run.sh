#!/usr/bin/env bash
# schemathesis against a real `clinval serve --demo` (the debug binary
# `cargo test` built), from the document the server serves at
# /api/v1/openapi.json: every operation, every phase (examples, coverage,
# fuzzing, stateful), a bounded number of examples per operation, with an
# admin token (admin implies every scope). Fails on any 5xx, any status,
# content type or body the document does not describe.
#
# Run: bash tests/schemathesis/run.sh [max examples per operation, default 50]
# (needs target/st: python3 -m venv target/st && target/st/bin/pip install -r tests/schemathesis/requirements.txt)
set -euo pipefail
cd "$(dirname "$0")/../.."
examples=${1:-50}
binary=target/debug/clinval
data=$(mktemp -d)
log="$data/server.log"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$binary" serve --demo --log-format json --listen "127.0.0.1:$port" --data-dir "$data/store" >"$log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; wait $server 2>/dev/null || true; rm -rf "$data"' EXIT
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break
  sleep 0.2
done
token=$("$binary" token create --scope admin --label schemathesis --data-dir "$data/store" | grep -o 'clv_[0-9a-f]*')
# One worker: hypothesis's lambda descriptions crash CPython 3.11's AST
# parser when several threads build strategies at once (the coverage phase).
# From the temporary directory: schemathesis keeps a cache where it runs.
st="$PWD/target/st/bin/schemathesis"
(cd "$data" && "$st" --no-color run "http://127.0.0.1:$port/api/v1/openapi.json" \
  --header "Authorization: Bearer $token" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance \
  --max-examples "$examples" --workers 1 --seed 1)
# Nothing the fuzzer sent may reach the log as a value.
if grep -q '"level":"ERROR"' "$log"; then
  echo "the server logged an error during the run:" >&2
  grep '"level":"ERROR"' "$log" >&2
  exit 1
fi
