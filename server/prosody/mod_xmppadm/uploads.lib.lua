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

-- Deletes the records matching `query` (one criterion: Prosody's internal storage ORs them)
-- and their files, files first; a record whose file cannot be removed is kept.
-- Returns records and bytes removed (or, with dry_run, that would be).
function M.purge(service, query, dry_run)
	local store = M.store(service);
	local slots = {};
	for slot in common.check("Could not read upload records", store:find(nil, query)) do
		slots[#slots + 1] = slot;
	end
	local count, bytes, removed, problem = 0, 0, {}, false;
	for i, slot in ipairs(slots) do
		local path = M.path(service, slot);
		local size = lfs.attributes(path, "size");
		local ok, err = true, nil;
		if size and not dry_run then ok, err = os.remove(path); end
		if ok then
			count, bytes = count + 1, bytes + (size or 0);
			removed[#removed + 1] = slot;
		else
			module:log("error", "Could not remove uploaded file %s: %s", path, err);
			problem = true;
		end
		if i % 100 == 0 then common.pause(); end
	end
	if not dry_run and #removed > 0 then
		if problem then
			for _, slot in ipairs(removed) do
				common.check("Could not delete upload record", store:delete(nil, { key = slot }));
			end
		else
			common.check("Could not delete upload records", store:delete(nil, query));
		end
	end
	return count, bytes;
end

return M;
