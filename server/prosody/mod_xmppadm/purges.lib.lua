-- Purging old offline messages and old HTTP uploads (server/CONTRACT.md 5-6), and removing a
-- deleted user's uploads.

local common = module:require "common";
local uploads = module:require "uploads";
local usermanager = common.lib "core.usermanager";
local jid = common.lib "util.jid";
local datetime = common.lib "util.datetime".datetime;

local host = module.host;
local M = {};

--- Offline messages: mod_offline's `offline` archive store ------------------------------

local offline = module:open_store("offline", "archive");

-- Messages stored at or before `cutoff`: returns messages and users (deleted, or with dry_run
-- that would be).
function M.offline(cutoff, dry_run)
	local query = { ["end"] = cutoff };
	local users = {};
	local iter, state; -- the users with offline messages, if the store can tell
	if offline.users then iter, state = offline:users(); else iter, state = usermanager.users(host); end
	for username in iter, state do users[#users + 1] = username; end

	local total, touched = 0, 0;
	for i, username in ipairs(users) do
		local n = common.count_items(offline, username, query);
		if n > 0 and not dry_run then
			local deleted = common.check("Could not delete offline messages", offline:delete(username, query));
			if type(deleted) == "number" then n = deleted; end
		end
		if n > 0 then total, touched = total + n, touched + 1; end
		if i % 50 == 0 then common.pause(); end
	end
	module:log("info", "%s %d offline messages of %d users older than %s", dry_run and "Found" or "Purged",
		total, touched, datetime(cutoff));
	return total, touched;
end

--- Uploads: the upload services of this host ------------------------------------------

-- Why #purge-uploads cannot work on this host, or nil.
function M.uploads_unavailable()
	local services = uploads.services(true);
	if #services == 0 then
		return ("mod_http_file_share is not loaded on %s or a subdomain of it: add a Component"
			.. " \"upload.%s\" \"http_file_share\" to the config (or \"http_file_share\" to modules_enabled)"):format(host, host);
	end
	for _, service in ipairs(services) do
		if not uploads.unreachable(service) then return nil; end
	end
	return uploads.unreachable(services[1]);
end

-- Uploads requested at or before `cutoff`: returns records, bytes and the services looked at.
function M.uploads(cutoff, dry_run)
	local count, bytes, services = 0, 0, {};
	for _, service in ipairs(uploads.services(true)) do
		if not uploads.unreachable(service) then
			local c, b = uploads.purge(service, { ["end"] = cutoff }, dry_run);
			count, bytes, services[#services + 1] = count + c, bytes + b, service;
		end
	end
	module:log("info", "%s %d uploads (%d bytes) older than %s", dry_run and "Found" or "Purged",
		count, bytes, datetime(cutoff));
	return count, bytes, services;
end

-- mod_http_file_share (0.12 and 13.0) keeps a deleted user's uploads: remove them.
module:hook_global("user-deleted", function (event)
	if event.host ~= host then return; end
	local user_jid = jid.join(event.username, host);
	for _, service in ipairs(uploads.services(false)) do
		if not uploads.unreachable(service) then
			local ok, count, bytes = pcall(uploads.purge, service, { with = user_jid });
			if not ok then
				module:log("error", "Could not delete uploads of %s on %s: %s", user_jid, service,
					type(count) == "table" and count.text or count);
			elseif count > 0 then
				module:log("info", "Deleted %d uploads (%d bytes) of %s on %s", count, bytes, user_jid, service);
			end
		end
	end
end);

return M;
