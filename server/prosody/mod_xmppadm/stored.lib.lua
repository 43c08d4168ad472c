-- What the server still holds about a user (server/CONTRACT.md 13): per export section
-- (CONTRACT.md 7), counted in the stores themselves, also for an account that no longer exists,
-- and what Prosody keeps on purpose. An erasure receipt's evidence. mod_xmppadm.lua offers
-- M.operations.

local common = module:require "common";
local uploads = module:require "uploads";
local reported = module:require "reported";
local jid = common.lib "util.jid";
local usermanager = common.lib "core.usermanager";
local storagemanager = common.lib "core.storagemanager";
local form, int, iso, bad_request, check = common.form, common.int, common.iso, common.bad_request, common.check;

local host = module.host;
local M = {};

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
		or storagemanager.open(host, "xmppadm_activity"):get(username); -- accounts.lib.lua's notes
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
	return { other = reported.form("Stored data", {
		{ "accountjid", "jid-single", "User", jid.join(username, host) };
		{ "exists", "boolean", "The account exists", usermanager.user_exists(username, host) and "1" or "0" };
		{ "kept", "text-multi", "Kept on purpose", kept(username) };
	}, { { "section", "Section" }, { "count", "Items" } }, rows) };
end);

M.operations = {
	{ name = "stored-data", title = "What the server holds about a user", handler = stored_handler };
};

return M;
