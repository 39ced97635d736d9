# Sourced by bench/run.sh after the seed: the loads beyond the first five, two instances
# (--postgres), round trips (--postgres) and the idle connections (--idle-connections N).
# Each load function takes the connection count; the first call seeds what it needs.

# ---------------------------------------------------------------- authorization_code_es256
ES_STATE=   # "", ok, skip
load_authorization_code_es256() {
  local c=$1
  if [[ -z $ES_STATE ]]; then
    ES_SECRET=bench-rp-es-secret-0123456789abcdef-behalf-only
    if printf '%s\n' "$ES_SECRET" | client_add bench-rp-es256 --first-party --secret-stdin --id-token-alg ES256 \
      --redirect-uri http://127.0.0.1:9/cb --grant-type authorization_code --scope openid 2>"$TMP/es.err"; then
      ES_STATE=ok; ES_AUTH=$(basic bench-rp-es256 "$ES_SECRET")
      ES_PATH=${AUTHZ_PATH/client_id=bench-rp/client_id=bench-rp-es256}
    else
      ES_STATE=skip
      note "authorization_code_es256 skipped: this behalf refuses \`client add --id-token-alg ES256\` ($(head -c 160 "$TMP/es.err" | tr '\n' ' '))"
    fi
  fi
  [[ $ES_STATE == ok ]] && redeem_codes "$c" authorization_code_es256 "$ES_AUTH" "$ES_PATH"
  return 0
}

# ---------------------------------------------------------------- delegated_sign_in
# bob (signed in) acts as alice in the demo app `shop` under the seeded grant (which lists
# shop): POST /authorize/act mints a code (a measured row of its own, the /authorize
# step), then shop redeems each code once at /token.
DS_READY=0
SHOP_AUTH=$(basic shop demo-shop-secret-for-local-trials-only)
SHOP_CB=$(enc http://127.0.0.1:3000/callback)
declare -A DS_LAST
seed_delegated_sign_in() {
  local jar=$TMP/bob.cookies code
  curl -sf -c "$jar" -b "$jar" "$BASE/login" -o "$TMP/bob-login.html"
  code=$(curl -s -o /dev/null -w '%{http_code}' -c "$jar" -b "$jar" "$BASE/login" --data-urlencode "csrf_token=$(csrf "$TMP/bob-login.html")" \
    --data-urlencode username=bob --data-urlencode password=bob-demo-password --data-urlencode return_to=/account)
  [[ $code == 303 ]] || { note "delegated_sign_in: bob's sign-in answered $code"; return 1; }
  BOB_SESSION=$(awk '$6=="behalf_session"{v=$7} END{print v}' "$jar")
  DS_QUERY="response_type=code&client_id=shop&redirect_uri=$SHOP_CB&scope=$(enc 'openid read')&state=s&code_challenge=$CHALLENGE&code_challenge_method=S256"
  # precheck of the /authorize step: the "Act as alice in Example Shop?" page with the grant
  code=$(curl -s -o "$TMP/act.html" -w '%{http_code}' -b "$jar" "$BASE/authorize?$DS_QUERY&login_hint=alice")
  if [[ $code != 200 ]] || ! grep -q "$GRANT_ID" "$TMP/act.html"; then
    note "delegated_sign_in: GET /authorize with login_hint=alice answered $code without the grant"; return 1
  fi
  DS_CSRF=$(csrf "$TMP/act.html")
  DS_ACT="csrf_token=$(enc "$DS_CSRF")&grant_id=$GRANT_ID&$DS_QUERY&login_hint=alice&decision=act"
  DS_READY=1
}

load_delegated_sign_in() {
  local c=$1 code n secs
  (( DS_READY == 1 )) || seed_delegated_sign_in || return 0
  code=$(curl -s -o /dev/null -D "$TMP/act.head" -w '%{http_code}' -H "Cookie: behalf_session=$BOB_SESSION" --data "$DS_ACT" "$BASE/authorize/act")
  [[ $code == 303 ]] && grep -qi '^location:.*code=' "$TMP/act.head" || note "delegated_sign_in_act precheck: HTTP $code"
  # the /authorize/act step, measured; its codes are the pool (enough for AC_DURATION at
  # the last redemption rate x2, at least AC_DURATION seconds of minting)
  secs=$(( AC_DURATION * 2 > 30 ? 30 : AC_DURATION * 2 ))   # minting is slower than redeeming
  [[ -n ${DS_LAST[rate]:-} ]] && secs=$(awk -v r="${DS_LAST[rate]}" -v g="${DS_LAST[gen]}" -v d="$AC_DURATION" 'BEGIN{s=int((d*r*2+300)/g)+1; if (s<d) s=d; if (s>30) s=30; print s}')
  : >"$TMP/dscodes"
  run_wrk behalf delegated_sign_in_act "$BEHALF_PID" "$c" "$secs" static.lua "$BASE/authorize/act" "POST /authorize/act: session, audit event, outbox row, code" \
    BENCH_PATH=/authorize/act BENCH_BODY="$DS_ACT" BENCH_COOKIE="behalf_session=$BOB_SESSION" \
    BENCH_OK_STATUS=303 BENCH_CAPTURE=location:code BENCH_OUT="$TMP/dscodes"
  local f; for f in "$TMP"/dscodes.*; do [[ -f $f ]] && cat "$f" >>"$TMP/dscodes" && rm -f "$f"; done
  n=$(lines "$TMP/dscodes"); DS_LAST[gen]=$(awk -v n="$n" -v s="$secs" 'BEGIN{print (n>0)?n/s:1}')
  local body="grant_type=authorization_code&code=@VALUE@&redirect_uri=$SHOP_CB&code_verifier=$V"
  code=$(precheck "$SHOP_AUTH" "${body/@VALUE@/$(head -1 "$TMP/dscodes")}" "$BASE/token")
  if [[ $code != 200 ]] || ! grep -q '"id_token"' "$TMP/check" || ! python3 -c '
import sys, json, base64
t = json.load(open(sys.argv[1]))["access_token"].split(".")[1]
c = json.loads(base64.urlsafe_b64decode(t + "=" * (-len(t) % 4)))
sys.exit(0 if c.get("act") and c.get("grant_id") else 1)' "$TMP/check" 2>/dev/null; then
    note "delegated_sign_in precheck: HTTP $code, or no ID token / act / grant_id: $(head -c 200 "$TMP/check")"
  fi
  sed -i 1d "$TMP/dscodes"
  run_wrk behalf delegated_sign_in "$BEHALF_PID" "$c" "$AC_DURATION" pool.lua "$BASE/token" "pool $n codes" \
    BENCH_PATH=/token BENCH_BODY="$body" BENCH_AUTH="$SHOP_AUTH" BENCH_POOL="$TMP/dscodes"
  DS_LAST[rate]=${R[rps]}
}

# ---------------------------------------------------------------- agent_list
AGENT_LIST_PATH=/api/access-requests?limit=50
load_agent_list() {
  local c=$1 code items
  code=$(curl -s -o "$TMP/check" -w '%{http_code}' -H "Authorization: Bearer $BOB_TOKEN" "$BASE$AGENT_LIST_PATH")
  items=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(len(d["items"]), "next" if d.get("next") else "last")' "$TMP/check" 2>/dev/null || echo "? ?")
  [[ $code == 200 ]] || note "agent_list precheck: HTTP $code: $(head -c 200 "$TMP/check")"
  (( WARMUP > 0 )) && run_quiet "behalf-agent_list-c$c-warmup" "$c" "$WARMUP" static.lua "$BASE/api/access-requests" \
    BENCH_METHOD=GET BENCH_PATH="$AGENT_LIST_PATH" BENCH_BODY= BENCH_BEARER="$BOB_TOKEN" BENCH_EXPECT='"items"' >/dev/null
  run_wrk behalf agent_list "$BEHALF_PID" "$c" "$DURATION" static.lua "$BASE/api/access-requests" "GET $AGENT_LIST_PATH: ${items% *} items a page (${items#* } page)" \
    BENCH_METHOD=GET BENCH_PATH="$AGENT_LIST_PATH" BENCH_BODY= BENCH_BEARER="$BOB_TOKEN" BENCH_EXPECT='"items"'
}

# ---------------------------------------------------------------- ciba_poll
# A program agent's token request for a backchannel authentication request alice has not
# answered: the first poll is 400 authorization_pending, every later one (sooner than the
# interval) 400 slow_down, and each is recorded (an UPDATE). So the row is the cost of a
# poll that is refused, the common case for a waiting agent (a well-behaved one polls every
# 5 s; this one does not wait).
CIBA_ID=
CIBA_AUTH=
load_ciba_poll() {
  local c=$1 code
  if [[ -z $CIBA_AUTH ]]; then
    local secret=bench-ciba-secret-0123456789abcdef-behalf-only
    printf '%s\n' "$secret" | client_add bench-ciba --program-agent --grant-type urn:openid:params:grant-type:ciba \
      --secret-stdin --scope openid --scope read --name "Bench agent" 2>"$TMP/ciba.err" \
      || { note "ciba_poll: client add --program-agent failed: $(head -c 200 "$TMP/ciba.err")"; CIBA_AUTH=none; }
    [[ $CIBA_AUTH == none ]] || CIBA_AUTH=$(basic bench-ciba "$secret")
  fi
  [[ $CIBA_AUTH == none ]] && return 0
  if [[ -z $CIBA_ID ]]; then
    code=$(precheck "$CIBA_AUTH" "scope=$(enc 'openid read')&login_hint=alice&binding_message=benchmark&duration=3600" "$BASE/bc-authorize")
    CIBA_ID=$(json_field auth_req_id <"$TMP/check" 2>/dev/null || true)
    [[ $code == 200 && -n $CIBA_ID ]] || { note "ciba_poll: /bc-authorize answered $code: $(head -c 200 "$TMP/check")"; CIBA_AUTH=none; return 0; }
  fi
  local body="grant_type=$(enc urn:openid:params:grant-type:ciba)&auth_req_id=$(enc "$CIBA_ID")"
  code=$(precheck "$CIBA_AUTH" "$body" "$BASE/token")
  [[ $code == 400 ]] && grep -Eq 'authorization_pending|slow_down' "$TMP/check" || note "ciba_poll precheck: HTTP $code: $(head -c 200 "$TMP/check")"
  run_wrk behalf ciba_poll "$BEHALF_PID" "$c" "$DURATION" static.lua "$BASE/token" "answers 400 slow_down (counted as the expected answer)" \
    BENCH_PATH=/token BENCH_BODY="$body" BENCH_AUTH="$CIBA_AUTH" BENCH_OK_STATUS=400 BENCH_EXPECT_ANY='authorization_pending|slow_down'
}

# ---------------------------------------------------------------- outbox
sink_stats() { curl -s "$SINK/stats" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["deliveries"], d["distinct"], d["first"] or 0, d["last"] or 0, max(d["per_second"].values() or [0]))'; }
load_outbox() {
  local c=10 i sport users=""
  sport=$(free_port); SINK=http://127.0.0.1:$sport
  taskset -c "${LOAD_CPUS:-0-$((NCPU - 1))}" python3 "$HERE/webhook_sink.py" "$sport" >"$RAW/sink.log" 2>&1 &
  SINK_PID=$!
  for _ in $(seq 1 50); do curl -sf "$SINK/stats" >/dev/null && break; sleep 0.1; done
  for i in $(seq 1 "$OUTBOX_WEBHOOKS"); do "$BIN" webhook add "$SINK/hook/$i" >>"$RAW/seed.log" || { note "outbox: webhook add failed"; return 0; }; done
  for i in $(seq 0 $((OUTBOX_CONNS - 1))); do
    "$BIN" user add "bench-ev$i" --no-password >>"$RAW/seed.log" 2>&1 || true
    users+=" bench-ev$i"
  done
  # one cycle by hand: made, cancelled, both delivered to every webhook
  local id code; id=$(curl -s -X POST "$BASE/api/access-requests" -H "Authorization: Bearer $BOB_TOKEN" -H 'Content-Type: application/json' \
    -d '{"subject":"bench-ev0","scope":"read","duration":3600,"reason":"benchmark events"}' | json_field id)
  code=$(curl -s -o /dev/null -w '%{http_code}' -X DELETE "$BASE/api/access-requests/$id" -H "Authorization: Bearer $BOB_TOKEN")
  local got=0; for _ in $(seq 1 50); do got=$(sink_stats | cut -d' ' -f1); (( got >= 2 * OUTBOX_WEBHOOKS )) && break; sleep 0.1; done
  (( got >= 2 * OUTBOX_WEBHOOKS )) && [[ -n $id && $code == 200 ]] || note "outbox precheck: request $id, cancel HTTP $code, $got of $((2 * OUTBOX_WEBHOOKS)) deliveries within 5 s"
  # the normal load, outbox idle
  local cc_body=${CC_BODY:-grant_type=client_credentials&scope=$(enc api:read)&resource=$(enc urn:bench:jwt)}
  VARIANT="outbox idle" run_wrk behalf client_credentials "$BEHALF_PID" "$c" "$DURATION" static.lua "$BASE/token" "" \
    BENCH_PATH=/token BENCH_BODY="$cc_body" BENCH_AUTH="$BENCH_AUTH"
  # the events: access requests made and withdrawn, as fast as behalf answers
  local s0 s1 t0 tdone
  read -r d0 _ _ _ _ < <(sink_stats)
  t0=$(date +%s.%N)
  WRK_THREADS=$OUTBOX_CONNS run_wrk behalf outbox_events "$BEHALF_PID" "$OUTBOX_CONNS" "$OUTBOX_DURATION" cycle.lua "$BASE/api/access-requests" "__OUTBOX__" \
    BENCH_BEARER="$BOB_TOKEN" BENCH_SUBJECTS="$users"
  local made=${R[events]:-0} during t1
  t1=$(date +%s.%N)
  read -r during _ _ _ _ < <(sink_stats); during=$((during - d0))
  # the normal load at once, while the outbox works through what the events left
  local b0 b1; read -r b0 _ _ _ _ < <(sink_stats)
  VARIANT="outbox busy" run_wrk behalf client_credentials "$BEHALF_PID" "$c" "$DURATION" static.lua "$BASE/token" "__BUSY__" \
    BENCH_PATH=/token BENCH_BODY="$cc_body" BENCH_AUTH="$BENCH_AUTH"
  read -r b1 _ _ _ _ < <(sink_stats)
  sed -i "\$s|__BUSY__|right after outbox_events: $((b1 - b0)) deliveries during this run, $(( made * OUTBOX_WEBHOOKS - (b0 - d0) )) were waiting at its start|" "$ROWS"
  # then wait (at most OUTBOX_DRAIN_MAX s) for the rest
  local want=$(( made * OUTBOX_WEBHOOKS )) got deadline
  deadline=$(( $(date +%s) + OUTBOX_DRAIN_MAX ))
  read -r got _ _ _ _ < <(sink_stats); got=$((got - d0))
  while (( got < want && $(date +%s) < deadline )); do sleep 0.5; read -r got _ _ _ _ < <(sink_stats); got=$((got - d0)); done
  local all dist first last peak rate drain_rate
  read -r all dist first last peak < <(sink_stats)
  rate=$(awk -v n="$got" -v a="$t0" -v b="$last" 'BEGIN{d=b-a; printf "%.0f", (d>0)?n/d:0}')
  drain_rate=$(awk -v n="$((got - during))" -v a="$t1" -v b="$last" 'BEGIN{d=b-a; printf "%.1f", (d>0)?n/d:0}')
  local summary="$made events x $OUTBOX_WEBHOOKS webhooks = $want deliveries: $during during the load, $got by the end ($rate/s from the load's start to the last delivery; $drain_rate/s after the load; peak $peak in one second); $((all - dist)) repeats"
  (( got < want )) && summary+="; **$((want - got)) not delivered ${OUTBOX_DRAIN_MAX}s after**"
  sed -i "s|__OUTBOX__|$summary|" "$ROWS"
  meta outbox "$summary; sink CPU $(awk -v t="$(proc_ticks "$SINK_PID")" -v k="$TCK" 'BEGIN{printf "%.1f", t/k}') s in all"
  printf 'made=%s want=%s during=%s got=%s rate=%s drain_rate=%s peak=%s\n' "$made" "$want" "$during" "$got" "$rate" "$drain_rate" "$peak" >"$RAW/outbox.txt"
  # remove the webhooks: what is left undelivered is marked done, so it does not
  # disturb the loads that follow
  local wid
  for wid in $("$BIN" webhook list | python3 -c 'import json,sys; [print(json.loads(l)["id"]) for l in sys.stdin if "/hook/" in l]'); do
    "$BIN" webhook remove "$wid" >>"$RAW/seed.log" 2>&1 || true
  done
  kill "$SINK_PID" 2>/dev/null; wait "$SINK_PID" 2>/dev/null || true; SINK_PID=
}

# ---------------------------------------------------------------- two instances (--postgres)
two_instances() {
  start_second
  local c tok code
  tok=$(mint_delegated)
  code=$(curl -s -o "$TMP/check" -w '%{http_code}' -H "Authorization: Basic $API_AUTH" --data "token=$tok" "$BASE2/introspect")
  [[ $code == 200 ]] && grep -q '"active":true' "$TMP/check" || note "two instances: the second instance does not see a token of the first as active (HTTP $code)"
  code=$(precheck "$CONSOLE_AUTH" "$TE_BODY" "$BASE2/token")
  [[ $code == 200 ]] || note "two instances: token exchange on the second instance: HTTP $code: $(head -c 200 "$TMP/check")"
  local addrs="127.0.0.1:$PORT 127.0.0.1:$PORT2"
  for c in $CONNS; do
    (( c >= 2 )) || c=2   # one thread per instance
    tok=$(mint_delegated)
    VARIANT="2 instances" WRK_THREADS=2 run_wrk behalf introspect_delegated "$BEHALF_PID,$BEHALF2_PID" "$c" "$DURATION" static.lua "$BASE/introspect" "threads round-robin both instances" \
      BENCH_ADDRS="$addrs" BENCH_PATH=/introspect BENCH_BODY="token=$tok" BENCH_AUTH="$API_AUTH" BENCH_EXPECT='"active":true'
    VARIANT="2 instances" WRK_THREADS=2 run_wrk behalf token_exchange "$BEHALF_PID,$BEHALF2_PID" "$c" "$DURATION" static.lua "$BASE/token" "threads round-robin both instances" \
      BENCH_ADDRS="$addrs" BENCH_PATH=/token BENCH_BODY="$TE_BODY" BENCH_AUTH="$CONSOLE_AUTH"
  done
  stop_second
}

# ---------------------------------------------------------------- round trips (--postgres)
count_roundtrips() {
  local n=$ROUNDTRIP_N tok
  (( n > 0 )) || return 0
  : >"$RAW/roundtrips.tsv"
  tok=$(mint_delegated)
  roundtrips client_credentials "$n" "$BASE/token" POST "$n" --basic "$BENCH_AUTH" --body "${CC_BODY:-grant_type=client_credentials&scope=api%3Aread&resource=$(enc urn:bench:jwt)}"
  roundtrips token_exchange "$n" "$BASE/token" POST "$n" --basic "$CONSOLE_AUTH" --body "$TE_BODY"
  roundtrips introspect_delegated "$n" "$BASE/introspect" POST "$n" --basic "$API_AUTH" --body "token=$tok"
  # revoke: fresh delegated tokens
  : >"$TMP/rt-pool"; for _ in $(seq 1 "$n"); do mint_delegated >>"$TMP/rt-pool"; done
  roundtrips revoke "$n" "$BASE/revoke" POST "$n" --basic "$CONSOLE_AUTH" --body "token=@VALUE@" --pool "$TMP/rt-pool"
  # authorization_code: fresh codes
  : >"$TMP/rt-codes"
  for _ in $(seq 1 "$n"); do
    curl -s -o /dev/null -D - -H "Cookie: behalf_session=$SESSION" "$BASE$AUTHZ_PATH" | sed -n 's/^[Ll]ocation:.*[?&]code=\([^&]*\).*/\1/p' | tr -d '\r' >>"$TMP/rt-codes"
  done
  roundtrips authorization_code "$n" "$BASE/token" POST "$n" --basic "$RP_AUTH" --pool "$TMP/rt-codes" \
    --body "grant_type=authorization_code&code=@VALUE@&redirect_uri=$REDIRECT&code_verifier=$V"
  if [[ ${DS_READY:-0} == 1 ]]; then
    roundtrips delegated_sign_in_act "$n" "$BASE/authorize/act" POST "$n" --cookie "behalf_session=$BOB_SESSION" --body "$DS_ACT"
  fi
  roundtrips agent_list "$n" "$BASE$AGENT_LIST_PATH" GET "$n" --bearer "$BOB_TOKEN"
  if [[ -n ${CIBA_ID:-} && ${CIBA_AUTH:-none} != none ]]; then
    roundtrips ciba_poll "$n" "$BASE/token" POST "$n" --basic "$CIBA_AUTH" --body "grant_type=$(enc urn:openid:params:grant-type:ciba)&auth_req_id=$(enc "$CIBA_ID")"
  fi
}

# ---------------------------------------------------------------- idle connections
idle_connections() {
  local n=$IDLE_CONNS fd0 fd1 fd2 st load c
  fd0=$(ls "/proc/$BEHALF_PID/fd" | wc -l)
  # the same rows without the idle connections first (unless this run has them already)
  for load in $IDLE_CONNS_LOADS; do
    for c in $IDLE_CONNS_CONNS; do
      [[ " $LOADS " == *" $load "* && " $CONNS " == *" $c "* ]] || "load_$load" "$c"
    done
  done
  PEAK_BEFORE_IDLE=$(hwm_mib "$BEHALF_PID")
  log "opening $n idle keep-alive connections"
  taskset -c "${LOAD_CPUS:-0-$((NCPU - 1))}" python3 "$HERE/idle_connections.py" 127.0.0.1 "$PORT" "$n" "$TMP/idle.status" >"$RAW/idle.log" 2>&1 &
  IDLE_PID=$!
  local waited=0
  while (( waited < 600 )); do
    st=$(cat "$TMP/idle.status" 2>/dev/null || true)
    [[ $st =~ answered=([0-9]+)\ failed=([0-9]+) ]] && (( BASH_REMATCH[1] + BASH_REMATCH[2] >= n )) && break
    sleep 0.5; waited=$((waited + 1))
  done
  sleep 1
  fd1=$(ls "/proc/$BEHALF_PID/fd" | wc -l)
  local rss_open; rss_open=$(rss_mib "$BEHALF_PID")
  log "idle connections: $(cat "$TMP/idle.status"); behalf fds $fd0 -> $fd1, RSS $rss_open MiB"
  for load in $IDLE_CONNS_LOADS; do
    for c in $IDLE_CONNS_CONNS; do VARIANT="idle=$n" "load_$load" "$c"; done
  done
  fd2=$(ls "/proc/$BEHALF_PID/fd" | wc -l)
  st=$(cat "$TMP/idle.status")
  meta idle_connections "$n"
  meta idle_check "helper: $st (after the runs); behalf's open fds: $fd0 before, $fd1 with them open, $fd2 after the runs; RSS $rss_open MiB when opened, $(rss_mib "$BEHALF_PID") MiB after the runs (peak $(hwm_mib "$BEHALF_PID") MiB)"
  meta idle_rss_mib "$(hwm_mib "$BEHALF_PID")"
  meta idle_fds "$fd1 $fd2 $fd0"
  meta idle_status "$st"
  kill "$IDLE_PID" 2>/dev/null; wait "$IDLE_PID" 2>/dev/null || true; IDLE_PID=
}
