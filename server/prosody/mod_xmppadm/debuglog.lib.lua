-- Temporary debug logging into a file of its own (server/CONTRACT.md 8): a logger sink at all
-- levels next to the configured logging, which stays untouched. The file records this host
-- only, whoever switched it on: the lines of this host's modules (and of the components that
-- belong to it) and of its client sessions. Other hosts' lines, their sessions', and those of
-- Prosody's core that belong to no host (routing, storage, the network layer's own) stay out.

local common = module:require "common";
local logger = common.lib "util.logger";
local format = common.lib "util.format".format;

local host = module.host;
local hosts = prosody.hosts;
local M = {};
M.file = prosody.paths.data .. "/xmppadm-debug-" .. host:gsub("[^%w.-]", "_") .. ".log";

local active; -- { fh, expires, timer } while on

--- Whose lines ----------------------------------------------------------------------
-- A log source is the name a logger was made with: "<host>:<module>" for a module on a host; a
-- name of its own for each client session ("c2s55d1…", "bosh…") and its connection ("conn…");
-- fixed names for the core ("general", "rostermanager", "datamanager", "mod_c2s"). A module's
-- source says its host. A session's sources are learnt when the session reaches this host
-- (stream-features, before any authentication): the session logs one line, and the sink notes
-- where that line came from. What a session logs before that (its connection, the stream
-- header) is held back in memory, a few lines per source, and written once it turns out to be
-- this host's.

-- A session logs 2-4 lines before its stream names the host; at most ~1 MB is held.
local MAX_HELD_LINES, MAX_HELD_SOURCES = 8, 500;

local sessions = setmetatable({}, { __mode = "k" }); -- this host's client sessions
local recorded = setmetatable({}, { __mode = "k" }); -- sessions whose sources are known
local mine = setmetatable({}, { __mode = "v" }); -- source -> this host's session it belongs to
local module_sources = {}; -- "<host>:<module>" -> whether it is this host's
local held, held_count, held_seq = {}, 0, 0; -- source -> { {seq, time, level, text, source}, ... }
local probe; -- while a session's sources are being learnt: they are collected here

local function forget_module_sources() module_sources = {}; end
module:hook_global("host-activated", forget_module_sources);
module:hook_global("host-deactivated", forget_module_sources);

local function is_mine(source)
	if mine[source] then return true; end
	local of_host = source:match("^([^:]+):");
	if not of_host then return false; end
	local known = module_sources[source];
	if known == nil then
		known = common.owner_host(of_host) == host;
		module_sources[source] = known;
	end
	return known;
end

local function write(when, source, level, text)
	active.fh:write(os.date("%b %d %H:%M:%S ", when), source, "\t", level, "\t", text, "\n");
end

local function hold(source, level, message, ...)
	local lines = held[source];
	if not lines then
		if held_count >= MAX_HELD_SOURCES then held, held_count = {}, 0; end -- a bound, not a cache
		lines = {};
		held[source], held_count = lines, held_count + 1;
	end
	if #lines < MAX_HELD_LINES then
		held_seq = held_seq + 1;
		lines[#lines + 1] = { held_seq, os.time(), level, format(message, ...), source };
	end
end

-- The sink writes only while on. 13 can take it out again (logger.remove_sink); 0.12 has no
-- way to, so there it stays installed but idle after "off" (one call per log line) until
-- Prosody's next logging reload clears every sink.
local function sink(source, level, message, ...)
	if not active then return; end
	if probe then probe[#probe + 1] = source; return; end
	if is_mine(source) then
		write(os.time(), source, level, format(message, ...));
	elseif not source:find(":", 1, true) then -- maybe a session that has not reached a host yet
		hold(source, level, message, ...);
	end
end

-- The source a logger function writes as (it is called once; the line goes to other sinks).
local function source_of(log)
	probe = {};
	local ok = pcall(log, "debug", "Session recorded by the debug log of %s", host);
	local found = probe[1];
	probe = nil;
	return ok and found or nil;
end

-- Learns a session's sources: its own logger's, and its connection's where that is the
-- connection's own (a TCP connection of one client; not BOSH's HTTP requests).
local function record(session)
	if recorded[session] or session.destroyed then return; end
	recorded[session] = true;
	local sources = { source_of(session.log) };
	local conn = session.conn;
	if not session.bosh_version and type(conn) == "table" and type(rawget(conn, "log")) == "function" then
		sources[#sources + 1] = source_of(conn.log);
	end
	local lines = {};
	for _, source in ipairs(sources) do
		mine[source] = session;
		for _, line in ipairs(held[source] or {}) do lines[#lines + 1] = line; end
		if held[source] then held[source], held_count = nil, held_count - 1; end
	end
	table.sort(lines, function (a, b) return a[1] < b[1]; end); -- in the order they were logged
	for _, line in ipairs(lines) do write(line[2], line[5], line[3], line[4]); end
end

module:hook("stream-features", function (event)
	local session = event.origin;
	sessions[session] = true;
	if active then record(session); end
end, 2000); -- before a block refuses the stream (blocking.lib.lua, 1000)

--- On and off ------------------------------------------------------------------------

local installed = false;
local function install()
	if installed then return; end
	for _, level in ipairs({ "debug", "info", "warn", "error" }) do logger.add_level_sink(level, sink); end
	installed = true;
end
local function uninstall()
	if installed and logger.remove_sink then
		logger.remove_sink(sink);
		installed = false;
	end
end

-- A logging reload (config reload, SIGHUP) clears every sink: put ours back if it is on.
module:hook_global("logging-reloaded", function ()
	installed = false;
	if active then install(); end
end);

local function wipe()
	local fh = io.open(M.file, "w"); -- truncate first: the data is gone even if removal fails
	if fh then fh:close(); end
	os.remove(M.file);
end

local function forget_sources()
	recorded = setmetatable({}, { __mode = "k" });
	mine = setmetatable({}, { __mode = "v" });
	held, held_count, held_seq = {}, 0, 0;
end

function M.off()
	if not active then return false; end
	uninstall();
	if active.timer then active.timer:stop(); end
	active.fh:close();
	active = nil;
	forget_sources();
	wipe();
	module:log("info", "Debug logging to %s stopped, file removed", M.file);
	return true;
end

-- On, for `duration` seconds or until off; on while on resets the expiry.
function M.on(duration)
	if not active then
		local fh, err = common.private_files(io.open, M.file, "a"); -- mode 0600
		if not fh then common.fail("wait", "internal-server-error", "Could not open " .. M.file .. ": " .. tostring(err)); end
		fh:setvbuf("line");
		active = { fh = fh };
		install();
		-- the sessions already here (also those authenticated before a module reload)
		for session in pairs(sessions) do record(session); end
		for _, user in pairs(hosts[host].sessions) do
			for _, session in pairs(user.sessions or {}) do record(session); end
		end
		module:log("info", "Debug logging to %s started", M.file);
	end
	if active.timer then active.timer:stop(); active.timer = nil; end
	active.expires = duration and os.time() + duration or nil;
	if duration then
		active.timer = module:add_timer(duration, function ()
			module:log("info", "Debug logging period is over");
			M.off();
		end);
	end
end

function M.status()
	return active ~= nil, active and active.expires;
end

wipe(); -- left over from a crash or a kill while on
module:hook_global("server-stopping", M.off);
function module.unload() M.off(); end

return M;
