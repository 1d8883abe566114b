-- Shared by every wrk run of the benchmark: rotate through the request paths given in
-- BENCH_PATHS (separated by '|'), send BENCH_BODY (a file) when set, and print one JSON line.
local body_file = os.getenv("BENCH_BODY")
local paths = {}
for path in string.gmatch(os.getenv("BENCH_PATHS") or "/", "[^|]+") do
  table.insert(paths, path)
end
local method = body_file and "POST" or "GET"
local body = nil
if body_file then
  local handle = io.open(body_file, "rb")
  body = handle:read("*a")
  handle:close()
  wrk.headers["Content-Type"] = "application/json"
end
local token = os.getenv("BENCH_BEARER")
if token then
  wrk.headers["Authorization"] = "Bearer " .. token
end

-- BENCH_PAUSE_MS: each connection waits a random 0..2x this long before its next request, so
-- many clients send at a steady rate well below saturation (people at forms, not a flood).
local pause_ms = tonumber(os.getenv("BENCH_PAUSE_MS") or "0")
if pause_ms > 0 then
  init = function(args)
    math.randomseed(os.time() + tonumber(tostring({}):match("0x(%x+)"), 16))
  end
  delay = function()
    return math.random(0, 2 * pause_ms)
  end
end

local counter = 0
request = function()
  counter = counter + 1
  return wrk.format(method, paths[(counter % #paths) + 1], nil, body)
end

done = function(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "status_errors": %d, "socket_errors": %d,'
      .. ' "p50_us": %d, "p95_us": %d, "p99_us": %d, "max_us": %d, "mean_us": %.1f}\n',
    summary.requests, summary.duration, errors.status,
    errors.connect + errors.read + errors.write + errors.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99),
    latency.max, latency.mean))
end
