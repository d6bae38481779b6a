-- The one RESULT line every wrk script here prints at the end, which the bench scripts grep:
-- requests, errors (connect, read, write, timeout), non-2xx answers, requests/s, then any extra
-- fields the script adds (`extra`, already formatted), then p50 and p99 in milliseconds.
-- Loaded by the scripts beside it with dofile, from their own directory.
local report = {}

function report.line(summary, latency, extra)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.timeout
  io.write(string.format("RESULT requests=%d errors=%d non2xx=%d rps=%.0f %sp50_ms=%.2f p99_ms=%.2f\n",
    summary.requests, errors, summary.errors.status, summary.requests / (summary.duration / 1e6),
    extra and (extra .. " ") or "", latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end

return report
