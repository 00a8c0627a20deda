-- luacheck settings for the cluster script. Redis runs lib.lua, apply.lua and ops.lua as ONE
-- script (script-source.ts joins them), so they are linted joined, as the test does
-- (packages/server/test/lua-lint.test.ts):
--   cat lib.lua apply.lua ops.lua | luacheck --config .luacheckrc --filename cluster.lua -
-- Redis scripts run Lua 5.1 with these globals and no others.
std = 'lua51'
read_globals = { 'KEYS', 'ARGV', 'redis', 'cjson', 'cmsgpack', 'bit' }
-- Redis forbids creating globals, so any is a bug.
allow_defined_top = false
max_line_length = 160
