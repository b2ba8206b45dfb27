-- wrk script of `bench.votes`: POST a vote as a browser with htmx would, or to the raw endpoint.
-- wrk -s bench/vote.lua URL -- MODE FILE IDEA_MIN IDEA_MAX
--   MODE app: FILE has one "cookie-header<TAB>csrf-token" line per logged-in user
--   MODE raw: FILE has one user id per line
--   MODE api: FILE has one API token per line (POST /api/ideas/{id}/vote, Bearer)
-- Prints one machine-readable line "BENCH key=value ..." at the end.
-- A repeated (user, idea) pair is no error: the htmx vote answers the fragment (200) again, the
-- API answers 409 with the code `already_voted` (counted as `repeats`). Every other answer
-- outside 2xx is counted per status (`status_NNN`), and the first such body is printed.

local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("tid", counter)
  table.insert(threads, thread)
end

local mode, sessions, lo, hi
bad = 0           -- responses outside 2xx, except the API's repeats
repeats = 0       -- api: 409 already_voted (the pair had voted before)
nonfragment = 0   -- app: 2xx answers that are not the vote fragment
statuses = {}     -- status -> count of the answers counted in `bad`
first_bad = nil   -- the first of them: "status body"

function init(args)
  mode = args[1]
  lo = tonumber(args[3])
  hi = tonumber(args[4])
  math.randomseed(os.time() * 1000 + (tid or 0) * 7919)
  sessions = {}
  for line in io.lines(args[2]) do
    if mode == "app" then
      local cookie, token = line:match("^(.-)\t(.*)$")
      table.insert(sessions, { cookie, token })
    else
      table.insert(sessions, line)
    end
  end
end

function request()
  local idea = math.random(lo, hi)
  local s = sessions[math.random(#sessions)]
  if mode == "app" then
    local headers = {
      ["Cookie"] = s[1],
      ["X-CSRFToken"] = s[2],
      ["HX-Request"] = "true",
      ["HX-Target"] = "vote-" .. idea,
      ["Content-Type"] = "application/x-www-form-urlencoded",
    }
    local body = "_csrf_token=" .. s[2] .. "&next=%2Fideas%2F" .. idea
    return wrk.format("POST", "/ideas/" .. idea .. "/vote", headers, body)
  end
  if mode == "api" then
    return wrk.format("POST", "/api/ideas/" .. idea .. "/vote", { ["Authorization"] = "Bearer " .. s }, "")
  end
  return wrk.format("POST", "/vote/" .. idea, { ["X-User-Id"] = s }, "")
end

function response(status, headers, body)
  if status == 409 and mode == "api" and string.find(body, '"already_voted"', 1, true) then
    repeats = repeats + 1
  elseif status < 200 or status > 299 then
    bad = bad + 1
    statuses[status] = (statuses[status] or 0) + 1
    if first_bad == nil then
      first_bad = status .. " " .. string.sub(body or "", 1, 300)
    end
  elseif mode == "app" and not string.find(body, 'id="vote-', 1, true) then
    nonfragment = nonfragment + 1
  end
end

function done(summary, latency, requests)
  local b, nf, rep, first = 0, 0, 0, nil
  local by_status = {}
  for _, t in ipairs(threads) do
    b = b + (t:get("bad") or 0)
    nf = nf + (t:get("nonfragment") or 0)
    rep = rep + (t:get("repeats") or 0)
    for status, n in pairs(t:get("statuses") or {}) do
      by_status[status] = (by_status[status] or 0) + n
    end
    first = first or t:get("first_bad")
  end
  local e = summary.errors
  local extra = ""
  for status, n in pairs(by_status) do
    extra = extra .. string.format(" status_%d=%d", status, n)
  end
  io.write(string.format(
    "BENCH requests=%d duration_us=%d p50_us=%d p90_us=%d p99_us=%d max_us=%d "
      .. "non2xx=%d nonfragment=%d repeats=%d connect=%d read=%d write=%d timeout=%d%s\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, b, nf, rep, e.connect, e.read, e.write, e.timeout,
    extra))
  if first then
    io.write("BENCH_FIRST_ERROR " .. string.gsub(first, "\n", " ") .. "\n")
  end
end
