-- wrk script of bench/scale.py: GET a random line of a file per request.
-- Usage: wrk ... -s bench/wrk/get.lua URL -- FILE SEED
-- FILE: one request a line, "TOKEN<TAB>PATH" (a bearer token, and the path with its
-- query). Each request picks a line at random (each thread its own random stream), so
-- positions and users vary per request. done() prints one "WRK_JSON {...}" line.
local common = dofile(debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "common.lua")

setup = common.setup

local requests = {}
function init(args)
  for line in io.lines(args[1]) do
    local token, path = line:match("^([^\t]*)\t(.+)$")
    if path then
      requests[#requests + 1] = wrk.format("GET", path, { Authorization = "Bearer " .. token })
    end
  end
  math.randomseed(tonumber(args[2] or "1") * 1000 + id)
end

function request()
  return requests[math.random(#requests)]
end

function done(summary, latency, _)
  common.report(summary, latency, common.threads)
end
