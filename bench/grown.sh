#!/usr/bin/env bash
# bench/run.sh --grown (bench/README.md "Growth"): the same loads against an empty and a
# grown database in one run, and what only a grown database shows: a consent screen with
# 10,000 ended grants and 1,000,000 activity lines, the agent API's lists with 100,000
# requests, the sweep deleting 1,000,000 expired rows while requests run, `audit verify`
# over 20,000,000 events, and the database's size per million rows of each table.
#
#   bench/run.sh --grown            # grows once (minutes), then about 15 minutes
#   bench/run.sh --grown --smoke    # seconds, tiny sizes (CI: the tooling keeps working)
#
# Env knobs (defaults):
#   GROW_ARGS=            extra flags for `behalf grow` (default: the issue's sizes)
#   GROWN_DIR=/tmp/behalf-grown  where grown databases are kept and reused (REGROW=1: grow anew)
#   CONNS="10 64"  LOADS=(run.sh's core loads)  DURATION, WARMUP...  passed to run.sh
#   EXTRA_DURATION=10     seconds per extra run (/account, the agent list, the sweep's runs)
#   SWEEP_ROWS=1000000    expired token records added for the sweep to delete
#   SERVER_CPUS=0 LOAD_CPUS=1
#   RUN_LOADS=1           0: skip run.sh's loads (only what growth alone shows)
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
SMOKE=0
for arg in "$@"; do
  case $arg in
    --grown) ;;
    --smoke) SMOKE=1 ;;
    *) echo "bench/grown.sh: unknown argument $arg" >&2; exit 2 ;;
  esac
done
BIN_SRC=${BEHALF_BIN:-$ROOT/target/release/behalf}
SERVER_CPUS=${SERVER_CPUS:-0}
LOAD_CPUS=${LOAD_CPUS:-1}
EXTRA_DURATION=${EXTRA_DURATION:-10}
SWEEP_ROWS=${SWEEP_ROWS:-1000000}
GROW_ARGS=${GROW_ARGS:-}
GROWN_DIR=${GROWN_DIR:-/tmp/behalf-grown}
export CONNS=${CONNS:-10 64}
export LOADS=${LOADS:-client_credentials token_exchange revoke introspect_delegated authorization_code}
if [[ $SMOKE == 1 ]]; then
  GROW_ARGS="--users 2000 --grants 5000 --requests 5000 --tokens 20000 --refresh-tokens 2000 --sessions 2000
    --audit-events 20000 --heavy-ended-grants 200 --heavy-activity 2000 --agent-requests 500"
  EXTRA_DURATION=1 SWEEP_ROWS=5000
  export CONNS=1 DURATION=1 WARMUP=0 REVOKE_DURATION=1 AC_DURATION=1 IDLE_BUDGET=0
fi
for tool in wrk curl python3 taskset; do
  command -v "$tool" >/dev/null || { echo "missing $tool" >&2; exit 2; }
done
[[ -x $BIN_SRC ]] || { echo "no behalf binary at $BIN_SRC (cargo build --release)" >&2; exit 2; }

STAMP=$(date -u +%Y%m%dT%H%M%SZ)
OUT=$HERE/results/$STAMP-grown
mkdir -p "$OUT"
WORK=$(mktemp -d "${BENCH_TMP:-/tmp}/behalf-grown.XXXXXX")
[[ $SMOKE == 1 ]] && GROWN_DIR=$WORK/templates
cp "$BIN_SRC" "$WORK/behalf"
BIN=$WORK/behalf
SERVER_PID=
log() { printf '[grown %s] %s\n' "$(date +%T)" "$*" >&2; }
cleanup() {
  set +e
  [[ -n $SERVER_PID ]] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
json_field() { python3 -c 'import json,sys; v=json.load(sys.stdin).get(sys.argv[1]); print("" if v is None else v)' "$1"; }
mib() { awk -v k="$1" 'BEGIN{printf "%.1f", k/1024}'; }

# ---------------------------------------------------------------- the two databases
# Both are seeded by `serve --demo`; the grown one then by `behalf grow`. Kept in
# GROWN_DIR under a key of the grow flags and the newest migration, and reused.
KEY=$(printf '%s|%s' "$GROW_ARGS" "$(ls "$ROOT/migrations/sqlite" | tail -1)" | sha256sum | cut -c1-12)
T=$GROWN_DIR/$KEY
EMPTY=$T/empty.db SMALL=$T/small.db GROWN=$T/grown.db
# The small database: every list and page already full (more than 50 of each), so
# that comparing it with the grown one shows the cost of growth alone.
SMALL_ARGS="--users 200 --grants 1000 --requests 1000 --tokens 1000 --refresh-tokens 200 --sessions 200
  --audit-events 2000 --heavy-ended-grants 100 --heavy-activity 1000 --agent-requests 200"

# starts `serve --demo` on database $1 (pinned, logging to $2.log); sets SERVER_PID, BASE, BOB_TOKEN
start_server() {
  local port; port=$(free_port)
  BASE=http://127.0.0.1:$port
  BEHALF_DATABASE_URL=sqlite://$1 BEHALF_LISTEN=127.0.0.1:$port BEHALF_ISSUER=$BASE \
    BEHALF_LOG=${SERVER_LOG:-warn} taskset -c "$SERVER_CPUS" "$BIN" serve --demo >"$2.stdout" 2>"$2.stderr" &
  SERVER_PID=$!
  for _ in $(seq 1 600); do
    [[ $(curl -s -o /dev/null -w '%{http_code}' "$BASE/readyz" || true) == 200 ]] && grep -q '^export BOB_TOKEN=' "$2.stdout" && break
    kill -0 "$SERVER_PID" 2>/dev/null || { echo "behalf exited:" >&2; cat "$2.stderr" >&2; exit 1; }
    sleep 0.1
  done
  BOB_TOKEN=$(sed -n 's/^export BOB_TOKEN=//p' "$2.stdout")
}
stop_server() { kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=; }
# folds the write-ahead log into the file, so that a copy of the file alone is whole
checkpoint() { python3 -c 'import sqlite3,sys; sqlite3.connect(sys.argv[1]).execute("PRAGMA wal_checkpoint(TRUNCATE)")' "$1"; }
db_url() { echo "sqlite://$1"; }

if [[ ${REGROW:-0} == 1 || ! -f $T/done ]]; then
  rm -rf "$T"; mkdir -p "$T"
  log "seeding the empty database (serve --demo)"
  start_server "$EMPTY" "$T/seed"; stop_server; checkpoint "$EMPTY"
  # One key-encryption key for all, so that copies open anywhere.
  cp "$EMPTY.kek" "$T/kek"
  cp "$EMPTY" "$GROWN"; cp "$EMPTY" "$SMALL"
  # shellcheck disable=SC2086
  BEHALF_KEY_ENCRYPTION_KEY=$(cat "$T/kek") "$BIN" grow --database-url "$(db_url "$SMALL")" --expired-tokens 0 \
    $SMALL_ARGS >"$T/small.jsonl" 2>"$T/small.log" || { tail -5 "$T/small.log" >&2; exit 1; }
  checkpoint "$SMALL"
  log "growing $GROWN (behalf grow $GROW_ARGS)"
  # shellcheck disable=SC2086
  BEHALF_KEY_ENCRYPTION_KEY=$(cat "$T/kek") /usr/bin/time -f '%e %M' -o "$T/grow.time" \
    "$BIN" grow --database-url "$(db_url "$GROWN")" --expired-tokens 0 $GROW_ARGS >"$T/grow.jsonl" 2>"$T/grow.log" \
    || { tail -5 "$T/grow.log" >&2; exit 1; }
  log "audit verify over the grown trail"
  BEHALF_KEY_ENCRYPTION_KEY=$(cat "$T/kek") /usr/bin/time -f '%e %M' -o "$T/verify.time" \
    taskset -c "$SERVER_CPUS" "$BIN" audit verify --database-url "$(db_url "$GROWN")" >"$T/verify.out" 2>&1 \
    || { cat "$T/verify.out" >&2; exit 1; }
  checkpoint "$GROWN"
  touch "$T/done"
else
  log "reusing the databases in $T (REGROW=1 grows anew)"
fi
export BEHALF_KEY_ENCRYPTION_KEY
BEHALF_KEY_ENCRYPTION_KEY=$(cat "$T/kek")
cp "$T"/grow.jsonl "$T"/grow.time "$T"/verify.time "$T"/verify.out "$OUT/"
ls -l "$EMPTY" "$GROWN" >"$OUT/sizes.txt"

# ---------------------------------------------------------------- the same loads, both databases
for phase in empty grown; do
  [[ ${RUN_LOADS:-1} == 1 ]] || break
  db=$EMPTY; [[ $phase == grown ]] && db=$GROWN
  log "run.sh on the $phase database ($(du -h "$db" | cut -f1))"
  PEER=0 DB_TEMPLATE=$db RAW_DIR_OUT=$WORK/$phase.raw "$HERE/run.sh" >"$OUT/run-$phase.md" 2>"$OUT/run-$phase.log" \
    || { tail -20 "$OUT/run-$phase.log" >&2; exit 1; }
  cp "$(cat "$WORK/$phase.raw")/rows.tsv" "$OUT/rows-$phase.tsv"
  if [[ $SMOKE == 1 ]]; then
    python3 "$HERE/report.py" --check "$(cat "$WORK/$phase.raw")" || { log "smoke: FAILED ($phase database)"; exit 1; }
  fi
done

# ---------------------------------------------------------------- what only growth shows
# one wrk run; appends "phase load conns RESULT-fields" to extras.tsv
extra_run() {
  local phase=$1 load=$2 c=$3 secs=$4; shift 4
  local th=1; (( c >= 64 )) && th=2
  env "$@" BENCH_LUA_DIR="$HERE/lua" taskset -c "$LOAD_CPUS" \
    wrk -t"$th" -c"$c" -d"${secs}s" --timeout 5s -s "$HERE/lua/${SCRIPT:-get.lua}" "$BASE" >"$OUT/$phase-$load-c$c.txt" 2>&1 || true
  local line; line=$(grep -m1 '^RESULT' "$OUT/$phase-$load-c$c.txt" || echo "RESULT rps=0 non2xx=-1")
  printf '%s\t%s\t%s\t%s\n' "$phase" "$load" "$c" "${line#RESULT }" >>"$OUT/extras.tsv"
  log "$phase $load c=$c: ${line#RESULT }"
}
: >"$OUT/extras.tsv"
csrf() { sed -n 's/.*name="csrf_token" value="\([^"]*\)".*/\1/p' "$1" | head -1; }
basic() { printf '%s:%s' "$1" "$2" | base64 -w0; }
enc() { python3 -c 'import sys,urllib.parse;print(urllib.parse.quote(sys.argv[1],safe=""))' "$1"; }

for phase in small grown; do
  db=$SMALL; [[ $phase == grown ]] && db=$GROWN
  cp "$db" "$WORK/x.db"
  log "$phase: adding $SWEEP_ROWS expired token records for the sweep"
  "$BIN" grow --database-url "$(db_url "$WORK/x.db")" --only-expired --expired-tokens "$SWEEP_ROWS" >"$OUT/$phase-expired.jsonl" 2>/dev/null
  sync "$WORK"/x.db*   # the copy and the new rows on disk before the measured runs
  start_server "$WORK/x.db" "$OUT/$phase-server"
  # alice signs in (her session is the /account load's) and approves a request of bob's
  jar=$WORK/jar; rm -f "$jar"
  curl -sf -c "$jar" -b "$jar" "$BASE/login" -o "$WORK/login.html"
  curl -s -o /dev/null -c "$jar" -b "$jar" "$BASE/login" --data-urlencode "csrf_token=$(csrf "$WORK/login.html")" \
    --data-urlencode username=alice --data-urlencode password=alice-demo-password --data-urlencode return_to=/account
  curl -sf -c "$jar" -b "$jar" "$BASE/account" -o "$WORK/account.html"
  req=$(curl -sf -X POST "$BASE/api/access-requests" -H "Authorization: Bearer $BOB_TOKEN" -H 'Content-Type: application/json' \
    -d '{"subject":"alice","scope":"read","duration":3600,"reason":"growth run","ticket":"GROW-1"}' | json_field id)
  curl -s -o /dev/null -c "$jar" -b "$jar" "$BASE/account/requests/$req/approve" \
    --data-urlencode "csrf_token=$(csrf "$WORK/account.html")" -d duration=3600
  grant=$(curl -sf "$BASE/api/access-requests/$req" -H "Authorization: Bearer $BOB_TOKEN" | json_field grant_id)
  [[ -n $grant ]] || { echo "$phase: no grant to exchange under" >&2; exit 1; }
  session=$(awk '$6=="behalf_session"{v=$7} END{print v}' "$jar")
  te="grant_type=$(enc urn:ietf:params:oauth:grant-type:token-exchange)&subject_token=$grant&subject_token_type=$(enc urn:behalf:params:oauth:token-type:grant_id)&actor_token=$BOB_TOKEN&actor_token_type=$(enc urn:ietf:params:oauth:token-type:access_token)"
  console=$(basic demo-console demo-console-secret-for-local-trials-only)
  # token exchange (a write per request) while `behalf sweep` deletes the expired
  # records (a second process on the server's core, as a cron job would run it), then
  # the same load again with nothing to sweep
  taskset -c "$SERVER_CPUS" /usr/bin/time -f '%e' -o "$WORK/sweep.time" \
    "$BIN" sweep --database-url "$(db_url "$WORK/x.db")" >"$WORK/sweep.json" 2>"$OUT/$phase-sweep.stderr" &
  sweeper=$!
  SCRIPT=static.lua extra_run "$phase" exchange_during_sweep 10 "$EXTRA_DURATION" \
    BENCH_PATH=/token BENCH_BODY="$te" BENCH_AUTH="$console"
  if kill -0 "$sweeper" 2>/dev/null; then
    echo "the sweep outlasted the ${EXTRA_DURATION}s load" >>"$OUT/sweep-$phase.txt"
  fi
  wait "$sweeper" || echo "behalf sweep failed: $(head -c 300 "$OUT/$phase-sweep.stderr")" >>"$OUT/sweep-$phase.txt"
  echo "behalf sweep: $(cat "$WORK/sweep.json") in $(cat "$WORK/sweep.time") s wall" >>"$OUT/sweep-$phase.txt"
  SCRIPT=static.lua extra_run "$phase" exchange_after_sweep 10 "$EXTRA_DURATION" \
    BENCH_PATH=/token BENCH_BODY="$te" BENCH_AUTH="$console"
  extra_run "$phase" account 10 "$EXTRA_DURATION" BENCH_PATH=/account BENCH_HEADER="Cookie: behalf_session=$session" \
    BENCH_EXPECT='csrf_token'
  extra_run "$phase" agent_requests_list 10 "$EXTRA_DURATION" BENCH_PATH="/api/access-requests?limit=50" \
    BENCH_HEADER="Authorization: Bearer $BOB_TOKEN" BENCH_EXPECT='"items"'
  extra_run "$phase" agent_grants_active 10 "$EXTRA_DURATION" BENCH_PATH="/api/grants?status=active&limit=50" \
    BENCH_HEADER="Authorization: Bearer $BOB_TOKEN" BENCH_EXPECT='"items"'
  echo "$phase peak_rss_mib $(awk '/^VmHWM/{printf "%.1f", $2/1024}' "/proc/$SERVER_PID/status")" >>"$OUT/meta.txt"
  stop_server
  rm -f "$WORK"/x.db*
done

python3 "$HERE/grown_report.py" "$OUT" >"$OUT.md"
if [[ $SMOKE == 1 ]] && awk -F'\t' '$4 !~ /non2xx=0 unexpected=0 sockerr=0/' "$OUT/extras.tsv" | grep -q .; then
  log "smoke: FAILED (extra runs with errors: $OUT/extras.tsv)"; exit 1
fi
cat "$OUT.md"
log "report: $OUT.md   raw: $OUT/"
