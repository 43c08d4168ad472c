-- Purging old offline messages and old HTTP uploads (server/CONTRACT.md 5-6), a page at a time,
-- and removing a deleted user's uploads.
--
-- Paging (CONTRACT.md 1, "Long operations"): a page works for about common.PAGE_SECONDS,
-- yielding to the event loop every few milliseconds, and returns a cursor for the next page. The
-- cursor carries everything the next page needs (the cut-off time of the first page, so that a
-- whole run uses one cut-off, and the progress so far): the server keeps no state between pages.

local common = module:require "common";
local uploads = module:require "uploads";
local usermanager = common.lib "core.usermanager";
local storagemanager = common.lib "core.storagemanager";
local jid = common.lib "util.jid";
local datetime = common.lib "util.datetime".datetime;

local host = module.host;
local bad_request, check, int = common.bad_request, common.check, common.int;
local M = {};

-- The cut-off of a run: the cursor's, or now - older-than on the first page. A cursor cannot move
-- it later than this request's own (it would delete newer things than asked for).
local function cutoff_of(older_than, cursor_cutoff)
	local own = os.time() - older_than;
	return cursor_cutoff and math.min(cursor_cutoff, own) or own;
end

local function malformed(after)
	bad_request("after: malformed cursor '%s'", after);
end

--- Offline messages: mod_offline's `offline` archive store ------------------------------
-- Users are walked in byte order of their names; the cursor is the last user done:
-- "offline:<cut-off>:<users scanned>:<username>" (node names cannot hold ':').

local offline = module:open_store("offline", "archive");
local _, offline_driver = storagemanager.get_driver(host, "offline");
-- internal and sql answer delete() with the number deleted; other drivers are counted first
local delete_counts = offline_driver == "internal" or offline_driver == "sql";

local function parse_offline_cursor(after)
	if not after then return nil; end
	local cutoff, scanned, username = after:match("^offline:(%d+):(%d+):(.+)$");
	if not cutoff then malformed(after); end
	return tonumber(cutoff), tonumber(scanned), username;
end

-- One page: returns the page's counts and the run's progress (CONTRACT.md 5).
function M.offline_page(older_than, dry_run, after)
	local budget = common.budget(common.PAGE_SECONDS);
	local cursor_cutoff, scanned, last = parse_offline_cursor(after);
	local cutoff = cutoff_of(older_than, cursor_cutoff);
	scanned = scanned or 0;

	local users = {}; -- the users with offline messages (if the store can tell) after the cursor
	local iter, state;
	if offline.users then iter, state = offline:users(); else iter, state = usermanager.users(host); end
	local listed = 0;
	for username in iter, state do
		if not last or username > last then users[#users + 1] = username; end
		listed = listed + 1;
		if listed % 256 == 0 then budget:step(); end
	end
	common.sort_strings(users, budget);
	local total = scanned + #users;

	local query = { ["end"] = cutoff };
	local count, touched, done = 0, 0, 0;
	for _, username in ipairs(users) do
		if done > 0 and budget:spent() then break; end
		local n = 0;
		if dry_run or not delete_counts then n = common.count_items(offline, username, query); end
		if not dry_run and (delete_counts or n > 0) then
			local deleted = check("Could not delete offline messages", offline:delete(username, query));
			if type(deleted) == "number" then n = deleted; end
		end
		if n > 0 then count, touched = count + n, touched + 1; end
		done, last = done + 1, username;
		budget:step();
	end
	scanned = scanned + done;
	local more = done < #users;
	if count > 0 or not more then
		module:log("info", "%s %d offline messages of %d users stored before %s (%d of %d users walked)",
			dry_run and "Found" or "Purged", count, touched, datetime(cutoff), scanned, total);
	end
	return {
		count = int(count), users = int(touched);
		more = more, next = more and ("offline:%d:%d:%s"):format(cutoff, scanned, last) or nil;
		scanned = int(scanned), total = int(total);
	};
end

--- Uploads: the upload services of this host ------------------------------------------
-- Records are walked per service (sorted by name), oldest first; a page always ends at a whole
-- second so that its records can be deleted by time (`end`): one rewrite of the store per page.
-- Cursor: "uploads:<cut-off>:<scanned>:<total>:<mode>:<service>:<time done>", mode "t" (delete
-- by time) or "k" (by key, once a file could not be removed: its record stays).

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

local function reachable_services()
	local list = {};
	for _, service in ipairs(uploads.services(true)) do
		if not uploads.unreachable(service) then list[#list + 1] = service; end
	end
	return list;
end

local function parse_uploads_cursor(after)
	if not after then return nil; end
	local cutoff, scanned, total, mode, service, done = after:match("^uploads:(%d+):(%d+):(%d+):([tk]):([^:]+):(.*)$");
	if not cutoff or (done ~= "" and not tonumber(done)) then malformed(after); end
	return { cutoff = tonumber(cutoff), scanned = tonumber(scanned), total = tonumber(total), mode = mode,
		service = service, done = tonumber(done) };
end

-- One page: returns the page's counts and the run's progress (CONTRACT.md 6).
function M.uploads_page(older_than, dry_run, after)
	local budget = common.budget(common.PAGE_SECONDS);
	local cursor = parse_uploads_cursor(after) or {};
	local cutoff = cutoff_of(older_than, cursor.cutoff);
	local services = reachable_services();
	local scanned, total, keyed = cursor.scanned or 0, cursor.total, cursor.mode == "k";
	if not total then -- first page: how many records the run will walk
		total = 0;
		for _, service in ipairs(services) do
			total = total + uploads.count(service, { ["end"] = cutoff }, budget);
		end
	end

	local count, bytes, done_records = 0, 0, 0;
	local position; -- where the next page starts: service and time done
	local function spent() return budget:spent(); end
	for _, service in ipairs(services) do
		if done_records > 0 and budget:spent() then position = { service = service }; break; end
		if not cursor.service or service >= cursor.service then
			local since = service == cursor.service and cursor.done or nil;
			local walk = uploads.walk(service, cutoff, since, dry_run, keyed, spent, budget);
			count, bytes, done_records = count + walk.count, bytes + walk.bytes, done_records + walk.walked;
			keyed = keyed or walk.kept > 0;
			if walk.stopped then position = { service = service, done = walk.done }; break; end
		end
	end
	scanned = scanned + done_records;
	if count > 0 or not position then
		module:log("info", "%s %d uploads (%d bytes) requested before %s (%d of %d records walked)",
			dry_run and "Found" or "Purged", count, bytes, datetime(cutoff), scanned, total);
	end
	return {
		count = int(count), bytes = int(bytes), hosts = table.concat(services, "\n");
		more = position ~= nil;
		next = position and ("uploads:%d:%d:%d:%s:%s:%s"):format(cutoff, scanned, math.max(total, scanned),
			keyed and "k" or "t", position.service, position.done and ("%.17g"):format(position.done) or "") or nil;
		scanned = int(scanned), total = int(math.max(total, scanned));
	};
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
