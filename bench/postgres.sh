# Sourced by bench/run.sh for `--postgres`: a fresh database on the shared PostgreSQL
# cluster, the cluster pinned to PG_CPUS for the run (restored in cleanup), the cluster's
# CPU ticks, a second behalf instance, and database round trips per request.
# Env: PG_HOST=127.0.0.1 PG_PORT=5432 PG_USER=postgres  PG_CPUS=1 (where the cluster runs)
#      ROUNDTRIP_N=200 (requests per load counted under strace; 0 = skip)
#      PG_URL_QUERY= (appended to the database URL after "?", e.g. sslmode=disable)
PG_HOST=${PG_HOST:-127.0.0.1}
PG_PORT=${PG_PORT:-5432}
PG_USER=${PG_USER:-postgres}
PG_CPUS=${PG_CPUS:-1}
ROUNDTRIP_N=${ROUNDTRIP_N:-200}
PG_DB=
PG_POSTMASTER=
PG_AFFINITY=          # the postmaster's affinity list before the run
PG_PINNED=()          # pids whose affinity we changed

pg_psql() { psql -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -X -q -At "$@"; }

# the postmaster and its current children
pg_pids() {
  [[ -n $PG_POSTMASTER ]] || return 0
  echo "$PG_POSTMASTER"
  pgrep -P "$PG_POSTMASTER" || true
}

pg_setup() {
  for tool in psql createdb dropdb pgrep; do
    command -v "$tool" >/dev/null || { echo "missing $tool (apt-get install -y postgresql-client procps)" >&2; exit 2; }
  done
  pg_psql -d postgres -c 'select 1' >/dev/null || { echo "no PostgreSQL at $PG_HOST:$PG_PORT as $PG_USER" >&2; exit 2; }
  PG_DB=behalf_bench_$(date -u +%Y%m%d%H%M%S)_$$
  createdb -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" "$PG_DB"
  local ddir; ddir=$(pg_psql -d postgres -c 'show data_directory')
  PG_POSTMASTER=$(head -1 "$ddir/postmaster.pid" 2>/dev/null || true)
  if [[ -z $PG_POSTMASTER ]]; then   # not readable: the oldest postgres whose parent is not postgres
    PG_POSTMASTER=$(ps -C postgres -o pid=,ppid= | awk 'NR==FNR{p[$1]=1; next} !($2 in p){print $1; exit}' - <(ps -C postgres -o pid=) )
  fi
  [[ -n $PG_POSTMASTER ]] && kill -0 "$PG_POSTMASTER" 2>/dev/null || { echo "cannot find the PostgreSQL postmaster's pid" >&2; exit 2; }
  PG_AFFINITY=$(taskset -p -c "$PG_POSTMASTER" | sed 's/.*: //')
  local pid
  for pid in $(pg_pids); do
    taskset -a -p -c "$PG_CPUS" "$pid" >/dev/null 2>&1 && PG_PINNED+=("$pid")
  done
  meta postgres "$(pg_psql -d postgres -c 'show server_version') at $PG_HOST:$PG_PORT, database $PG_DB, postmaster pid $PG_POSTMASTER pinned to cpu $PG_CPUS (was $PG_AFFINITY) with its ${#PG_PINNED[@]} processes; synchronous_commit=$(pg_psql -d postgres -c 'show synchronous_commit'), fsync=$(pg_psql -d postgres -c 'show fsync'), shared_buffers=$(pg_psql -d postgres -c 'show shared_buffers')"
  export BEHALF_DATABASE_URL="postgres://$PG_USER@$PG_HOST:$PG_PORT/$PG_DB${PG_URL_QUERY:+?$PG_URL_QUERY}"
  BEHALF_KEY_ENCRYPTION_KEY=$(head -c 32 /dev/urandom | base64 -w0)
  export BEHALF_KEY_ENCRYPTION_KEY
  log "PostgreSQL: database $PG_DB, cluster (postmaster $PG_POSTMASTER) pinned to cpu $PG_CPUS"
}

# restore the affinity of every process of the cluster (also backends started during
# the run, which inherited PG_CPUS) and drop the database
pg_cleanup() {
  [[ -n $PG_POSTMASTER ]] || return 0
  local pid all; all=${PG_AFFINITY:-0-$((NCPU - 1))}
  for pid in $(pg_pids); do taskset -a -p -c "$all" "$pid" >/dev/null 2>&1; done
  PG_POSTMASTER=
  if [[ -n $PG_DB ]]; then
    dropdb -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" --if-exists --force "$PG_DB" 2>/dev/null \
      || dropdb -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" --if-exists "$PG_DB"
    PG_DB=
  fi
}

# CPU ticks of the whole cluster: the postmaster and all its children (other people's
# backends on the shared cluster too; backends that exit within a run are not counted)
pg_ticks() {
  local pid t=0 v
  for pid in $(pg_pids); do v=$(proc_ticks "$pid"); t=$((t + v)); done
  echo "$t"
}

pg_revoked_count() { pg_psql -d "$PG_DB" -c 'select count(*) from issued_tokens where revoked_at is not null'; }

# second instance on the same database (no --demo: the first one seeded it), same issuer
start_second() {
  PORT2=$(free_port)
  BASE2=http://127.0.0.1:$PORT2
  BEHALF_LISTEN=127.0.0.1:$PORT2 taskset -c "$SECOND_CPUS" "$BIN" serve >"$RAW/behalf2.stdout" 2>"$RAW/behalf2.stderr" &
  BEHALF2_PID=$!
  local _
  for _ in $(seq 1 100); do
    [[ $(curl -s -o /dev/null -w '%{http_code}' "$BASE2/readyz" || true) == 200 ]] && break
    kill -0 "$BEHALF2_PID" 2>/dev/null || { echo "second behalf exited:" >&2; cat "$RAW/behalf2.stderr" >&2; exit 1; }
    sleep 0.1
  done
  log "second behalf instance on $BASE2 (pid $BEHALF2_PID, cpu $SECOND_CPUS), same database and issuer"
}

stop_second() {
  if [[ -n ${BEHALF2_PID:-} ]] && kill -0 "$BEHALF2_PID" 2>/dev/null; then
    meta behalf2_peak_rss_mib "$(hwm_mib "$BEHALF2_PID")"
    kill "$BEHALF2_PID"; wait "$BEHALF2_PID" 2>/dev/null || true
  fi
  BEHALF2_PID=
}

# ---------------------------------------------------------------- what the backends wait for
# pg_waits_start / pg_waits_stop: during one measured run, one psql session samples
# pg_stat_activity every 0.1 s: how many of behalf's backends are busy (state active)
# and how many of those wait for the advisory lock that serializes audit appends
# (src/store/audit_events.rs). pg_waits_stop prints "W of A" (means over the samples).
pg_waits_start() {
  PG_WAITS_FILE=$RAW/pg-waits-$1.txt
  printf '%s\n%s\n' \
    "SELECT count(*) FILTER (WHERE wait_event = 'advisory'), count(*) FILTER (WHERE state = 'active') FROM pg_stat_activity WHERE datname = '$PG_DB' AND pid <> pg_backend_pid()" \
    '\watch 0.1' | pg_psql -d "$PG_DB" -F ' ' >"$PG_WAITS_FILE" 2>/dev/null &
  PG_WAITS_PID=$!
}
pg_waits_stop() {
  kill "$PG_WAITS_PID" 2>/dev/null; wait "$PG_WAITS_PID" 2>/dev/null || true
  awk 'NF == 2 && $1 ~ /^[0-9]+$/ {w += $1; a += $2; n++} END {if (n) printf "%.1f of %.1f", w/n, a/n}' "$PG_WAITS_FILE"
}

# ---------------------------------------------------------------- round trips
# roundtrips LOAD N requests.py-ARGS...: strace behalf (all threads) while requests.py
# sends N requests one after another, count the writes (sendto/write/writev/sendmsg) on
# sockets connected to PostgreSQL's port (strace -yy names each fd's peer), subtract
# what the idle server writes in the same time (measured once), and write
# "LOAD<TAB>per request<TAB>writes<TAB>N<TAB>idle writes/s<TAB>statuses" to $RAW/roundtrips.tsv.
# Each write is one round trip: the client sends a query (libpq flushes Parse/Bind/
# Execute/Sync at once) and waits for its answer before the next.
PG_IDLE_WPS=
pg_writes() { grep -c -- "->$PG_HOST:$PG_PORT\]>" "$1" 2>/dev/null || true; }
roundtrips() {
  local load=$1 n=$2; shift 2
  (( ROUNDTRIP_N > 0 )) || return 0
  command -v strace >/dev/null || { note "round trips not counted: no strace"; return 0; }
  local tr=$RAW/strace-$load.txt t0 t1 out w
  if [[ -z $PG_IDLE_WPS ]]; then
    strace -f -yy -qq -e trace=sendto,write,writev,sendmsg -e signal=none -o "$RAW/strace-idle.txt" -p "$BEHALF_PID" 2>/dev/null &
    local sp=$!; sleep 0.5; local ti0; ti0=$(date +%s.%N); sleep 3; local ti1; ti1=$(date +%s.%N)
    kill "$sp"; wait "$sp" 2>/dev/null || true
    PG_IDLE_WPS=$(awk -v w="$(pg_writes "$RAW/strace-idle.txt")" -v a="$ti0" -v b="$ti1" 'BEGIN{printf "%.2f", w/(b-a+0.5)}')
  fi
  strace -f -yy -qq -e trace=sendto,write,writev,sendmsg -e signal=none -o "$tr" -p "$BEHALF_PID" 2>/dev/null &
  local sp=$!
  sleep 0.5   # strace attaches
  t0=$(date +%s.%N)
  out=$(python3 "$HERE/requests.py" "$@" 2>&1 || true)
  t1=$(date +%s.%N)
  sleep 0.2   # group commits after the answers (e.g. introspection's activity lines)
  kill "$sp"; wait "$sp" 2>/dev/null || true
  w=$(pg_writes "$tr")
  local per; per=$(awk -v w="$w" -v n="$n" -v i="$PG_IDLE_WPS" -v a="$t0" -v b="$t1" 'BEGIN{x=(w - i*(b-a+0.7))/n; if (x<0) x=0; printf "%.2f", x}')
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$load" "$per" "$w" "$n" "$PG_IDLE_WPS" "$out" >>"$RAW/roundtrips.tsv"
  log "round trips: $load: $per per request ($w writes to PostgreSQL for $n requests, answers $out; idle $PG_IDLE_WPS/s)"
}
