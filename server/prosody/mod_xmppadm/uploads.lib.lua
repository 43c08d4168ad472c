-- mod_http_file_share's uploads, seen from outside it: which upload services there are, their
-- records and their files. Stateless; used by purges.lib.lua and export.lib.lua.
--
-- Neither 0.12 nor 13 offers an API for another module to find or delete an upload, so this
-- goes through what http_file_share itself is built on: its `uploads` archive store on its own
-- host (opened through module:context(), key = slot id, `when` = slot request time, `with` =
-- uploader), its options, and its files where the datamanager puts its store
-- `http_file_share` (<data_path>/<host>/http_file_share/<slot>.bin), the same on both.

local common = module:require "common";
local modulemanager = common.lib "core.modulemanager";
local dm = common.lib "core.storagemanager".olddm;
local lfs = require "lfs";

local host = module.host;
local M = {};

-- Upload services on this server, sorted; `related`: only those that belong to this host, that
-- is, this host and its subdomains that are not another VirtualHost's (upload.example.com serves
-- example.com; upload.second.example.com serves second.example.com, not example.com).
function M.services(related)
	local list = {};
	for name in pairs(prosody.hosts) do
		if modulemanager.is_loaded(name, "http_file_share")
		and (not related or common.owner_host(name) == host) then
			list[#list + 1] = name;
		end
	end
	table.sort(list);
	return list;
end

-- Why a service's files cannot be reached from here, or nil.
function M.unreachable(service)
	if module:context(service):get_option_string("http_file_share_base_url") then
		return ("http_file_share on %s stores its files behind http_file_share_base_url, not on this server"):format(service);
	end
end

function M.store(service)
	return module:context(service):open_store("uploads", "archive");
end

function M.path(service, slot)
	return dm.getpath(slot, service, "http_file_share", "bin");
end

function M.size(service, slot)
	return lfs.attributes(M.path(service, slot), "size");
end

-- The download URL, from http_file_share's own get_url() (a global of the module, as the
-- console reaches it) when it has one.
function M.url(service, slot, filename)
	local env = modulemanager.get_module(service, "http_file_share");
	return env and env.get_url and env.get_url(slot, filename) or nil;
end

-- How many records match `query`.
function M.count(service, query, budget)
	local n = 0;
	for _ in common.check("Could not read upload records", M.store(service):find(nil, query)) do
		n = n + 1;
		budget:step();
	end
	return n;
end

-- Removes a record's file; returns ok and its size (0 for a never-used slot), or logs why not.
local function remove_file(service, slot, dry_run)
	local path = M.path(service, slot);
	local size = lfs.attributes(path, "size");
	if size and not dry_run then
		local ok, err = os.remove(path);
		if not ok then
			module:log("error", "Could not remove uploaded file %s: %s", path, err);
			return false, 0;
		end
	end
	return true, size or 0;
end

-- Records read per storage query. Prosody 0.12's internal storage reads the whole list on every
-- query (13 reads items as they are asked for), so there one query serves the whole page.
local BATCH = 128;
local storagemanager = common.lib "core.storagemanager";
local function batch_size(service)
	local _, driver = storagemanager.get_driver(service, "uploads");
	if driver == "internal" and not dm.list_open then return math.huge; end
	return BATCH;
end

-- One page's walk over a service's records requested at or before `cutoff`, oldest first,
-- after time `since` (done by earlier pages). Stops at a second boundary once `should_stop()`.
-- Files go first, then their records: by time (`end` = the last second walked: one rewrite of
-- the store) or, with `keyed` or once a file could not be removed (its record is kept), one by
-- one. Returns { count, bytes, walked, kept, stopped, done = last second walked }.
function M.walk(service, cutoff, since, dry_run, keyed, should_stop, budget)
	local store = M.store(service);
	local r = { count = 0, bytes = 0, walked = 0, kept = 0, stopped = false, done = since };
	local removed, last_seen, batch = {}, nil, batch_size(service);
	repeat
		-- `start` finds the place (a binary search on Prosody 13's internal storage); `after`
		-- continues behind the last record seen by this page, nothing of which is deleted yet.
		local got = 0;
		for slot, _, when in common.check("Could not read upload records",
			store:find(nil, { start = since, after = last_seen, ["end"] = cutoff, limit = batch < math.huge and batch or nil })) do
			got = got + 1;
			if r.stopped or (since and when <= since) then -- luacheck: ignore 542
				-- done by an earlier page, or after this page's end: only drained
			elseif r.walked > 0 and when ~= r.done and should_stop() then
				r.stopped = true;
			else
				local ok, size = remove_file(service, slot, dry_run);
				if ok then
					r.count, r.bytes, removed[#removed + 1] = r.count + 1, r.bytes + size, slot;
				else
					r.kept = r.kept + 1;
				end
				r.walked, r.done = r.walked + 1, when;
				budget:step();
			end
			if not r.stopped then last_seen = slot; end
		end
	until r.stopped or got < batch;
	if not dry_run and #removed > 0 then
		if keyed or r.kept > 0 then
			for _, slot in ipairs(removed) do
				common.check("Could not delete upload record", store:delete(nil, { key = slot }));
				budget:step();
			end
		else
			common.check("Could not delete upload records", store:delete(nil, { ["end"] = r.done }));
		end
	end
	return r;
end

-- Deletes all the records matching `query` (one criterion: Prosody's internal storage ORs them)
-- and their files, files first; a record whose file cannot be removed is kept. Used when an
-- account is deleted; yields to the event loop in between. Returns records and bytes removed.
function M.purge(service, query)
	local budget = common.budget();
	local store = M.store(service);
	local slots = {};
	for slot in common.check("Could not read upload records", store:find(nil, query)) do
		slots[#slots + 1] = slot;
		budget:step();
	end
	local count, bytes, removed, problem = 0, 0, {}, false;
	for _, slot in ipairs(slots) do
		local ok, size = remove_file(service, slot, false);
		if ok then
			count, bytes = count + 1, bytes + size;
			removed[#removed + 1] = slot;
		else
			problem = true;
		end
		budget:step();
	end
	if #removed > 0 then
		if problem then
			for _, slot in ipairs(removed) do
				common.check("Could not delete upload record", store:delete(nil, { key = slot }));
				budget:step();
			end
		else
			common.check("Could not delete upload records", store:delete(nil, query));
		end
	end
	return count, bytes;
end

return M;
