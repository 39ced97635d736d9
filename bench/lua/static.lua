-- One fixed request, repeated. Used for client_credentials, token_exchange,
-- introspection (both servers), and to mint pools (authorization codes, delegated tokens).
-- Env: BENCH_LUA_DIR  BENCH_METHOD (POST)  BENCH_PATH  BENCH_BODY  BENCH_AUTH (Basic value)
--      BENCH_BEARER (a bearer token: Authorization: Bearer, instead of BENCH_AUTH)
--      BENCH_COOKIE (Cookie header)  BENCH_CAPTURE: "json:<field>" (from the body) or
--      "location:<param>" (from the Location header) -> appended, one per line, to
--      BENCH_OUT.<thread id>
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

local req
local capture_kind, capture_name
local out
captured = 0

function init(args)
  local headers = {}
  local body = os.getenv("BENCH_BODY")
  if body == "" then body = nil end
  if body then headers["Content-Type"] = "application/x-www-form-urlencoded" end
  local auth = os.getenv("BENCH_AUTH") or ""
  if auth ~= "" then headers["Authorization"] = "Basic " .. auth end
  local bearer = os.getenv("BENCH_BEARER") or ""
  if bearer ~= "" then headers["Authorization"] = "Bearer " .. bearer end
  local cookie = os.getenv("BENCH_COOKIE") or ""
  if cookie ~= "" then headers["Cookie"] = cookie end
  req = wrk.format(os.getenv("BENCH_METHOD") or "POST", os.getenv("BENCH_PATH"), headers, body)
  local cap = os.getenv("BENCH_CAPTURE") or ""
  if cap ~= "" then
    capture_kind, capture_name = cap:match("^(%a+):(.+)$")
    out = assert(io.open(os.getenv("BENCH_OUT") .. "." .. tid, "w"))
  end
end

function request()
  return req
end

function response(status, headers, body)
  if not check(status, body) or not capture_kind then return end
  local value
  if capture_kind == "json" then
    value = body:match('"' .. capture_name .. '"%s*:%s*"([^"]+)"')
  else
    local loc = headers["location"] or headers["Location"] or ""
    value = loc:match("[?&]" .. capture_name .. "=([^&]+)")
  end
  if value then
    out:write(value, "\n")
    captured = captured + 1
  end
end

function done(summary, latency, requests)
  report(summary, latency, function() return "captured=" .. sum_threads("captured") end)
end
