-- Account lifecycle (server/CONTRACT.md 10-12): disabling and enabling accounts, the accounts of
-- the host with their last activity, page by page, and what the server still holds about a user
-- (an erasure receipt's evidence). mod_xmppadm.lua offers M.operations.
--
-- Disabling uses Prosody's own mechanism where the auth provider has one (13:
-- usermanager.disable_user, which mod_c2s follows by closing the sessions). Where it has none
-- (0.12), the module keeps the disabled accounts in its store `xmppadm_disabled` and refuses
-- their logins itself, the way 13 does: the SASL profile reports the account as disabled, so
-- util.sasl answers <account-disabled/>.
--
-- Last activity: mod_account_activity's store (13) where that module is loaded; otherwise this
-- module notes logins and logouts itself in `xmppadm_activity`, from the time it was first loaded
-- on the host (kept in the same store under a key no user name can have).

local common = module:require "common";
local uploads = module:require "uploads";
local st = common.lib "util.stanza";
local jid = common.lib "util.jid";
local usermanager = common.lib "core.usermanager";
local storagemanager = common.lib "core.storagemanager";
local modulemanager = common.lib "core.modulemanager";
local form, int, iso, bad_request, fail, check = common.form, common.int, common.iso, common.bad_request,
	common.fail, common.check;

local unpack = table.unpack or unpack; -- luacheck: ignore 143
local host = module.host;
local hosts = prosody.hosts;
local xmlns_adm = common.xmlns;
local M = {};

--- Accounts named in a request ---------------------------------------------------------------

-- The user names of `list` (JIDs), all on this host and existing, or bad-request /
-- item-not-found naming them; nothing is done unless every one is fine.
local function usernames(list, field)
	local names, missing = {}, {};
	for _, text in ipairs(list) do
		local username, user_host = jid.prepped_split(text);
		if not username or user_host ~= host then
			bad_request("%s: '%s' is not a JID of a user on %s", field, text, host);
		end
		names[#names + 1] = username;
		if not usermanager.user_exists(username, host) then missing[#missing + 1] = text; end
	end
	if #names == 0 then bad_request("%s: Required value missing", field); end
	if #missing > 0 then
		fail("cancel", "item-not-found", ("No such user: %s"):format(table.concat(missing, ", ")));
	end
	return names;
end

local function live_sessions(username)
	local user = hosts[host].sessions[username];
	local list = {};
	for _, session in pairs(user and user.sessions or {}) do list[#list + 1] = session; end
	return list;
end

--- Disabled accounts ---------------------------------------------------------------------------

local disabled_store = module:open_store("xmppadm_disabled"); -- where the provider cannot disable

local function native()
	return usermanager.disable_user ~= nil and hosts[host].users ~= nil and hosts[host].users.disable ~= nil;
end

local function is_disabled(username)
	if native() then return usermanager.user_is_enabled(username, host) == false; end
	return check("Could not read disabled accounts", disabled_store:get(username)) ~= nil;
end
M.is_disabled = is_disabled;

-- Disables an account: true if it was enabled, and the number of live sessions closed.
local function disable(username, reason, by)
	if is_disabled(username) then return false, 0; end
	local sessions = live_sessions(username);
	local meta = { reason = "xmppadm", comment = reason, when = os.time(), by = by };
	if native() then
		-- mod_c2s closes the sessions on user-disabled (13)
		local ok, err = usermanager.disable_user(username, host, meta);
		if not ok then fail("wait", "internal-server-error", "Could not disable the account: " .. tostring(err)); end
	else
		check("Could not store the disabled account", disabled_store:set(username, meta));
		for _, session in ipairs(sessions) do
			session:close({ condition = "not-authorized", text = "Account disabled" });
		end
	end
	return true, #sessions;
end

local function enable(username)
	if not is_disabled(username) then return false; end
	if native() then
		local ok, err = usermanager.enable_user(username, host);
		if not ok then fail("wait", "internal-server-error", "Could not enable the account: " .. tostring(err)); end
	else
		check("Could not store the enabled account", disabled_store:set(username, nil));
	end
	return true;
end

-- Refusing a disabled account's login where the provider cannot: its SASL profile (each
-- session gets a handler of its own) says "disabled" for it, as 13's internal_hashed does, and
-- util.sasl answers <account-disabled/> (PLAIN and SCRAM; also after a failed attempt, which
-- clones the handler with this profile).
local function pack(...) return { n = select("#", ...), ... }; end
local STATE_AT = { plain = 2, plain_test = 2 }; -- SCRAM profiles: the 5th value
local function guarded_profile(profile)
	local copy = {};
	for name, value in pairs(profile) do
		local at = STATE_AT[name] or (type(name) == "string" and name:match("^scram_") and 5);
		if type(value) == "function" and at then
			copy[name] = function (sasl, username, ...)
				local ret = pack(value(sasl, username, ...));
				if ret[at] ~= nil and username and is_disabled(username) then ret[at] = false; end
				return unpack(ret, 1, ret.n);
			end;
		else
			copy[name] = value;
		end
	end
	copy.xmppadm_guarded = true;
	return copy;
end

module:hook("stanza/urn:ietf:params:xml:ns:xmpp-sasl:auth", function (event)
	local session = event.origin;
	if session.type ~= "c2s_unauthed" or native() then return; end
	-- as mod_saslauth does next (priority 0): a fresh handler unless one is waiting unused
	if not session.sasl_handler or session.sasl_handler.selected then
		session.sasl_handler = usermanager.get_sasl_handler(host, session);
	end
	local handler = session.sasl_handler;
	if handler and handler.profile and not handler.profile.xmppadm_guarded then
		handler.profile = guarded_profile(handler.profile);
	end
end, 10);

-- Any other way in (a legacy or token login) still ends at binding a resource.
module:hook("resource-bind", function (event)
	local session = event.session;
	if session.username and not native() and is_disabled(session.username) then
		session:close({ condition = "not-authorized", text = "Account disabled" });
	end
end, 1000);

--- Last activity -------------------------------------------------------------------------------

local activity_store = module:open_store("xmppadm_activity");
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

--- Result tables -----------------------------------------------------------------------------
-- util.dataforms layouts have no <reported/>: result forms with a table are built here.

local function result_x(title, fields, columns, rows)
	local x = st.stanza("x", { xmlns = "jabber:x:data", type = "result" }):text_tag("title", title)
		:tag("field", { var = "FORM_TYPE", type = "hidden" }):text_tag("value", xmlns_adm):up();
	for _, f in ipairs(fields) do
		x:tag("field", { var = f[1], type = f[2], label = f[3] });
		local values = type(f[4]) == "table" and f[4] or { f[4] };
		for _, v in ipairs(values) do x:text_tag("value", v); end
		x:up();
	end
	x:tag("reported");
	for _, c in ipairs(columns) do x:tag("field", { var = c[1], type = "text-single", label = c[2] }):up(); end
	x:up();
	for _, row in ipairs(rows) do
		x:tag("item");
		for i, c in ipairs(columns) do x:tag("field", { var = c[1] }):text_tag("value", row[i] or ""):up(); end
		x:up();
	end
	return x;
end

--- #disable-user, #enable-user -----------------------------------------------------------------

local disable_layout = form("Disable accounts", {
	{ name = "accountjids", type = "jid-multi", required = true, label = "The accounts to disable" };
	{ name = "reason", type = "text-single", label = "Reason (kept with the account)" };
});
local disable_result = form("Accounts disabled", {
	{ name = "disabled", type = "jid-multi", label = "Disabled now" };
	{ name = "already", type = "jid-multi", label = "Were disabled already" };
	{ name = "sessions-closed", type = "text-single", label = "Live sessions closed" };
});
local disable_handler = common.handler(disable_layout, function (fields, data)
	local names = usernames(fields.accountjids or {}, "accountjids");
	local reason = fields.reason ~= "" and fields.reason or nil;
	local done, already, closed = {}, {}, 0;
	for _, username in ipairs(names) do
		local changed, n = disable(username, reason, data and data.from and jid.bare(data.from));
		table.insert(changed and done or already, jid.join(username, host));
		closed = closed + n;
	end
	return { result = { layout = disable_result, values = {
		disabled = done, already = already, ["sessions-closed"] = int(closed);
	} } };
end);

local enable_layout = form("Enable accounts", {
	{ name = "accountjids", type = "jid-multi", required = true, label = "The accounts to enable" };
});
local enable_result = form("Accounts enabled", {
	{ name = "enabled", type = "jid-multi", label = "Enabled now" };
	{ name = "already", type = "jid-multi", label = "Were not disabled" };
});
local enable_handler = common.handler(enable_layout, function (fields)
	local done, already = {}, {};
	for _, username in ipairs(usernames(fields.accountjids or {}, "accountjids")) do
		table.insert(enable(username) and done or already, jid.join(username, host));
	end
	return { result = { layout = enable_result, values = { enabled = done, already = already } } };
end);

--- #list-accounts ------------------------------------------------------------------------------

local DEFAULT_ROWS, MAX_ROWS = 200, 500;
local CURSOR = "accounts:";

-- The `max` smallest names after `after`, sorted, kept in a bounded max-heap while every
-- account is walked once (the server's account list has no order): memory stays at one page.
local function next_names(after, max)
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
		if total % 2000 == 0 then common.pause(); end
	end
	table.sort(heap);
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
	local names, total, before = next_names(after, max + 1);
	local more = #names > max;
	if more then names[#names] = nil; end
	local rows = {};
	for i, username in ipairs(names) do
		local last, created, activity = activity_of(username);
		rows[i] = { jid.join(username, host), iso(last), iso(created), activity };
		if i % 50 == 0 then common.pause(); end
	end
	return { other = result_x("Accounts", {
		{ "more", "boolean", "More pages follow", more and "1" or "0" };
		{ "next", "text-single", "Cursor for the next page", more and (CURSOR .. names[#names]) or {} };
		{ "scanned", "text-single", "Accounts listed so far", int(before + #names) };
		{ "total", "text-single", "Accounts on this host", int(total) };
	}, {
		{ "jid", "Account" }, { "last-activity", "Last activity" }, { "created", "Created" }, { "activity", "Activity" };
	}, rows) };
end);

--- #stored-data ------------------------------------------------------------------------------
-- What the server still holds about a user, per export section (CONTRACT.md 7), counted in the
-- stores themselves (also for an account that no longer exists), and what it keeps on purpose.

local archive_store_name = module:get_option_string("archive_store", "archive");

local function count_keys(t, skip)
	local n = 0;
	for k in pairs(t or {}) do if k ~= skip then n = n + 1; end end
	return n;
end

local function archive_count(store, username)
	local n = 0;
	for _ in check("Could not read an archive", store:find(username)) do n = n + 1; end
	return n;
end

local function pep_counts(username)
	local nodes = check("Could not read PEP nodes", storagemanager.open(host, "pep"):get(username)) or {};
	local driver = storagemanager.get_driver(host, "pep_data");
	local total, vcard4 = 0, 0;
	for name in pairs(nodes) do
		local items = archive_count(driver:open("pep_" .. name, "archive"), username);
		total = total + 1 + items;
		if name == "urn:xmpp:vcard4" then vcard4 = items; end
	end
	return total, vcard4;
end

local function upload_count(username)
	local user_jid, n = jid.join(username, host), 0;
	for _, service in ipairs(uploads.services(false)) do
		n = n + common.count_items(uploads.store(service), nil, { with = user_jid });
	end
	return n;
end

local function counts(username)
	local roster = check("Could not read the roster", storagemanager.open(host, "roster"):get(username)) or {};
	local meta = roster[false] or {};
	local pep, vcard4 = pep_counts(username);
	local activity = storagemanager.open(host, "account_activity"):get(username)
		or activity_store:get(username);
	return {
		{ "account", usermanager.user_exists(username, host) and 1 or 0 };
		{ "roster", count_keys(roster, false) + count_keys(meta.pending) };
		{ "vcard", (check("Could not read the vCard", storagemanager.open(host, "vcard"):get(username)) and 1 or 0) + vcard4 };
		{ "private", count_keys(check("Could not read private XML", storagemanager.open(host, "private"):get(username))) };
		{ "offline", archive_count(module:open_store("offline", "archive"), username) };
		{ "mam", archive_count(module:open_store(archive_store_name, "archive"), username) };
		{ "blocklist", count_keys(check("Could not read the blocklist", storagemanager.open(host, "blocklist"):get(username))) };
		{ "pep", pep };
		{ "uploads", upload_count(username) };
		{ "last", activity and 1 or 0 };
	};
end

-- What Prosody keeps on purpose: a tombstone (mod_tombstones keeps a deleted user's name, by
-- default forever, so that it is not registered again), a deletion in its grace period
-- (mod_user_account_management: the user asked to be deleted, the account is disabled and kept
-- with its data until then), and this module's own note of when it began noting activity.
local function kept(username)
	local list = {};
	local ok, tombstone = pcall(function ()
		return storagemanager.open(host, "tombstones", "map"):get(nil, username);
	end);
	if ok and tombstone then
		list[#list + 1] = ("tombstone: the user name is kept since %s so that it cannot be registered again "
			.. "(mod_tombstones; user_tombstone_expiry, default forever)"):format(iso(tombstone));
	end
	local pending = storagemanager.open(host, "accounts_cleanup"):get(username);
	if pending and pending.pending_until then
		list[#list + 1] = ("grace-period: deletion requested at %s; the account and its data are kept, "
			.. "disabled, until %s (registration_delete_grace_period)"):format(iso(pending.deleted_at), iso(pending.pending_until));
	end
	return list;
end

local stored_layout = form("What the server holds about a user", {
	{ name = "accountjid", type = "jid-single", required = true, label = "The Jabber ID of the user (existing or not)" };
});
local stored_handler = common.handler(stored_layout, function (fields)
	local username, user_host = jid.prepped_split(fields.accountjid or "");
	if not username or user_host ~= host then
		bad_request("accountjid: '%s' is not a JID of a user on %s", fields.accountjid, host);
	end
	local rows = {};
	for i, c in ipairs(counts(username)) do rows[i] = { c[1], int(c[2]) }; end
	return { other = result_x("Stored data", {
		{ "accountjid", "jid-single", "User", jid.join(username, host) };
		{ "exists", "boolean", "The account exists", usermanager.user_exists(username, host) and "1" or "0" };
		{ "kept", "text-multi", "Kept on purpose", kept(username) };
	}, { { "section", "Section" }, { "count", "Items" } }, rows) };
end);

-- Where the deleted user's own notes end up: nowhere (the per-user stores above are purged with
-- the account; the "@since" marker is not a user).

M.operations = {
	{ name = "disable-user", title = "Disable accounts", handler = disable_handler };
	{ name = "enable-user", title = "Enable accounts", handler = enable_handler };
	{ name = "list-accounts", title = "List accounts", handler = list_handler };
	{ name = "stored-data", title = "What the server holds about a user", handler = stored_handler };
};

return M;
