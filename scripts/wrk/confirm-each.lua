-- wrk script for E-CONFIRM: POSTs /api/v1/exam-reservations/{id}/confirm for each id listed (one per
-- line) in the file named by IDS, each id once across all threads, with the bearer token in TOKEN.
local report = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "report.lua")
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
  report.line(summary, latency, string.format("ok_rps=%.0f",
    (summary.requests - summary.errors.status) / (summary.duration / 1e6)))
end
