-- wrk script for the catalog's read workloads: every request carries the next of the bearer tokens
-- listed (one per line) in the file named by TOKENS and asks for the next of the paths listed in
-- the file named by PATHS (`reserva-load --workload catalog --wrk-inputs DIR` writes both, the
-- same requests as its own runs); prints p50/p99 and the answers that were not 200 at the end.
-- CLOSE=1 adds `Connection: close`.
local report = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "report.lua")
local tokens, paths = {}, {}
local token_index, path_index = 0, 0

local function lines(name, into)
  for line in io.lines(os.getenv(name)) do
    if #line > 0 then into[#into + 1] = line end
  end
end

function init(args)
  lines("TOKENS", tokens)
  lines("PATHS", paths)
  token_index = math.random(#tokens)
  path_index = math.random(#paths)
end

function request()
  token_index = token_index % #tokens + 1
  path_index = path_index % #paths + 1
  local headers = { ["Authorization"] = "Bearer " .. tokens[token_index] }
  if os.getenv("CLOSE") == "1" then headers["Connection"] = "close" end
  return wrk.format("GET", paths[path_index], headers)
end

function done(summary, latency, requests)
  report.line(summary, latency)
end
