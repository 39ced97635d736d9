-- One fixed GET with one extra header, repeated (bench/grown.sh: /account with a
-- session cookie, the agent API with a bearer token).
-- Env: BENCH_LUA_DIR  BENCH_PATH  BENCH_HEADER ("Name: value", optional)
--      BENCH_OK_STATUS / BENCH_EXPECT as in common.lua
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

local req

function init(args)
  local headers = {}
  local h = os.getenv("BENCH_HEADER") or ""
  local name, value = h:match("^([^:]+):%s*(.*)$")
  if name then headers[name] = value end
  req = wrk.format("GET", os.getenv("BENCH_PATH"), headers, nil)
end

function request()
  return req
end

function response(status, headers, body)
  check(status, body)
end

function done(summary, latency, requests)
  report(summary, latency)
end
