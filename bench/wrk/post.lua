-- wrk script of bench/scale.py: POST each line of a file once (distinct users).
-- Usage: wrk -tT ... -s bench/wrk/post.lua URL -- FILE T PATH
-- FILE: "TOKEN<TAB>JSON BODY" a line; thread i of T sends lines i, i+T, i+2T... once
-- each, to PATH; when its share runs out it sends GET /healthz and counts "ran_out".
-- It counts status codes and, in 201 answers, eligible ones and ones with meetings.
-- done() prints one "WRK_JSON {...}" line.
local common = dofile(debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "common.lua")

setup = common.setup

local requests = {}
local next_item = 1
local fallback
statuses = {}
eligible = 0
meetings = 0
ran_out = 0

function init(args)
  local stride = tonumber(args[2])
  local n = 0
  for line in io.lines(args[1]) do
    n = n + 1
    if (n - id) % stride == 0 then
      local token, body = line:match("^([^\t]*)\t(.+)$")
      requests[#requests + 1] = wrk.format("POST", args[3], {
        Authorization = "Bearer " .. token,
        ["Content-Type"] = "application/json",
      }, body)
    end
  end
  fallback = wrk.format("GET", "/healthz")
end

function request()
  local item = requests[next_item]
  if item == nil then
    ran_out = ran_out + 1
    return fallback
  end
  next_item = next_item + 1
  return item
end

function response(status, _, body)
  local key = tostring(status)
  statuses[key] = (statuses[key] or 0) + 1
  if status == 201 then
    if body:find('"eligible":%s*true') then
      eligible = eligible + 1
    end
    if not body:find('"meetings":%s*%[%s*%]') then
      meetings = meetings + 1
    end
  end
end

function done(summary, latency, _)
  common.report(summary, latency, common.threads, { "eligible", "meetings", "ran_out" })
end
