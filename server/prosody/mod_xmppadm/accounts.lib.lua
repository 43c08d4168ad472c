-- The accounts of the host with their last activity, page by page (server/CONTRACT.md 12).
-- mod_xmppadm.lua offers M.operations.
--
-- Last activity: mod_account_activity's store (13) where that module is loaded; otherwise this
-- module notes logins and logouts itself in `xmppadm_activity`, from the time it was first loaded
-- on the host (kept in the same store under a key no user name can have).

local common = module:require "common";
local reported = module:require "reported";
local jid = common.lib "util.jid";
local usermanager = common.lib "core.usermanager";
local storagemanager = common.lib "core.storagemanager";
local modulemanager = common.lib "core.modulemanager";
local form, int, iso, bad_request = common.form, common.int, common.iso, common.bad_request;

local host = module.host;
local hosts = prosody.hosts;
local M = {};

--- Last activity -------------------------------------------------------------------------------

local activity_store = common.private_store("xmppadm_activity");
local SINCE = "@since"; -- no user name holds "@": when this module began noting activity here

local function account_activity_loaded()
	return modulemanager.is_loaded(host, "account_activity");
end

local tracking_since;
local function note_activity(event)
	local username = event.session and event.session.username;
	if username and event.session.host == host and not account_activity_loaded() then
		activity_store:set(username, { timestamp = os.time() });
	end
end
module:hook("authentication-success", note_activity);
module:hook("resource-unbind", note_activity);

local function tracked_since()
	if tracking_since == nil then
		local marker = activity_store:get(SINCE);
		if not marker then
			marker = { timestamp = os.time() };
			activity_store:set(SINCE, marker);
		end
		tracking_since = marker.timestamp;
	end
	return tracking_since;
end
tracked_since();

-- One row of #list-accounts: last activity (time or nil), created (time or nil), and which of
-- online / seen / never / unknown that is.
local function activity_of(username)
	local info = usermanager.get_account_info and usermanager.get_account_info(username, host) or nil;
	local created = info and info.created or nil;
	if hosts[host].sessions[username] then return os.time(), created, "online"; end
	local record;
	if account_activity_loaded() then
		record = storagemanager.open(host, "account_activity"):get(username);
	else
		record = activity_store:get(username);
	end
	if record and record.timestamp then return record.timestamp, created, "seen"; end
	-- no login on record: "never" only where the records began before the account existed
	if account_activity_loaded() or (created and created >= tracked_since()) then
		return nil, created, "never";
	end
	return nil, created, "unknown";
end

--- #list-accounts ------------------------------------------------------------------------------

local DEFAULT_ROWS, MAX_ROWS = 200, 500;
local CURSOR = "accounts:";

-- The `max` smallest names after `after`, sorted, kept in a bounded max-heap while every
-- account is walked once (the server's account list has no order): memory stays at one page.
-- The loop is given back every slice of work (budget:step()).
local function next_names(after, max, budget)
	local heap, total, before = {}, 0, 0;
	local function up(i)
		while i > 1 do
			local p = math.floor(i / 2);
			if heap[p] >= heap[i] then break; end
			heap[p], heap[i], i = heap[i], heap[p], p;
		end
	end
	local function down(i)
		local n = #heap;
		while true do
			local l, r, big = 2 * i, 2 * i + 1, i;
			if l <= n and heap[l] > heap[big] then big = l; end
			if r <= n and heap[r] > heap[big] then big = r; end
			if big == i then return; end
			heap[big], heap[i], i = heap[i], heap[big], big;
		end
	end
	for username in usermanager.users(host) do
		total = total + 1;
		if after and username <= after then
			before = before + 1;
		elseif #heap < max then
			heap[#heap + 1] = username; up(#heap);
		elseif username < heap[1] then
			heap[1] = username; down(1);
		end
		budget:step();
	end
	table.sort(heap); -- one page: at most 501 names
	return heap, total, before;
end

local list_layout = form("List accounts", {
	{ name = "after", type = "text-single", label = "Cursor from the previous page" };
	{ name = "max", type = "text-single", label = ("Accounts per page (max %d)"):format(MAX_ROWS) };
});
local list_handler = common.handler(list_layout, function (fields)
	local after;
	if fields.after and fields.after ~= "" then
		after = fields.after:sub(1, #CURSOR) == CURSOR and fields.after:sub(#CURSOR + 1) or nil;
		if not after or after == "" then bad_request("after: malformed cursor '%s'", fields.after); end
	end
	local max = DEFAULT_ROWS;
	if fields.max and fields.max ~= "" then
		max = fields.max:match("^%s*%d+%s*$") and tonumber(fields.max);
		if not max or max < 1 then bad_request("max: must be an integer >= 1, got '%s'", fields.max); end
		max = math.min(max, MAX_ROWS);
	end
	local budget = common.budget(); -- gives the loop back every slice (common.lib.lua)
	local names, total, before = next_names(after, max + 1, budget);
	local more = #names > max;
	if more then names[#names] = nil; end
	local rows = {};
	for i, username in ipairs(names) do
		local last, created, activity = activity_of(username);
		rows[i] = { jid.join(username, host), iso(last), iso(created), activity };
		budget:step();
	end
	return { other = reported.form("Accounts", {
		{ "more", "boolean", "More pages follow", more and "1" or "0" };
		{ "next", "text-single", "Cursor for the next page", more and (CURSOR .. names[#names]) or {} };
		{ "scanned", "text-single", "Accounts listed so far", int(before + #names) };
		{ "total", "text-single", "Accounts on this host", int(total) };
	}, {
		{ "jid", "Account" }, { "last-activity", "Last activity" }, { "created", "Created" }, { "activity", "Activity" };
	}, rows) };
end);

M.operations = {
	{ name = "list-accounts", title = "List accounts", handler = list_handler };
};

return M;
