-- Shared by mod_xmppadm's parts: Prosody's libraries under either version's names, the
-- contract's failures and values (server/CONTRACT.md 1), and the one util.adhoc handler shape
-- every command has. Stateless: each part loads it with module:require "common".

-- 13 names its libraries prosody.util.* (and still accepts util.*); 0.12 knows only util.*.
local function lib(name)
	local ok, loaded = pcall(require, "prosody." .. name);
	if ok then return loaded; end
	return require(name);
end

local dataforms = lib "util.dataforms";
local datetime = lib "util.datetime".datetime;
local async = lib "util.async";
local pposix = lib "util.pposix";
local usermanager = lib "core.usermanager";

local xmlns_adm = "urn:xmppadm:admin:1";
local MAX_SECONDS = 1e10; -- ~317 years; larger "durations" are surely mistakes
local t_sort, t_concat = table.sort, table.concat;

local M = { lib = lib, xmlns = xmlns_adm };

--- Failures ----------------------------------------------------------------
-- Handlers throw { type, condition, text }; M.handler answers it as an IQ error.

function M.fail(err_type, condition, text)
	error({ type = err_type, condition = condition, text = text }, 0);
end

function M.bad_request(fmt, ...)
	M.fail("modify", "bad-request", fmt:format(...));
end

-- Passes storage results through; a storage error becomes wait/internal-server-error.
function M.check(what, ok, err, ...)
	if ok == nil and err ~= nil then
		M.fail("wait", "internal-server-error", ("%s: %s"):format(what, tostring(err)));
	end
	return ok, err, ...;
end

--- Forms and values ----------------------------------------------------------

-- A util.dataforms layout whose first field is the contract's hidden FORM_TYPE.
function M.form(title, fields)
	local layout = { title = title, { name = "FORM_TYPE", type = "hidden", value = xmlns_adm } };
	for _, field in ipairs(fields) do layout[#layout + 1] = field; end
	return dataforms.new(layout);
end

-- The submitted fields, or bad-request naming every bad field.
local function read_form(layout, x)
	if x.attr.type and x.attr.type ~= "submit" then
		M.bad_request("the data form must be of type 'submit', not '%s'", x.attr.type);
	end
	local form_type = dataforms.get_type(x);
	if form_type and form_type ~= "" and form_type ~= xmlns_adm then
		M.bad_request("FORM_TYPE must be %s, not %s", xmlns_adm, form_type);
	end
	local fields, errors = layout:data(x);
	if errors then
		local list = {};
		for name, err in pairs(errors) do list[#list + 1] = name .. ": " .. err; end
		t_sort(list);
		M.bad_request("%s", t_concat(list, "; "));
	end
	return fields;
end

-- util.dataforms joins text-multi values with "\n"; split them back, trimmed.
function M.lines(s)
	local list = {};
	for line in (s or ""):gmatch("[^\n]+") do
		line = line:match("^%s*(.-)%s*$");
		if line ~= "" then list[#list + 1] = line; end
	end
	return list;
end

-- An integer number of seconds >= min, or nil when absent or empty.
function M.seconds(fields, name, min)
	local v = fields[name];
	if v == nil or v == "" then return nil; end
	local n = v:match("^%s*%d+%s*$") and tonumber(v);
	if not n or n < min or n > MAX_SECONDS then
		M.bad_request("%s: must be an integer number of seconds >= %d, got '%s'", name, min, v);
	end
	return math.floor(n);
end

function M.required_seconds(fields, name)
	return M.seconds(fields, name, 1) or M.bad_request("%s: Required value missing", name);
end

function M.iso(t) return t and datetime(t) or ""; end
function M.int(n) return ("%d"):format(n); end

-- How many items of an archive store match a query.
function M.count_items(store, username, query)
	local n = 0;
	for _ in M.check("Could not read archive", store:find(username, query)) do n = n + 1; end
	return n;
end

function M.sorted_keys(t, filter)
	local keys = {};
	for k in pairs(t) do
		if type(k) == "string" and (not filter or filter(k)) then keys[#keys + 1] = k; end
	end
	t_sort(keys);
	return keys;
end

--- Long work in slices -----------------------------------------------------------
-- Prosody serves everyone from one event loop. A command runs in the requesting session's
-- async runner (both versions), which may wait: long work gives the loop back every SLICE
-- seconds (async.sleep(0): the rest of this loop turn, timers and other sessions' traffic run
-- first), and a paged command stops when its page's budget is spent (CONTRACT.md 1, "Long
-- operations"). Outside a runner (a hook fired from prosodyctl) the work simply runs through.

local monotonic = lib "util.time".monotonic;
local SLICE = 0.01; -- seconds of work between two yields: a ping waits at most about this long
-- Wall time one page of a paged command works (the client waits this long for each answer).
M.PAGE_SECONDS = module:get_option_number("xmppadm_page_ms", 1000) / 1000;

local can_yield = coroutine.isyieldable or function () return false; end; -- Lua 5.1: no yield across pcall

function M.pause()
	if async.ready() and can_yield() then async.sleep(0); end
end

-- A work budget: budget:step() after each unit of work yields when the slice is used up;
-- budget:spent() tells when the page should end.
local budget_mt = { __index = {
	step = function (self)
		local t = monotonic();
		if t - self.slice_start >= SLICE then
			M.pause();
			self.slice_start = monotonic();
		end
	end;
	spent = function (self)
		return monotonic() - self.start >= self.seconds;
	end;
} };
function M.budget(seconds)
	local t = monotonic();
	return setmetatable({ start = t, slice_start = t, seconds = seconds or math.huge }, budget_mt);
end

-- Sorts a list of strings in place without holding the loop: runs of RUN sorted by
-- table.sort, then merged in Lua with budget:step() in between.
local RUN = 1024;
local move = table.move or function (a1, f, e, t, a2) -- Lua 5.1
	for i = 0, e - f do a2[t + i] = a1[f + i]; end
	return a2;
end
function M.sort_strings(list, budget)
	local n = #list;
	for i = 1, n, RUN do
		local run = move(list, i, math.min(i + RUN - 1, n), 1, {});
		t_sort(run);
		move(run, 1, #run, i, list);
		budget:step();
	end
	local src, dst, width = list, {}, RUN;
	while width < n do
		for lo = 1, n, 2 * width do
			local mid, hi = math.min(lo + width, n + 1), math.min(lo + 2 * width, n + 1);
			local a, b, k = lo, mid, lo;
			while a < mid and b < hi do
				if src[b] < src[a] then dst[k], b = src[b], b + 1; else dst[k], a = src[a], a + 1; end
				k = k + 1;
				if k % 256 == 0 then budget:step(); end
			end
			for i = a, mid - 1 do dst[k], k = src[i], k + 1; end
			for i = b, hi - 1 do dst[k], k = src[i], k + 1; end
		end
		src, dst, width = dst, src, width * 2;
	end
	if src ~= list then move(src, 1, n, 1, list); end
	return list;
end

--- Hosts -------------------------------------------------------------------------

-- The VirtualHost a host of this server belongs to: itself if it is one, else the longest
-- VirtualHost it is a subdomain of (upload.second.example.com belongs to second.example.com
-- when that is a VirtualHost, not to example.com), or nil.
function M.owner_host(name)
	local best;
	for h, session in pairs(prosody.hosts) do
		if session.type == "local" and (name == h or name:sub(-#h - 1) == "." .. h)
		and (not best or #h > #best) then
			best = h;
		end
	end
	return best;
end

-- Whether `actor` (a JID) is an admin of `h`, asked as mod_adhoc asks for `permission` there:
-- roles on 13 (global admins are operators of every host), the admins lists on 0.12.
function M.is_admin_of(h, actor, permission)
	local context = module:context(h);
	if context.may then return context:may(permission, actor, true); end
	return usermanager.is_admin(actor, h);
end

--- Files -----------------------------------------------------------------------------
-- Files the module writes (the debug log; its own stores with file storage) are the server
-- user's alone: made while the process umask is 077, which is put back at once. Lua has no
-- chmod; the process is single-threaded, so nothing else creates files in between.

function M.private_files(f, ...)
	local old = pposix.umask("077");
	local ok, a, b, c = pcall(f, ...);
	pposix.umask(old);
	if not ok then error(a, 0); end
	return a, b, c;
end

-- A keyval store of the module's own (block list, activity notes, 0.12's disabled accounts):
-- every write goes through private_files, so its files are the server user's alone.
function M.private_store(name)
	local store = module:open_store(name);
	return {
		get = function (_, ...) return store:get(...); end;
		set = function (_, ...) return M.private_files(store.set, store, ...); end;
	};
end

--- The command shape ----------------------------------------------------------
-- A util.adhoc handler that gives the contract's single stage: execute without a form (or
-- prev) shows the form, a submit (or complete/next, with or without a form) runs `run`, cancel
-- cancels, any other action is bad-request. `run(fields, data)` returns util.adhoc's reply
-- table without the status (`result`, `other`); failures it throws become IQ errors through
-- util.adhoc's `status = "error"` (the same on 0.12 and 13). No session state is kept.

local function on_error(err)
	if type(err) == "table" and err.condition then return err; end
	module:log("error", "Command failed: %s", debug.traceback(tostring(err), 2));
	return { type = "wait", condition = "internal-server-error", text = "Internal error: " .. tostring(err) };
end

local empty_submit = lib "util.stanza".stanza("x", { xmlns = "jabber:x:data", type = "submit" });

function M.handler(layout, run)
	local has_input = #layout > 1; -- more than FORM_TYPE
	return function (_, data)
		local action, x = data.action, data.form;
		if action == "cancel" or (x and x.attr.type == "cancel") then
			return { status = "canceled" };
		elseif action ~= "execute" and action ~= "complete" and action ~= "next" and action ~= "prev" then
			return { status = "error", error = { type = "modify", condition = "bad-request", text = "Unknown action: " .. action } };
		elseif (not x and has_input and action == "execute") or action == "prev" then
			return { status = "executing", actions = { "complete", default = "complete" }, form = layout };
		end
		local ok, reply = xpcall(function ()
			return run(read_form(layout, x or empty_submit), data);
		end, on_error);
		if not ok then return { status = "error", error = reply }; end
		reply.status = "completed";
		return reply;
	end;
end

return M;
