-- Access requests made and withdrawn, to make events (the outbox load): each thread has
-- one connection and one subject; it alternates POST /api/access-requests (201, event
-- access_request.created) and DELETE /api/access-requests/{id} (200, event
-- access_request.cancelled). A 409 (a request to that subject still pending, e.g. left
-- by an earlier run) is answered by cancelling the pending one it names.
-- Run with as many threads as connections (wrk -tN -cN).
-- Env: BENCH_LUA_DIR  BENCH_BEARER (the agent's token)  BENCH_SUBJECTS ("u0 u1 ...", one
--      per thread)
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

local subject, headers, pending
local verifying
events, leftover = 0, 0

function init(args)
  local subjects = {}
  for s in (os.getenv("BENCH_SUBJECTS") or ""):gmatch("%S+") do subjects[#subjects + 1] = s end
  assert(#subjects > tid, "BENCH_SUBJECTS needs one subject per thread")
  subject = subjects[tid + 1]
  headers = {
    ["Authorization"] = "Bearer " .. os.getenv("BENCH_BEARER"),
    ["Content-Type"] = "application/json",
  }
  verifying = (tid == 0)
end

local function create()
  return wrk.format("POST", "/api/access-requests", headers,
    '{"subject":"' .. subject .. '","scope":"read","duration":3600,"reason":"benchmark events"}')
end

function request()
  if verifying then verifying = false; return create() end   -- checked by wrk, never sent
  if pending then
    return wrk.format("DELETE", "/api/access-requests/" .. pending, { ["Authorization"] = headers["Authorization"] })
  end
  return create()
end

function response(status, hdrs, body)
  if pending then
    pending = nil
    if check(status, body) then events = events + 1 end
    return
  end
  if status == 409 then
    pending = body:match('"id"%s*:%s*"([^"]+)"')
    leftover = leftover + 1
    return
  end
  if check(status, body) then
    events = events + 1
    pending = body:match('"id"%s*:%s*"([^"]+)"')
  end
end

function done(summary, latency, requests)
  report(summary, latency, function()
    return string.format("events=%d leftover=%d", sum_threads("events"), sum_threads("leftover"))
  end)
end
