-- wrk script for scripts/loadtest.sh: each request carries the next token of a pool, read
-- from the file named by the TOKENS environment variable (one token per line), cycling. The
-- requests are formatted once, in init, so wrk spends no time building them.
local requests = {}
local next_index = 1

function init(args)
  for line in io.lines(os.getenv("TOKENS")) do
    requests[#requests + 1] = wrk.format(nil, wrk.path, { ["Authorization"] = "Bearer " .. line })
  end
  next_index = math.random(#requests)
end

function request()
  local r = requests[next_index]
  next_index = next_index % #requests + 1
  return r
end
