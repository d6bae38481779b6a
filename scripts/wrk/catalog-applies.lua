-- wrk script for the catalog's apply workloads, measured as the peer's were (wrk, 2 threads):
-- every request is a card apply, POST /api/v1/tests/{id}/apply with {amount: price, payment_method:
-- card}. `reserva-load --workload catalog --wrk-inputs DIR` writes the inputs.
--
--   MODE=spread  G-APPLY-SPREAD: request n is user n % #TOKENS applying for test n / #TOKENS of
--                TESTS ("id price" per line), so about #TOKENS users apply for one test at once
--                and no (user, test) pair repeats. Every answer must be 201.
--   MODE=hot     G-APPLY-HOT: request n is user n / 4 of TOKENS applying for the one test of
--                TESTS: each user's four applies go out back to back, on whichever connections
--                are free. Every answer must be 201 or 409 (exactly one 201 per user: checked
--                afterwards in the database, the answers of requests still in flight when wrk
--                stops being lost).
--
-- FROM skips the first FROM requests' worth of pairs or users, so consecutive runs on one
-- database take fresh ones. wrk's threads interleave their requests: thread t of T sends requests
-- t, t + T, t + 2T, ... (THREADS must be wrk's -t). The RESULT line adds the answers by status and
-- `exhausted`, the requests that found no fresh pair or user left (then the run proves nothing).
local report = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "report.lua")
local threads = {}

function setup(thread)
  thread:set("thread_index", #threads)
  threads[#threads + 1] = thread
end

local tokens, tests = {}, {}
local sent, from, thread_count, mode = 0, 0, 2, "spread"
created, conflicts, others, exhausted = 0, 0, 0, 0

function init(args)
  for line in io.lines(os.getenv("TOKENS")) do
    if #line > 0 then tokens[#tokens + 1] = line end
  end
  for line in io.lines(os.getenv("TESTS")) do
    local id, price = line:match("^(%S+)%s+(%d+)$")
    if id then tests[#tests + 1] = { id = id, price = price } end
  end
  mode = os.getenv("MODE") or "spread"
  from = tonumber(os.getenv("FROM") or "0")
  thread_count = tonumber(os.getenv("THREADS") or "2")
end

function request()
  local n = from + sent * thread_count + thread_index
  sent = sent + 1
  local token, test
  if mode == "hot" then
    token, test = tokens[math.floor(n / 4) + 1], tests[1]
  else
    token, test = tokens[n % #tokens + 1], tests[math.floor(n / #tokens) + 1]
  end
  if token == nil or test == nil then
    exhausted = exhausted + 1
    return wrk.format("GET", "/healthz")
  end
  local headers = {
    ["Authorization"] = "Bearer " .. token,
    ["Content-Type"] = "application/json",
  }
  local body = '{"amount":' .. test.price .. ',"payment_method":"card"}'
  return wrk.format("POST", "/api/v1/tests/" .. test.id .. "/apply", headers, body)
end

function response(status, headers, body)
  if status == 201 then
    created = created + 1
  elseif status == 409 then
    conflicts = conflicts + 1
  else
    others = others + 1
  end
end

function done(summary, latency, requests)
  local totals = { created = 0, conflicts = 0, others = 0, exhausted = 0 }
  for _, thread in ipairs(threads) do
    for name in pairs(totals) do
      totals[name] = totals[name] + thread:get(name)
    end
  end
  report.line(summary, latency, string.format("s201=%d s409=%d other=%d exhausted=%d",
    totals.created, totals.conflicts, totals.others, totals.exhausted))
end
