#!/usr/bin/env bash
# behalf benchmark harness: behalf and the node oidc-provider peer, side by side, in one run.
# See bench/README.md. Prints a Markdown report and writes bench/results/<timestamp>.md,
# with the raw logs in bench/results/<timestamp>/.
#
# Modes:
#   bench/run.sh                        SQLite (fresh file, or a copy of DB_TEMPLATE), then the peer
#   bench/run.sh --postgres             the same loads on a fresh PostgreSQL database (bench/postgres.sh),
#                                       plus two instances on one database and round trips per request
#   bench/run.sh --idle-connections N   also hold N idle keep-alive connections open and re-run
#                                       client_credentials and introspect_delegated beside them
#   bench/run.sh --smoke                seconds: every load once at one connection, exit 1 on any error
#   bench/run.sh --grown ARGS...        exec bench/grown.sh ARGS... (the grown-database runs)
#
# Env knobs (defaults):
#   DURATION=10         seconds per measured wrk run (static loads and revoke)
#   WARMUP=2            unmeasured seconds before each static load (0 = none)
#   AC_DURATION=5       seconds per authorization_code run (codes live 60 s)
#   REVOKE_DURATION=5   seconds per revoke run (each revocation spends a delegated token
#                       minted beforehand by token exchange, which is the slow part)
#   CONNS="1 10 64"     connection counts
#   LOADS="client_credentials token_exchange revoke introspect_delegated authorization_code
#          authorization_code_es256 delegated_sign_in ciba_poll outbox agent_list"
#   PEER=1              also run the peer (0 = behalf only); PEER_LOADS="cc_jwt introspect"
#   PEER_DIR=           a prepared copy of the peer folder (with node_modules) to reuse
#   SERVER_CPUS=0 LOAD_CPUS=1   taskset lists for the servers and for wrk
#   OTHER_MAX=0.25      other_cpu above this marks a run as disturbed
#   IDLE_BUDGET=30      seconds in all that the harness may wait, before measured runs, for the
#                       rest of the machine to be quiet (other work < IDLE_MAX=0.3 cores; 0 = never wait)
#   CC_TARGET=auto      auto|resource|audience: how client_credentials names urn:bench:jwt
#                       (auto: resource=, falling back to audience= if behalf refuses it)
#   BEHALF_BIN=/work/main/target/release/behalf (copied into the temp dir at start)
#   MINT_MAX=60         seconds at most spent minting delegated tokens before one revoke run
#   BENCH_TMP=/tmp      where the temp dir (and so behalf's SQLite file) goes; /dev/shm takes
#                       the disk (fsync) out of the figures
#   KEEP_TMP=0          keep the temp dir (database, pools) after the run
#   DB_TEMPLATE=        SQLite file copied (with its -wal/-shm) to the temp dir before behalf starts
#   RAW_DIR_OUT=        file to write the raw results directory's path to at the end
#   RSA_SECONDS=3       seconds per openssl speed rsa2048 step (the RS256 sign limit; 0 = skip)
#   OUTBOX_DURATION=5 OUTBOX_CONNS=4 OUTBOX_WEBHOOKS=4 OUTBOX_DRAIN_MAX=20   the outbox load
#   TWO_INSTANCES=1 (--postgres)  SECOND_CPUS=$SERVER_CPUS  ROUNDTRIP_N=200  PG_CPUS=1
#   IDLE_CONNS_LOADS="client_credentials introspect_delegated" IDLE_CONNS_CONNS="10 64"
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
MODE=sqlite
SMOKE=0
IDLE_CONNS=0
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }
while (( $# )); do
  case $1 in
    --grown) shift; exec "$HERE/grown.sh" "$@" ;;
    --postgres) MODE=postgres ;;
    --smoke) SMOKE=1 ;;
    --idle-connections) [[ ${2:-} =~ ^[0-9]+$ ]] || usage; IDLE_CONNS=$2; shift ;;
    --idle-connections=*) IDLE_CONNS=${1#*=}; [[ $IDLE_CONNS =~ ^[0-9]+$ ]] || usage ;;
    -h|--help) usage ;;
    *) echo "unknown argument $1" >&2; usage ;;
  esac
  shift
done
if [[ $SMOKE == 1 ]]; then
  # seconds, not figures: every load once, one connection, minimal pools
  : "${DURATION:=1}" "${WARMUP:=0}" "${AC_DURATION:=1}" "${REVOKE_DURATION:=1}" "${CONNS:=1}" "${PEER:=0}"
  : "${IDLE_BUDGET:=0}" "${MINT_MAX:=3}" "${RSA_SECONDS:=1}" "${OUTBOX_DURATION:=1}" "${OUTBOX_CONNS:=2}"
  : "${OUTBOX_WEBHOOKS:=1}" "${OUTBOX_DRAIN_MAX:=5}" "${ROUNDTRIP_N:=10}" "${IDLE_CONNS_CONNS:=10}"
  : "${OTHER_MAX:=100}"
  export BENCH_POOL_STOP=1   # a pool that runs out stops its wrk thread (noted, not an error)
fi
BIN_SRC=${BEHALF_BIN:-$ROOT/target/release/behalf}
PEER_SRC=${PEER_SRC:-/work/shared/peers/oidc-provider}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-2}
AC_DURATION=${AC_DURATION:-5}
REVOKE_DURATION=${REVOKE_DURATION:-5}
CONNS=${CONNS:-1 10 64}
LOADS=${LOADS:-client_credentials token_exchange revoke introspect_delegated authorization_code authorization_code_es256 delegated_sign_in ciba_poll outbox agent_list}
PEER=${PEER:-1}
PEER_LOADS=${PEER_LOADS:-cc_jwt introspect}
SERVER_CPUS=${SERVER_CPUS:-0}
LOAD_CPUS=${LOAD_CPUS-1}
OTHER_MAX=${OTHER_MAX:-0.25}
IDLE_BUDGET=${IDLE_BUDGET:-30}
IDLE_MAX=${IDLE_MAX:-0.3}
CC_TARGET=${CC_TARGET:-auto}
KEEP_TMP=${KEEP_TMP:-0}
MINT_MAX=${MINT_MAX:-60}
RSA_SECONDS=${RSA_SECONDS:-3}
OUTBOX_DURATION=${OUTBOX_DURATION:-5}
OUTBOX_CONNS=${OUTBOX_CONNS:-4}
OUTBOX_WEBHOOKS=${OUTBOX_WEBHOOKS:-4}
OUTBOX_DRAIN_MAX=${OUTBOX_DRAIN_MAX:-20}
TWO_INSTANCES=${TWO_INSTANCES:-1}
SECOND_CPUS=${SECOND_CPUS:-$SERVER_CPUS}
IDLE_CONNS_LOADS=${IDLE_CONNS_LOADS:-client_credentials introspect_delegated}
IDLE_CONNS_CONNS=${IDLE_CONNS_CONNS:-10 64}

for tool in wrk curl python3 taskset; do
  command -v "$tool" >/dev/null || { echo "missing $tool (apt-get install -y wrk curl python3 util-linux)" >&2; exit 2; }
done
[[ -x $BIN_SRC ]] || { echo "no behalf binary at $BIN_SRC (the lead builds it with cargo build --release)" >&2; exit 2; }
(( DURATION <= 60 && AC_DURATION <= 20 && REVOKE_DURATION <= 60 )) || { echo "DURATION <= 60, REVOKE_DURATION <= 60 and AC_DURATION <= 20 please" >&2; exit 2; }

STAMP=$(date -u +%Y%m%dT%H%M%SZ)
RESULTS=$HERE/results
RAW=$RESULTS/$STAMP
mkdir -p "$RAW"
TMP=$(mktemp -d "${BENCH_TMP:-/tmp}/behalf-bench.XXXXXX")
ROWS=$RAW/rows.tsv
NOTES=$RAW/notes.txt
META=$RAW/meta.txt
: >"$ROWS"; : >"$NOTES"; : >"$META"
TCK=$(getconf CLK_TCK)
NCPU=$(nproc)
PIN=(); [[ -n $LOAD_CPUS ]] && PIN=(taskset -c "$LOAD_CPUS")
TIMECMD=(); [[ -x /usr/bin/time ]] && TIMECMD=(/usr/bin/time -f '%U %S' -o "$TMP/lgtime")
BEHALF_PID=
BEHALF2_PID=
PEER_WORK=
SINK_PID=
IDLE_PID=
VARIANT=          # tags the rows of a run: "2 instances", "idle=N", "outbox busy", ...
WRK_THREADS=      # overrides wrk's thread count (two instances: one thread per instance)
PG_DB=
(( IDLE_CONNS > 0 )) && ulimit -n "$(ulimit -Hn)"   # for behalf, the idle-connection helper and wrk

log() { printf '[bench %s] %s\n' "$(date +%T)" "$*" >&2; }
note() { printf '%s\n' "$*" >>"$NOTES"; log "NOTE: $*"; }
meta() { printf '%s=%s\n' "$1" "$2" >>"$META"; }

cleanup() {
  set +e
  if [[ -n $BEHALF_PID ]] && kill -0 "$BEHALF_PID" 2>/dev/null; then kill "$BEHALF_PID"; wait "$BEHALF_PID" 2>/dev/null; fi
  [[ -n $BEHALF2_PID ]] && kill "$BEHALF2_PID" 2>/dev/null
  [[ -n $SINK_PID ]] && kill "$SINK_PID" 2>/dev/null
  [[ -n $IDLE_PID ]] && kill "$IDLE_PID" 2>/dev/null
  [[ $MODE == postgres ]] && pg_cleanup
  if [[ -n $PEER_WORK && -f $PEER_WORK/peer.pid ]]; then (cd "$PEER_WORK" && ./run-peer.sh stop >/dev/null); fi
  if [[ $KEEP_TMP == 1 ]]; then log "kept $TMP"; else rm -rf "$TMP"; fi
  if [[ -z ${PEER_DIR:-} && -n $PEER_WORK && $KEEP_TMP != 1 ]]; then rm -rf "$PEER_WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
port_free() { python3 -c 'import socket,sys;s=socket.socket();s.bind(("127.0.0.1",int(sys.argv[1])))' "$1" 2>/dev/null; }
basic() { printf '%s:%s' "$1" "$2" | base64 -w0; }
enc() { python3 -c 'import sys,urllib.parse;print(urllib.parse.quote(sys.argv[1],safe=""))' "$1"; }
proc_ticks() { [[ -r /proc/$1/stat ]] || { echo 0; return; }; sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | awk '{print $12+$13}' || echo 0; }
# ticks of a comma-separated list of pids
pids_ticks() { local p t=0 v; for p in ${1//,/ }; do v=$(proc_ticks "$p"); t=$((t + ${v:-0})); done; echo "$t"; }
sys_ticks() { awk '/^cpu /{print $2+$3+$4+$7+$8+$9, $5+$6}' /proc/stat; }
hwm_mib() { awk '/^VmHWM/{printf "%.1f", $2/1024}' "/proc/${1%%,*}/status" 2>/dev/null || echo "?"; }
rss_mib() { awk '/^VmRSS/{printf "%.1f", $2/1024}' "/proc/${1%%,*}/status" 2>/dev/null || echo "?"; }
json_field() { python3 -c 'import json,sys; v=json.load(sys.stdin).get(sys.argv[1]); print("" if v is None else v)' "$1"; }
lines() { if [[ -s $1 ]]; then wc -l <"$1" | tr -d ' '; else echo 0; fi; }

# Wait (within what is left of IDLE_BUDGET) until the machine, servers included, has been
# using less than IDLE_MAX cores for half a second.
IDLE_WAITED=0
idle_gate() {
  local a b busy waited=0
  while :; do
    a=$(sys_ticks); sleep 0.5; b=$(sys_ticks)
    busy=$(awk -v a="$a" -v b="$b" -v n="$NCPU" 'BEGIN{split(a,x," ");split(b,y," ");bu=y[1]-x[1];id=y[2]-x[2];printf "%.2f", n*bu/(bu+id)}')
    awk -v b="$busy" -v t="$IDLE_MAX" 'BEGIN{exit !(b<t)}' && break
    if (( IDLE_WAITED >= IDLE_BUDGET )); then
      (( waited > 0 )) && log "$1: machine still busy ($busy cores), idle budget spent; running anyway"
      break
    fi
    (( waited == 0 )) && log "$1: machine busy ($busy cores), waiting (idle budget left $((IDLE_BUDGET - IDLE_WAITED))s)"
    sleep 0.5; IDLE_WAITED=$((IDLE_WAITED + 1)); waited=$((waited + 1))
  done
  return 0
}

# ---------------------------------------------------------------- one measured wrk run
# run_wrk SERVER LOAD PID CONNS SECS SCRIPT URL NOTE [VAR=VALUE...]   (VARs configure the Lua script)
# Appends a row to $ROWS and leaves the parsed RESULT fields in R[...].
declare -A R
run_wrk() {
  local server=$1 load=$2 pid=$3 c=$4 secs=$5 script=$6 url=$7 rownote=$8; shift 8
  local th=1; (( c >= 64 )) && th=2
  [[ -n $WRK_THREADS ]] && th=$WRK_THREADS
  local tag=${VARIANT:+-${VARIANT//[^a-z0-9=]/_}}
  local raw="$RAW/$server-$load$tag-c$c.txt"
  idle_gate "$server $load${VARIANT:+ ($VARIANT)} c=$c"
  local p0 s0 t0 p1 s1 t1 g0=0 g1=0
  [[ $MODE == postgres && $server == behalf ]] && g0=$(pg_ticks) && pg_waits_start "$load$tag-c$c"
  p0=$(pids_ticks "$pid"); s0=$(sys_ticks); t0=$(date +%s.%N)
  env "$@" BENCH_LUA_DIR="$HERE/lua" BENCH_THREADS="$th" "${TIMECMD[@]}" "${PIN[@]}" \
    wrk -t"$th" -c"$c" -d"${secs}s" --timeout 5s -s "$HERE/lua/$script" "$url" >"$raw" 2>&1 || true
  t1=$(date +%s.%N); p1=$(pids_ticks "$pid"); s1=$(sys_ticks)
  local waits=
  [[ $MODE == postgres && $server == behalf ]] && g1=$(pg_ticks) && waits=$(pg_waits_stop)
  R=()
  local line kv
  line=$(grep -m1 '^RESULT' "$raw" || true)
  if [[ -z $line ]]; then
    note "$server $load c=$c: wrk produced no result (see $raw)"
    R[rps]=0; R[p50_ms]=nan; R[p99_ms]=nan; R[non2xx]=-1; R[unexpected]=0; R[sockerr]=0
  else
    for kv in ${line#RESULT }; do R[${kv%%=*}]=${kv#*=}; done
  fi
  local wall srv mach lg other
  wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.3f", b-a}')
  srv=$(awk -v a="$p0" -v b="$p1" -v t="$TCK" -v d="$wall" 'BEGIN{printf "%.2f", (b-a)/t/d}')
  mach=$(awk -v a="$s0" -v b="$s1" -v n="$NCPU" 'BEGIN{split(a,x," ");split(b,y," ");bu=y[1]-x[1];id=y[2]-x[2];printf "%.2f", n*bu/(bu+id)}')
  lg=$(awk -v d="$wall" '{printf "%.2f", ($1+$2)/d}' "$TMP/lgtime" 2>/dev/null || echo nan)
  local pg=nan
  [[ $MODE == postgres && $server == behalf ]] && pg=$(awk -v a="$g0" -v b="$g1" -v t="$TCK" -v d="$wall" 'BEGIN{printf "%.2f", (b-a)/t/d}')
  other=$(awk -v m="$mach" -v s="$srv" -v l="$lg" -v g="$pg" 'BEGIN{if (l=="nan") l=0; if (g=="nan") g=0; o=m-s-l-g; if (o<0) o=0; printf "%.2f", o}')
  R[server_cpu]=$srv; R[loadgen_cpu]=$lg; R[other_cpu]=$other; R[rss]=$(hwm_mib "$pid")
  local extra=$rownote
  [[ -n $waits ]] && extra+="${extra:+; }PostgreSQL backends waiting for the audit lock: $waits busy"
  [[ -n ${R[reused]:-} && ${R[reused]} != 0 ]] && extra+="${extra:+; }pool ran out: ${R[reused]} requests reused a value"
  [[ -n ${R[stopped]:-} && ${R[stopped]} != 0 ]] && extra+="${extra:+; }pool used up: ${R[stopped]} wrk thread(s) stopped early (BENCH_POOL_STOP)"
  R[pg_cpu]=$pg
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
    "$server" "$load" "$c" "${R[rps]}" "${R[p50_ms]}" "${R[p90_ms]:-nan}" "${R[p99_ms]}" "${R[max_ms]:-nan}" \
    "${R[reqs]:-0}" "${R[non2xx]}" "${R[unexpected]}" "${R[sockerr]}" "$srv" "$lg" "$other" "${R[rss]}" "$extra" "$pg" "$VARIANT" >>"$ROWS"
  log "${VARIANT:+[$VARIANT] }$(printf '%-7s %-21s c=%-3s %7s req/s p50=%sms p99=%sms non2xx=%s unexpected=%s sockerr=%s server_cpu=%s loadgen_cpu=%s other_cpu=%s rss=%sMiB %s' \
    "$server" "$load" "$c" "${R[rps]}" "${R[p50_ms]}" "${R[p99_ms]}" "${R[non2xx]}" "${R[unexpected]}" "${R[sockerr]}" "$srv" "$lg" "$other" "${R[rss]}" "$extra")$([[ $pg != nan ]] && echo " pg_cpu=$pg")"
}

# unmeasured run (warm-up, minting a pool); prints the RESULT line's `captured`
run_quiet() {
  local name=$1 c=$2 secs=$3 script=$4 url=$5; shift 5
  local th=1; (( c >= 64 )) && th=2
  [[ -n $WRK_THREADS ]] && th=$WRK_THREADS
  env "$@" BENCH_LUA_DIR="$HERE/lua" BENCH_THREADS="$th" "${PIN[@]}" \
    wrk -t"$th" -c"$c" -d"${secs}s" --timeout 5s -s "$HERE/lua/$script" "$url" >"$RAW/$name.txt" 2>&1 || true
  local line; line=$(grep -m1 '^RESULT' "$RAW/$name.txt" || true)
  [[ $line =~ captured=([0-9]+) ]] && echo "${BASH_REMATCH[1]}" || echo 0
}

# ---------------------------------------------------------------- machine
CPU_MODEL=$(awk -F': ' '/^model name/{print $2; exit}' /proc/cpuinfo)
meta date "$(date -u +%FT%TZ)"
meta machine "nproc=$NCPU; cpu=${CPU_MODEL:-?}; kernel=$(uname -r); mem=$(awk '/MemTotal/{printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
meta loadavg_at_start "$(cut -d' ' -f1-3 /proc/loadavg)"
meta settings "DURATION=${DURATION}s WARMUP=${WARMUP}s AC_DURATION=${AC_DURATION}s REVOKE_DURATION=${REVOKE_DURATION}s CONNS='$CONNS' server_cpus=$SERVER_CPUS load_cpus=${LOAD_CPUS:-any} wrk threads: 1 (2 at >=64 conns)"
meta wrk "$(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2)"
meta mode "$MODE$([[ $SMOKE == 1 ]] && echo ' (smoke)')$( (( IDLE_CONNS > 0 )) && echo ", idle connections $IDLE_CONNS")"
# the RS256 sign limit of one core: openssl speed, pinned where behalf runs
if (( RSA_SECONDS > 0 )) && command -v openssl >/dev/null; then
  taskset -c "${SERVER_CPUS%%[,-]*}" openssl speed -seconds "$RSA_SECONDS" rsa2048 >"$RAW/openssl-speed.txt" 2>/dev/null || true
  RSA_SIGN=$(python3 - "$RAW/openssl-speed.txt" <<'PYEOF'
import sys
head = None
for line in open(sys.argv[1]):
    t = line.split()
    if "sign/s" in t:
        head = t
    elif head and line.startswith("rsa") and "2048" in t:
        vals = t[t.index("bits") + 1:]
        print(vals[head.index("sign/s")]); break
PYEOF
)
  meta rsa2048_sign_per_s "${RSA_SIGN:-?}"
  meta rsa2048 "openssl speed -seconds $RSA_SECONDS rsa2048 on cpu ${SERVER_CPUS%%[,-]*}: ${RSA_SIGN:-?} RSA-2048 signs/s ($(openssl version | cut -d' ' -f1-2))"
  log "RSA-2048 sign limit of one core: ${RSA_SIGN:-?}/s"
fi

# ---------------------------------------------------------------- behalf: start
cp "$BIN_SRC" "$TMP/behalf"
BIN=$TMP/behalf
meta behalf_binary "$BIN_SRC (sha256 $(sha256sum "$BIN" | cut -c1-16), built $(date -u -r "$BIN_SRC" +%FT%TZ)); git HEAD $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo ?)$(git -C "$ROOT" diff --quiet HEAD -- src 2>/dev/null || echo ' + uncommitted src changes')"
PORT=$(free_port)
BASE=http://127.0.0.1:$PORT
export BEHALF_LISTEN=127.0.0.1:$PORT BEHALF_ISSUER=$BASE BEHALF_LOG=warn
if [[ $MODE == postgres ]]; then
  source "$HERE/postgres.sh"
  pg_setup
  [[ -n ${DB_TEMPLATE:-} ]] && note "DB_TEMPLATE ($DB_TEMPLATE) is for SQLite; ignored with --postgres"
else
  export BEHALF_DATABASE_URL=sqlite://$TMP/behalf.db
  if [[ -n ${DB_TEMPLATE:-} ]]; then
    [[ -f $DB_TEMPLATE ]] || { echo "no DB_TEMPLATE file $DB_TEMPLATE" >&2; exit 2; }
    cp "$DB_TEMPLATE" "$TMP/behalf.db"
    for ext in -wal -shm .kek; do [[ -f $DB_TEMPLATE$ext ]] && cp "$DB_TEMPLATE$ext" "$TMP/behalf.db$ext"; done
    # written back now, not by the kernel during the measured runs (a grown copy is 8 GiB)
    sync "$TMP"/behalf.db*
    meta db_template "$DB_TEMPLATE ($(du -h "$TMP/behalf.db" | cut -f1))"
  fi
fi
if (( IDLE_CONNS > 0 )); then
  export BEHALF_MAX_CONNECTIONS=$((IDLE_CONNS + 2048)) BEHALF_IDLE_TIMEOUT_SECONDS=86400
  meta idle_settings "BEHALF_MAX_CONNECTIONS=$BEHALF_MAX_CONNECTIONS BEHALF_IDLE_TIMEOUT_SECONDS=$BEHALF_IDLE_TIMEOUT_SECONDS ulimit -n $(ulimit -n)"
fi
log "starting behalf on $BASE (cpu $SERVER_CPUS), temp dir $TMP, raw logs $RAW"
taskset -c "$SERVER_CPUS" "$BIN" serve --demo >"$RAW/behalf.stdout" 2>"$RAW/behalf.stderr" &
BEHALF_PID=$!
for _ in $(seq 1 100); do
  [[ $(curl -s -o /dev/null -w '%{http_code}' "$BASE/readyz" || true) == 200 ]] && grep -q '^export BOB_TOKEN=' "$RAW/behalf.stdout" && break
  kill -0 "$BEHALF_PID" 2>/dev/null || { echo "behalf exited:" >&2; cat "$RAW/behalf.stderr" >&2; exit 1; }
  sleep 0.1
done
BOB_TOKEN=$(sed -n 's/^export BOB_TOKEN=//p' "$RAW/behalf.stdout")
[[ -n $BOB_TOKEN ]] || { echo "no BOB_TOKEN in behalf's output" >&2; exit 1; }
meta behalf_rss_idle_mib "$(hwm_mib "$BEHALF_PID")"

# ---------------------------------------------------------------- behalf: seed
CONSOLE_AUTH=$(basic demo-console demo-console-secret-for-local-trials-only)
API_AUTH=$(basic demo-api demo-api-secret-for-local-trials-only)
BENCH_SECRET=bench-secret-0123456789abcdef-behalf-only
RP_SECRET=bench-rp-secret-0123456789abcdef-behalf-only
# client add that keeps a client already there (a DB_TEMPLATE made by an earlier run has them,
# with the same fixed secrets); anything else it refuses stops the caller
client_add() {
  local id=$1 out; shift
  if out=$("$BIN" client add "$id" "$@" 2>&1); then echo "$out" >>"$RAW/seed.log"; return 0; fi
  if [[ $out == *"already exists"* ]]; then note "client $id was already in the database: kept as it is"; return 0; fi
  echo "$out" >&2; return 1
}
printf '%s\n' "$BENCH_SECRET" | client_add bench --secret-stdin --scope api:read --audience urn:bench:jwt
printf '%s\n' "$RP_SECRET" | client_add bench-rp --first-party --secret-stdin \
  --redirect-uri http://127.0.0.1:9/cb --grant-type authorization_code --scope openid
BENCH_AUTH=$(basic bench "$BENCH_SECRET")
RP_AUTH=$(basic bench-rp "$RP_SECRET")

# bob asks alice for access; alice signs in and approves; bob reads the grant id
REQUEST_ID=$(curl -sf -X POST "$BASE/api/access-requests" -H "Authorization: Bearer $BOB_TOKEN" \
  -H 'Content-Type: application/json' \
  -d '{"subject":"alice","scope":"read write","duration":7200,"reason":"benchmark run","ticket":"BENCH-1","apps":["shop"]}' | json_field id)
[[ -n $REQUEST_ID ]] || { echo "could not create an access request" >&2; exit 1; }
JAR=$TMP/cookies
csrf() { sed -n 's/.*name="csrf_token" value="\([^"]*\)".*/\1/p' "$1" | head -1; }
curl -sf -c "$JAR" -b "$JAR" "$BASE/login" -o "$TMP/login.html"
code=$(curl -s -o /dev/null -w '%{http_code}' -c "$JAR" -b "$JAR" "$BASE/login" --data-urlencode "csrf_token=$(csrf "$TMP/login.html")" \
  --data-urlencode username=alice --data-urlencode password=alice-demo-password --data-urlencode return_to=/account)
[[ $code == 303 ]] || { echo "alice's sign-in answered $code" >&2; exit 1; }
curl -sf -c "$JAR" -b "$JAR" "$BASE/account" -o "$TMP/account.html"
code=$(curl -s -o /dev/null -w '%{http_code}' -c "$JAR" -b "$JAR" "$BASE/account/requests/$REQUEST_ID/approve" \
  --data-urlencode "csrf_token=$(csrf "$TMP/account.html")" -d duration=7200)
[[ $code == 303 ]] || { echo "approval answered $code" >&2; exit 1; }
GRANT_ID=$(curl -sf "$BASE/api/access-requests/$REQUEST_ID" -H "Authorization: Bearer $BOB_TOKEN" | json_field grant_id)
[[ -n $GRANT_ID ]] || { echo "the approved request has no grant id" >&2; exit 1; }
SESSION=$(awk '$6=="behalf_session"{v=$7} END{print v}' "$JAR")
log "seeded: clients bench, bench-rp; request $REQUEST_ID approved by alice -> grant $GRANT_ID"

TE_BODY="grant_type=$(enc urn:ietf:params:oauth:grant-type:token-exchange)&subject_token=$GRANT_ID&subject_token_type=$(enc urn:behalf:params:oauth:token-type:grant_id)&actor_token=$BOB_TOKEN&actor_token_type=$(enc urn:ietf:params:oauth:token-type:access_token)"
mint_delegated() { curl -sf -H "Authorization: Basic $CONSOLE_AUTH" --data "$TE_BODY" "$BASE/token" | json_field access_token; }
introspect_active() { curl -s -H "Authorization: Basic $API_AUTH" --data "token=$1" "$BASE/introspect" | grep -q '"active":true'; }
revoked_in_db() {
  if [[ $MODE == postgres ]]; then pg_revoked_count; return; fi
  python3 - "$TMP/behalf.db" <<'EOF'
import sqlite3, sys
c = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True, timeout=10)
print(c.execute("select count(*) from issued_tokens where revoked_at is not null").fetchone()[0])
EOF
}
DELEGATED=$(mint_delegated)
[[ -n $DELEGATED ]] && introspect_active "$DELEGATED" || { echo "token exchange / introspection of the delegated token failed" >&2; exit 1; }

# check one request; prints the HTTP status, keeps the body in $TMP/check
precheck() { curl -s -o "$TMP/check" -w '%{http_code}' -H "Authorization: Basic $1" --data "$2" "$3"; }

# ---------------------------------------------------------------- behalf: loads
POOL=$TMP/pool; : >"$POOL"
add_to_pool() { local f; for f in "$1".*; do [[ -f $f ]] && cat "$f" >>"$POOL" && rm -f "$f"; done; return 0; }
TE_RATE=0        # best token-exchange rate seen (for minting)
REVOKE_LAST=0    # last revoke run: req/s and connections
REVOKE_LAST_C=0
V=bench-fixed-code-verifier-0123456789abcdefghijklmnopqrstuvwxyz
CHALLENGE=$(printf %s "$V" | python3 -c 'import sys,hashlib,base64;print(base64.urlsafe_b64encode(hashlib.sha256(sys.stdin.buffer.read()).digest()).decode().rstrip("="))')
REDIRECT=$(enc http://127.0.0.1:9/cb)
AUTHZ_PATH="/authorize?response_type=code&client_id=bench-rp&redirect_uri=$REDIRECT&scope=openid&state=s&code_challenge=$CHALLENGE&code_challenge_method=S256"
declare -A AC_LAST AC_LAST_C GEN_RATE

load_client_credentials() {
  local c=$1 body rownote=""
  if [[ -z ${CC_BODY:-} ]]; then
    local res="grant_type=client_credentials&scope=$(enc api:read)&resource=$(enc urn:bench:jwt)"
    local aud="grant_type=client_credentials&scope=$(enc api:read)&audience=$(enc urn:bench:jwt)"
    case $CC_TARGET in
      audience) CC_BODY=$aud ;;
      resource) CC_BODY=$res ;;
      auto)
        local code; code=$(precheck "$BENCH_AUTH" "$res" "$BASE/token")
        if [[ $code == 200 ]]; then CC_BODY=$res
        else
          note "behalf refuses client_credentials with resource=urn:bench:jwt (HTTP $code: $(head -c 200 "$TMP/check")); client_credentials measured with audience=urn:bench:jwt instead (same audience, RFC 8693 parameter)"
          CC_BODY=$aud; CC_NOTE="audience= (resource= refused)"
        fi ;;
    esac
  fi
  local code; code=$(precheck "$BENCH_AUTH" "$CC_BODY" "$BASE/token")
  [[ $code == 200 ]] || note "client_credentials precheck: HTTP $code: $(head -c 200 "$TMP/check")"
  (( WARMUP > 0 )) && run_quiet "behalf-client_credentials-c$c-warmup" "$c" "$WARMUP" static.lua "$BASE/token" \
    BENCH_PATH=/token BENCH_BODY="$CC_BODY" BENCH_AUTH="$BENCH_AUTH" >/dev/null
  run_wrk behalf client_credentials "$BEHALF_PID" "$c" "$DURATION" static.lua "$BASE/token" "${CC_NOTE:-}" \
    BENCH_PATH=/token BENCH_BODY="$CC_BODY" BENCH_AUTH="$BENCH_AUTH"
}

load_token_exchange() {
  local c=$1 code
  code=$(precheck "$CONSOLE_AUTH" "$TE_BODY" "$BASE/token")
  [[ $code == 200 ]] || note "token_exchange precheck: HTTP $code: $(head -c 200 "$TMP/check")"
  # every delegated token minted here goes to the pool that the revoke load spends
  (( WARMUP > 0 )) && run_quiet "behalf-token_exchange-c$c-warmup" "$c" "$WARMUP" static.lua "$BASE/token" \
    BENCH_PATH=/token BENCH_BODY="$TE_BODY" BENCH_AUTH="$CONSOLE_AUTH" BENCH_CAPTURE=json:access_token BENCH_OUT="$TMP/te" >/dev/null
  add_to_pool "$TMP/te"
  run_wrk behalf token_exchange "$BEHALF_PID" "$c" "$DURATION" static.lua "$BASE/token" "" \
    BENCH_PATH=/token BENCH_BODY="$TE_BODY" BENCH_AUTH="$CONSOLE_AUTH" BENCH_CAPTURE=json:access_token BENCH_OUT="$TMP/te"
  add_to_pool "$TMP/te"
  TE_RATE=$(awk -v a="$TE_RATE" -v b="${R[rps]}" 'BEGIN{print (b>a)?b:a}')
}

load_revoke() {
  local c=$1 have need est rate secs minted t_mint=0 code
  # expected revocations/s: the last revoke run's rate, x3.5 after a single connection (one
  # connection leaves the server idle between requests), x1.5 after more; else 3000/s
  est=$(awk -v r="$REVOKE_LAST" -v p="$REVOKE_LAST_C" -v c="$c" 'BEGIN{
    if (r == 0) e = 3000; else if (c <= p) e = r * 1.2; else if (p == 1) e = r * 3.5; else e = r * 1.5;
    print e}')
  need=$(awk -v e="$est" -v d="$REVOKE_DURATION" 'BEGIN{printf "%d", e*d+200}')
  # the oldest pooled token must still be active (delegated tokens live 300 s by default)
  if [[ -s $POOL ]] && ! introspect_active "$(head -1 "$POOL")"; then
    note "revoke c=$c: pooled delegated tokens were no longer active; pool discarded"
    : >"$POOL"
  fi
  have=$(lines "$POOL")
  while (( have < need && t_mint < MINT_MAX )); do
    rate=$(awk -v t="$TE_RATE" 'BEGIN{print (t>0)?t:1000}')
    secs=$(awk -v n=$((need - have)) -v r="$rate" -v m=$((MINT_MAX - t_mint)) 'BEGIN{s=int(n/r*1.1)+1; if (s>m) s=m; print s}')
    log "revoke c=$c: pool $have < $need, minting delegated tokens for ${secs}s"
    minted=$(run_quiet "behalf-revoke-c$c-mint" 64 "$secs" static.lua "$BASE/token" \
      BENCH_PATH=/token BENCH_BODY="$TE_BODY" BENCH_AUTH="$CONSOLE_AUTH" BENCH_CAPTURE=json:access_token BENCH_OUT="$TMP/te")
    add_to_pool "$TMP/te"
    t_mint=$((t_mint + secs)); have=$(lines "$POOL")
    (( minted > 0 )) && TE_RATE=$(awk -v m="$minted" -v s="$secs" -v t="$TE_RATE" 'BEGIN{r=m/s; print (t>0 && t>r)?t:r}')
    (( minted > 0 )) || break
  done
  local first probe before after
  first=$(head -1 "$POOL")
  code=$(precheck "$CONSOLE_AUTH" "token=$first" "$BASE/revoke")   # one revocation checked by hand
  [[ $code == 200 ]] && ! introspect_active "$first" || note "revoke precheck: HTTP $code, or the revoked token is still active"
  sed -i 1d "$POOL"
  probe=$(head -1 "$POOL")   # the first token the run sends
  before=$(revoked_in_db)
  run_wrk behalf revoke "$BEHALF_PID" "$c" "$REVOKE_DURATION" pool.lua "$BASE/revoke" "__REVOKED__" \
    BENCH_PATH=/revoke BENCH_BODY="token=@VALUE@" BENCH_AUTH="$CONSOLE_AUTH" BENCH_POOL="$POOL" BENCH_POOL_LEFT="$POOL.left"
  after=$(revoked_in_db)
  mv "$POOL.left" "$POOL"
  local revoked=$((after - before))
  sed -i "\$s/__REVOKED__/$revoked tokens revoked (database) of ${R[distinct]:-?} distinct sent, pool ${R[pool]:-?}/" "$ROWS"
  introspect_active "$probe" && note "revoke c=$c: a token the run revoked is still active"
  (( revoked < ${R[reqs]:-0} - ${R[non2xx]:-0} - ${R[reused]:-0} - 1 )) && note "revoke c=$c: only $revoked revocations recorded for ${R[reqs]} answered requests"
  REVOKE_LAST=${R[rps]}; REVOKE_LAST_C=$c
}

load_introspect_delegated() {
  local c=$1 tok
  tok=$(mint_delegated)   # fresh: delegated tokens live 300 s
  introspect_active "$tok" || note "introspect_delegated c=$c: the fresh delegated token is not active"
  (( WARMUP > 0 )) && run_quiet "behalf-introspect_delegated-c$c-warmup" "$c" "$WARMUP" static.lua "$BASE/introspect" \
    BENCH_PATH=/introspect BENCH_BODY="token=$tok" BENCH_AUTH="$API_AUTH" BENCH_EXPECT='"active":true' >/dev/null
  run_wrk behalf introspect_delegated "$BEHALF_PID" "$c" "$DURATION" static.lua "$BASE/introspect" "" \
    BENCH_PATH=/introspect BENCH_BODY="token=$tok" BENCH_AUTH="$API_AUTH" BENCH_EXPECT='"active":true'
  introspect_active "$tok" || note "introspect_delegated c=$c: the token is no longer active after the run"
}

load_authorization_code() { redeem_codes "$1" authorization_code "$RP_AUTH" "$AUTHZ_PATH"; }

# redeem_codes CONNS LOAD CLIENT_BASIC AUTHORIZE_PATH: mint codes at /authorize as alice,
# then redeem each once at /token
redeem_codes() {
  local c=$1 load=$2 auth=$3 path=$4 secs n code
  local last=${AC_LAST[$load]:-0} last_c=${AC_LAST_C[$load]:-0} gen=${GEN_RATE[$load]:-0}
  # fresh codes (they live 60 s), enough for AC_DURATION at the expected rate (the last
  # run's, x3.5 after a single connection, x2 after more); the first time, AC_DURATION
  # seconds of generation
  secs=$AC_DURATION
  if [[ $last != 0 && $gen != 0 ]]; then
    secs=$(awk -v r="$last" -v p="$last_c" -v c="$c" -v g="$gen" -v d="$AC_DURATION" 'BEGIN{
      e = (c <= p) ? r * 1.5 : (p == 1 ? r * 3.5 : r * 2); s = int((d * e + 300) / g) + 1;
      if (s < 2) s = 2; if (s > 30) s = 30; print s}')
  fi
  : >"$TMP/codes"
  n=$(run_quiet "behalf-$load-c$c-codes" 10 "$secs" static.lua "$BASE/authorize" \
    BENCH_METHOD=GET BENCH_PATH="$path" BENCH_BODY= BENCH_COOKIE="behalf_session=$SESSION" \
    BENCH_OK_STATUS=303 BENCH_CAPTURE=location:code BENCH_OUT="$TMP/codes")
  local f; for f in "$TMP"/codes.*; do [[ -f $f ]] && cat "$f" >>"$TMP/codes" && rm -f "$f"; done
  GEN_RATE[$load]=$(awk -v n="$n" -v s="$secs" 'BEGIN{print n/s}')
  log "$load c=$c: $n codes generated in ${secs}s"
  (( n > 0 )) || note "$load c=$c: no codes generated (see $RAW/behalf-$load-c$c-codes.txt)"
  local body="grant_type=authorization_code&code=@VALUE@&redirect_uri=$REDIRECT&code_verifier=$V"
  code=$(precheck "$auth" "${body/@VALUE@/$(head -1 "$TMP/codes")}" "$BASE/token")
  [[ $code == 200 ]] && grep -q '"id_token"' "$TMP/check" || note "$load precheck: HTTP $code: $(head -c 200 "$TMP/check")"
  [[ $code == 200 ]] && echo "$load: ID token header $(python3 -c 'import sys,json,base64;t=json.load(open(sys.argv[1]))["id_token"].split(".")[0];print(base64.urlsafe_b64decode(t+"="*(-len(t)%4)).decode())' "$TMP/check" 2>/dev/null)" >>"$RAW/seed.log"
  sed -i 1d "$TMP/codes"
  run_wrk behalf "$load" "$BEHALF_PID" "$c" "$AC_DURATION" pool.lua "$BASE/token" "pool ${n} codes" \
    BENCH_PATH=/token BENCH_BODY="$body" BENCH_AUTH="$auth" BENCH_POOL="$TMP/codes"
  AC_LAST[$load]=${R[rps]}; AC_LAST_C[$load]=$c
}

source "$HERE/loads.sh"
for load in $LOADS; do
  case $load in
    outbox) load_outbox ;;   # one run of its own (OUTBOX_CONNS), not per connection count
    client_credentials|token_exchange|revoke|introspect_delegated|authorization_code|authorization_code_es256|delegated_sign_in|agent_list|ciba_poll)
      for c in $CONNS; do "load_$load" "$c"; done ;;
    *) echo "unknown load $load" >&2; exit 2 ;;
  esac
done
if [[ $MODE == postgres ]]; then
  [[ $TWO_INSTANCES == 1 ]] && two_instances
  count_roundtrips
fi
PEAK_BEFORE_IDLE=
(( IDLE_CONNS > 0 )) && idle_connections
meta behalf_peak_rss_mib "${PEAK_BEFORE_IDLE:-$(hwm_mib "$BEHALF_PID")}"
kill "$BEHALF_PID"; wait "$BEHALF_PID" 2>/dev/null || true; BEHALF_PID=
grep -v '^\s*$' "$RAW/behalf.stderr" | head -20 >"$RAW/behalf.stderr.head" || true
if [[ -s $RAW/behalf.stderr.head ]]; then
  note "behalf wrote $(wc -l <"$RAW/behalf.stderr") lines to stderr (BEHALF_LOG=warn): $(cut -d' ' -f2- "$RAW/behalf.stderr" | sed 's/^ *//' | sort | uniq -c | sort -rn | head -3 | awk '{$1=$1" x"; print}' | paste -sd';' -)"
fi

# ---------------------------------------------------------------- peer
if [[ $PEER == 1 ]]; then
  if [[ -n ${PEER_DIR:-} ]]; then PEER_WORK=$PEER_DIR
  else
    PEER_WORK=$(mktemp -d /tmp/behalf-bench-peer.XXXXXX)
    cp -r "$PEER_SRC/." "$PEER_WORK"; chmod -R u+w "$PEER_WORK"
    log "installing the peer's packages in $PEER_WORK"
    (cd "$PEER_WORK" && npm install --no-audit --no-fund >"$RAW/peer-npm.log" 2>&1) || { cat "$RAW/peer-npm.log" >&2; exit 1; }
  fi
  PEER_PORT=${PEER_PORT:-3000}
  port_free "$PEER_PORT" || PEER_PORT=$(free_port)
  PBASE=http://127.0.0.1:$PEER_PORT
  (cd "$PEER_WORK" && PEER_CPUS=$SERVER_CPUS PEER_PORT=$PEER_PORT ./run-peer.sh >"$RAW/peer-start.log" 2>&1) || { cat "$RAW/peer-start.log" >&2; exit 1; }
  PEER_PID=$(cat "$PEER_WORK/peer.pid")
  meta peer "node oidc-provider $(node -p "require('$PEER_WORK/node_modules/oidc-provider/package.json').version") on node $(node -v), pid $PEER_PID, cpu $SERVER_CPUS, ES256 JWT access tokens, in-memory adapter"
  P_AUTH=$(basic bench bench-secret-0123456789abcdef)
  P_JWT="grant_type=client_credentials&scope=$(enc api:read)&resource=$(enc urn:bench:jwt)"
  P_OPQ="grant_type=client_credentials&scope=$(enc api:read)&resource=$(enc urn:bench:opaque)"
  for load in $PEER_LOADS; do
    for c in $CONNS; do
      case $load in
        cc_jwt)
          code=$(precheck "$P_AUTH" "$P_JWT" "$PBASE/token")
          [[ $code == 200 ]] || note "peer cc_jwt precheck: HTTP $code: $(head -c 200 "$TMP/check")"
          (( WARMUP > 0 )) && run_quiet "peer-cc_jwt-c$c-warmup" "$c" "$WARMUP" static.lua "$PBASE/token" \
            BENCH_PATH=/token BENCH_BODY="$P_JWT" BENCH_AUTH="$P_AUTH" >/dev/null
          run_wrk peer cc_jwt "$PEER_PID" "$c" "$DURATION" static.lua "$PBASE/token" "" \
            BENCH_PATH=/token BENCH_BODY="$P_JWT" BENCH_AUTH="$P_AUTH" ;;
        introspect)
          tok=$(curl -sf -H "Authorization: Basic $P_AUTH" --data "$P_OPQ" "$PBASE/token" | json_field access_token)
          pbody="token=$tok&token_type_hint=access_token"
          code=$(precheck "$P_AUTH" "$pbody" "$PBASE/token/introspection")
          [[ $code == 200 ]] && grep -q '"active":true' "$TMP/check" || note "peer introspect precheck: HTTP $code: $(head -c 200 "$TMP/check")"
          (( WARMUP > 0 )) && run_quiet "peer-introspect-c$c-warmup" "$c" "$WARMUP" static.lua "$PBASE/token/introspection" \
            BENCH_PATH=/token/introspection BENCH_BODY="$pbody" BENCH_AUTH="$P_AUTH" BENCH_EXPECT='"active":true' >/dev/null
          run_wrk peer introspect "$PEER_PID" "$c" "$DURATION" static.lua "$PBASE/token/introspection" "opaque token" \
            BENCH_PATH=/token/introspection BENCH_BODY="$pbody" BENCH_AUTH="$P_AUTH" BENCH_EXPECT='"active":true' ;;
        *) echo "unknown peer load $load" >&2; exit 2 ;;
      esac
    done
  done
  meta peer_peak_rss_mib "$(hwm_mib "$PEER_PID")"
  (cd "$PEER_WORK" && ./run-peer.sh stop >/dev/null)
fi

# ---------------------------------------------------------------- report
meta idle_wait "${IDLE_WAITED}s of the ${IDLE_BUDGET}s idle budget spent waiting for a quiet machine"
meta elapsed "$SECONDS s"
python3 "$HERE/report.py" "$RAW" "$OTHER_MAX" >"$RESULTS/$STAMP.md"
cat "$RESULTS/$STAMP.md"
log "report: $RESULTS/$STAMP.md   raw logs: $RAW/"
[[ -n ${RAW_DIR_OUT:-} ]] && printf '%s\n' "$RAW" >"$RAW_DIR_OUT"
if [[ $SMOKE == 1 ]]; then
  python3 "$HERE/report.py" --check "$RAW" || { log "smoke: FAILED (rows with errors or no result above)"; exit 1; }
  log "smoke: every row ok"
fi
