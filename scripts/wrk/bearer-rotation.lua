-- wrk script: every request carries one of the bearer tokens listed (one per line) in the file
-- named by the TOKENS environment variable, rotating through them; prints p50/p99 at the end.
-- METHOD (default GET) and BODY (a JSON document) make it send, for example, E-POST's request.
local report = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "report.lua")
local tokens = {}
local index = 0

function init(args)
  for line in io.lines(os.getenv("TOKENS")) do
    if #line > 0 then tokens[#tokens + 1] = line end
  end
  index = math.random(#tokens)
end

function request()
  index = index % #tokens + 1
  local headers = { ["Authorization"] = "Bearer " .. tokens[index] }
  if os.getenv("CLOSE") == "1" then headers["Connection"] = "close" end
  local body = os.getenv("BODY")
  if body then headers["Content-Type"] = "application/json" end
  return wrk.format(os.getenv("METHOD") or "GET", nil, headers, body)
end

function done(summary, latency, requests)
  report.line(summary, latency)
end
