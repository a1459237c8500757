-- wrk script for `cargo bench --bench webhook`: sends prepared, unique, signed webhooks.
--
-- Usage: wrk -t T -c C -d D -s prepared.lua <url> -- <dir>
-- <dir>/requests-<k>.bin holds thread k's requests: complete HTTP/1.1 requests, each followed
-- by a NUL byte. Each thread sends its own requests once, in order, then stops; the bench
-- watches the stream to know when all were stored, and interrupts wrk to read its latencies.
-- Requests are built and signed by the bench, so a request costs wrk one table lookup.

local threads = 0

function setup(thread)
  thread:set("tid", threads)
  threads = threads + 1
end

local requests = {}
local count = 0
local sent = 0

function init(args)
  local f = assert(io.open(args[1] .. "/requests-" .. tid .. ".bin", "rb"))
  local data = f:read("*a")
  f:close()
  local pos = 1
  while true do
    local stop = string.find(data, "\0", pos, true)
    if not stop then break end
    count = count + 1
    requests[count] = string.sub(data, pos, stop - 1)
    pos = stop + 1
  end
  -- wrk calls request() once in thread 0 to check the script, and sends nothing of it.
  if tid == 0 then sent = -1 end
end

function request()
  sent = sent + 1
  if sent > count then
    -- Every request of this thread's share went out: stop. (Stopping while returning the last
    -- one could drop it unsent.) This resent one is answered as a duplicate, if it goes out.
    wrk.thread:stop()
    return requests[count]
  end
  return requests[math.max(sent, 1)]
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRK_RESULT requests=%d duration_us=%d p50_us=%d p99_us=%d max_us=%d status_errors=%d timeouts=%d socket_errors=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.max,
    e.status, e.timeout, e.connect + e.read + e.write))
end
