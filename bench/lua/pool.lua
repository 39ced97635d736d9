-- One request per value of a pool (distinct delegated tokens to revoke, distinct
-- authorization codes to redeem). Each thread takes every BENCH_THREADS-th line of
-- BENCH_POOL, starting at its own id, and walks through them once; when its share
-- runs out it starts over (counted as `reused`, which a correct run must not have).
-- Env: BENCH_LUA_DIR  BENCH_PATH  BENCH_AUTH  BENCH_THREADS
--      BENCH_BODY   form body with one @VALUE@ where the value goes
--      BENCH_POOL_LEFT  (optional) file to write the values no thread touched
--      BENCH_POOL_STOP=1  when a thread's share runs out, stop that thread instead of
--                       starting over (the smoke run: a short pool is not an error there;
--                       answers after the stop are not checked, `stopped` counts threads)
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

local values = {}
local prefix, suffix, headers, path
-- wrk calls request() once in thread 0 before the run only to check it (the request is
-- never sent): that call must not spend a value.
local verifying
used, reused, share, stopped = 0, 0, 0, 0
local stop_mode = os.getenv("BENCH_POOL_STOP") == "1"
local stopping = false

function init(args)
  local n = tonumber(os.getenv("BENCH_THREADS"))
  local i = 0
  for line in io.lines(os.getenv("BENCH_POOL")) do
    if line ~= "" then
      if i % n == tid then values[#values + 1] = line end
      i = i + 1
    end
  end
  share = #values
  verifying = (tid == 0)
  local template = os.getenv("BENCH_BODY")
  local at = assert(string.find(template, "@VALUE@", 1, true), "BENCH_BODY needs @VALUE@")
  prefix, suffix = template:sub(1, at - 1), template:sub(at + 7)
  path = os.getenv("BENCH_PATH")
  headers = {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Authorization"] = "Basic " .. os.getenv("BENCH_AUTH"),
  }
end

function request()
  if verifying then
    verifying = false
    return wrk.format("POST", path, headers, prefix .. (values[1] or "none") .. suffix)
  end
  if stop_mode and used >= share then
    if not stopping then stopping = true; stopped = 1; wrk.thread:stop() end
    return wrk.format("POST", path, headers, prefix .. (values[share] or "none") .. suffix)
  end
  used = used + 1
  local v
  if used <= share then v = values[used] else
    reused = reused + 1
    v = values[((used - 1) % math.max(share, 1)) + 1] or "exhausted"
  end
  return wrk.format("POST", path, headers, prefix .. v .. suffix)
end

function response(status, headers, body)
  if stopping then return end
  check(status, body)
end

function done(summary, latency, requests)
  -- values sent (including requests still in flight at the end) are spent
  local left_file = os.getenv("BENCH_POOL_LEFT") or ""
  if left_file ~= "" then
    local n = tonumber(os.getenv("BENCH_THREADS"))
    local used_by = per_thread("used")
    local seen = {}
    for id = 0, n - 1 do seen[id] = 0 end
    local f = assert(io.open(left_file, "w"))
    local i = 0
    for line in io.lines(os.getenv("BENCH_POOL")) do
      if line ~= "" then
        local id = i % n
        seen[id] = seen[id] + 1
        if seen[id] > (used_by[id] or 0) then f:write(line, "\n") end
        i = i + 1
      end
    end
    f:close()
  end
  report(summary, latency, function()
    return string.format("pool=%d distinct=%d reused=%d stopped=%d", sum_threads("share"),
      sum_threads("used") - sum_threads("reused"), sum_threads("reused"), sum_threads("stopped"))
  end)
end
