-- Shared by bench/wrk/*.lua: print wrk's summary and latency percentiles as one JSON
-- line ("WRK_JSON {...}"), with per-thread counters (statuses and the named numbers)
-- summed over the threads.
local M = {}

-- wrk's setup(): number each thread ("id" in its own state) and keep it for report().
M.threads = {}
function M.setup(thread)
  table.insert(M.threads, thread)
  thread:set("id", #M.threads)
end

local function counters(threads, names)
  local statuses, totals = {}, {}
  for _, name in ipairs(names) do
    totals[name] = 0
  end
  for _, thread in ipairs(threads) do
    local found = thread:get("statuses")
    if found then
      for code, count in pairs(found) do
        statuses[code] = (statuses[code] or 0) + count
      end
    end
    for _, name in ipairs(names) do
      totals[name] = totals[name] + (thread:get(name) or 0)
    end
  end
  local parts = {}
  for code, count in pairs(statuses) do
    parts[#parts + 1] = string.format('"%s":%d', code, count)
  end
  local out = { string.format('"statuses":{%s}', table.concat(parts, ",")) }
  for _, name in ipairs(names) do
    out[#out + 1] = string.format('"%s":%d', name, totals[name])
  end
  return table.concat(out, ",")
end

function M.report(summary, latency, threads, names)
  local e = summary.errors
  local p = {}
  for _, q in ipairs({ 50, 90, 95, 99, 99.9 }) do
    p[#p + 1] = string.format('"%s":%d', tostring(q), latency:percentile(q))
  end
  io.write(string.format(
    'WRK_JSON {"requests":%d,"duration_us":%d,"bytes":%d,'
      .. '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},'
      .. '"latency_us":{"min":%d,"max":%d,"mean":%.1f,"stdev":%.1f,%s},%s}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.min, latency.max, latency.mean, latency.stdev, table.concat(p, ","),
    counters(threads, names or {})
  ))
end

return M
