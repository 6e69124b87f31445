-- wrk script for bench/serve.sh: POSTs cardauth decisions, counts the
-- answers by status and keeps the run time (duration_ms) of every 200.
-- A connection answered 429 waits BACKOFF_MS (default 100) before its next
-- request, as a client honouring Retry-After would (wrk cannot wait the
-- header's whole seconds without idling the connection for the run).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

local threads = {}
local n = 0

function setup(thread)
  n = n + 1
  thread:set("id", n)
  table.insert(threads, thread)
end

function init(args)
  counts = {}
  durations = {}
  seq = 0
  backoff = tonumber(os.getenv("BACKOFF_MS") or "100")
  last = 0
end

function delay()
  if last == 429 then return backoff end
  return 0
end

function request()
  seq = seq + 1
  local i = tostring(id * 1000000 + seq % 997)
  local body = '{"transaction_id":"t' .. i .. '","card_id":"c' .. i .. '","customer_id":"u' .. i .. '","merchant_id":"m' .. i .. '"}'
  return wrk.format(nil, nil, nil, body)
end

function response(status, headers, body)
  last = status
  counts[status] = (counts[status] or 0) + 1
  if status == 200 then
    local d = body:match('"duration_ms":([%d%.]+)')
    if d then
      durations[#durations + 1] = tonumber(d)
    end
  end
end

local function quantile(sorted, q)
  if #sorted == 0 then return 0 end
  local i = math.floor(q * #sorted) + 1
  if i > #sorted then i = #sorted end
  return sorted[i]
end

function done(summary, latency, requests)
  local total, ok, shed = 0, 0, 0
  local all = {}
  local byStatus = {}
  for _, t in ipairs(threads) do
    for status, c in pairs(t:get("counts")) do
      byStatus[status] = (byStatus[status] or 0) + c
      total = total + c
    end
    for _, d in ipairs(t:get("durations")) do
      all[#all + 1] = d
    end
  end
  ok = byStatus[200] or 0
  shed = byStatus[429] or 0
  table.sort(all)
  local secs = summary.duration / 1e6
  io.write("\n--- featgraph serve under wrk\n")
  io.write(string.format("answers:           %d in %.1f s (%.0f/s)\n", total, secs, total / secs))
  local codes = {}
  for status, c in pairs(byStatus) do codes[#codes + 1] = string.format("%d: %d", status, c) end
  table.sort(codes)
  io.write("by status:         " .. table.concat(codes, ", ") .. "\n")
  io.write(string.format("decisions/s:       %.0f (answers 200)\n", ok / secs))
  io.write(string.format("shed with 429:     %.1f%%\n", 100 * shed / math.max(total, 1)))
  io.write(string.format("accepted run time: p50 %.1f ms, p99 %.1f ms, max %.1f ms (duration_ms of the 200s)\n",
    quantile(all, 0.50), quantile(all, 0.99), all[#all] or 0))
  io.write(string.format("client latency:    p50 %.1f ms, p99 %.1f ms (every answer, 429s included)\n",
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
  io.write(string.format("socket errors:     connect %d, read %d, write %d, timeout %d\n",
    summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.timeout))
end
