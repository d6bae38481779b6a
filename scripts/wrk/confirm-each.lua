-- wrk script for E-CONFIRM: POSTs /api/v1/exam-reservations/{id}/confirm for each id listed (one per
-- line) in the file named by IDS, each id once across all threads, with the bearer token in TOKEN.
local ids = {}
for line in io.lines(os.getenv("IDS")) do
  if #line > 0 then ids[#ids + 1] = line end
end
local threads = 0

function setup(thread)
  thread:set("first", threads)
  threads = threads + 1
end

function init(args)
  stride = 2
  index = first
end

function request()
  index = index + stride
  local id = ids[index] or ids[#ids]
  return wrk.format("POST", "/api/v1/exam-reservations/" .. id .. "/confirm",
    { ["Authorization"] = "Bearer " .. os.getenv("TOKEN"), ["Content-Type"] = "application/json" }, "{}")
end

-- ok_rps counts only 2xx answers: confirms that took capacity.
function done(summary, latency, requests)
  io.write(string.format("RESULT requests=%d errors=%d non2xx=%d rps=%.0f ok_rps=%.0f p50_ms=%.2f p99_ms=%.2f\n",
    summary.requests, summary.errors.connect + summary.errors.read + summary.errors.write
      + summary.errors.timeout, summary.errors.status,
    summary.requests / (summary.duration / 1e6),
    (summary.requests - summary.errors.status) / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
