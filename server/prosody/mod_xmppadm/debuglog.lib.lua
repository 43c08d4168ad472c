-- Temporary debug logging into a file of its own (server/CONTRACT.md 8): a logger sink at all
-- levels next to the configured logging, which stays untouched.

local common = module:require "common";
local logger = common.lib "util.logger";
local format = common.lib "util.format".format;

local M = {};
M.file = prosody.paths.data .. "/xmppadm-debug-" .. module.host:gsub("[^%w.-]", "_") .. ".log";

local active; -- { fh, expires, timer } while on

-- The sink writes only while on. 13 can take it out again (logger.remove_sink); 0.12 has no
-- way to, so there it stays installed but idle after "off" (one call per log line) until
-- Prosody's next logging reload clears every sink.
local function sink(source, level, message, ...)
	if active then
		active.fh:write(os.date("%b %d %H:%M:%S "), source, "\t", level, "\t", format(message, ...), "\n");
	end
end
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

function M.off()
	if not active then return false; end
	uninstall();
	if active.timer then active.timer:stop(); end
	active.fh:close();
	active = nil;
	wipe();
	module:log("info", "Debug logging to %s stopped, file removed", M.file);
	return true;
end

-- On, for `duration` seconds or until off; on while on resets the expiry.
function M.on(duration)
	if not active then
		local fh, err = io.open(M.file, "a");
		if not fh then common.fail("wait", "internal-server-error", "Could not open " .. M.file .. ": " .. tostring(err)); end
		fh:setvbuf("line");
		active = { fh = fh };
		install();
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
