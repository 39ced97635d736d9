-- Shared by every bench script (loaded with dofile in each wrk Lua state).
-- Env: BENCH_OK_STATUS  status counted as success (default: any 2xx)
--      BENCH_EXPECT     plain substring every successful body must contain (optional)
--      BENCH_EXPECT_ANY substrings separated by "|": every successful body must contain
--                       one of them (optional; e.g. authorization_pending|slow_down)
--      BENCH_ADDRS      "HOST:PORT HOST:PORT ...": the threads round-robin these servers
--                       (thread i connects to address i mod n); default: the URL's
-- Each thread counts its own non-success answers (`bad`) and bodies missing
-- BENCH_EXPECT (`unexpected`); done() sums them over threads and prints one
-- machine-readable RESULT line (latencies in ms).

local threads = {}
local nthreads = 0

local addrs
do
  local list = os.getenv("BENCH_ADDRS") or ""
  for a in list:gmatch("%S+") do
    addrs = addrs or {}
    local host, port = a:match("^(.+):(%d+)$")
    addrs[#addrs + 1] = { host = host, port = port }
  end
end

function setup(thread)
  if addrs then
    local a = addrs[(nthreads % #addrs) + 1]
    thread.addr = wrk.lookup(a.host, a.port)[1]
  end
  thread:set("tid", nthreads)
  nthreads = nthreads + 1
  table.insert(threads, thread)
end

bad, unexpected = 0, 0
local ok_status = tonumber(os.getenv("BENCH_OK_STATUS") or "")
local expect = os.getenv("BENCH_EXPECT")
if expect == "" then expect = nil end
local expect_any
for alt in (os.getenv("BENCH_EXPECT_ANY") or ""):gmatch("[^|]+") do
  expect_any = expect_any or {}
  expect_any[#expect_any + 1] = alt
end

-- returns true when the answer is a success (and has the expected body)
function check(status, body)
  local good
  if ok_status then good = (status == ok_status) else good = (status >= 200 and status < 300) end
  if not good then
    bad = bad + 1
    return false
  end
  if expect and not (body and string.find(body, expect, 1, true)) then
    unexpected = unexpected + 1
    return false
  end
  if expect_any then
    for _, alt in ipairs(expect_any) do
      if body and string.find(body, alt, 1, true) then return true end
    end
    unexpected = unexpected + 1
    return false
  end
  return true
end

-- sum of a numeric global over all threads
function sum_threads(name)
  local total = 0
  for _, t in ipairs(threads) do total = total + (tonumber(t:get(name)) or 0) end
  return total
end

-- a numeric global of each thread, by thread id
function per_thread(name)
  local r = {}
  for _, t in ipairs(threads) do r[tonumber(t:get("tid"))] = tonumber(t:get(name)) or 0 end
  return r
end

-- extra: optional function returning a string of more "key=value" fields
function report(summary, latency, extra)
  local e = summary.errors
  local secs = summary.duration / 1e6
  io.write(string.format(
    "RESULT rps=%.0f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f max_ms=%.1f reqs=%d non2xx=%d unexpected=%d sockerr=%d status_gt399=%d secs=%.2f%s\n",
    summary.requests / secs, latency:percentile(50) / 1e3, latency:percentile(90) / 1e3,
    latency:percentile(99) / 1e3, latency.max / 1e3, summary.requests,
    sum_threads("bad"), sum_threads("unexpected"),
    e.connect + e.read + e.write + e.timeout, e.status, secs,
    extra and (" " .. extra()) or ""))
end
