-- Reading an archive of Prosody 0.12's internal storage a page at a time (#export-user).
--
-- 0.12's datamanager can only load a whole list: every archive:find() parses the user's entire
-- <store>/<user>.list file, so paging a 50,000-message archive through the storage API costs a
-- whole-file read per page and holds the archive in memory. Prosody 13 reads list items as they
-- are asked for (its .lidx index) and needs none of this. Here the file is read from a byte
-- offset instead, the way 13 finds its items: each item is an `item({...});` that starts a line.
-- Items are turned into what archive:find() returns (key, stanza, when, with), as 0.12's
-- mod_storage_internal does.

local common = module:require "common";
local dm = common.lib "core.storagemanager".olddm;
local storagemanager = common.lib "core.storagemanager";
local envload = common.lib "util.envload".envload;
local datetime = common.lib "util.datetime";
local st = common.lib "util.stanza";

local host = module.host;
local M = {};

-- Whether this store is read here: the internal driver of a version without lazy lists.
function M.applies(store_name)
	if dm.list_open then return false; end
	local _, driver = storagemanager.get_driver(host, store_name);
	return driver == "internal";
end

local function decode(text)
	local item;
	local chunk = envload(text, "@list", { item = function (i) item = i; end });
	if not chunk or not pcall(chunk) or type(item) ~= "table" then return nil; end
	local key, when, with = item.key, item.when or (item.attr and datetime.parse(item.attr.stamp)), item.with;
	item.key, item.when, item.with = nil, nil, nil;
	if item.attr then item.attr.stamp, item.attr.stamp_legacy = nil, nil; end
	return key, st.deserialize(item), when, with;
end

-- Up to `limit` items of a user's list, from the item that starts at byte `offset` (0: the
-- first). With `key`, the item at `offset` must have that key (else the file changed: nil,
-- "item-not-found") and is skipped. Returns a list of { key, stanza, when, offset }.
function M.read(username, store_name, offset, key, limit)
	local fh = io.open(dm.getpath(username, host, store_name, "list"), "r");
	if not fh then
		if key then return nil, "item-not-found"; end
		return {};
	end
	if fh:seek("set", offset) ~= offset then
		fh:close();
		return nil, "item-not-found";
	end
	local items, pending, start, pos = {}, nil, offset, offset;
	local function finish()
		if not pending then return true; end
		local k, stanza, when = decode(table.concat(pending, "\n"));
		pending = nil;
		if key then -- the item the cursor names: checked, not returned
			local matches = k == key;
			key = nil;
			return matches;
		end
		if stanza then items[#items + 1] = { key = k or ("@" .. start), stanza = stanza, when = when, offset = start }; end
		return true;
	end
	for line in fh:lines() do
		if line:sub(1, 5) == "item(" then
			if not finish() then fh:close(); return nil, "item-not-found"; end
			if #items >= limit then break; end
			pending, start = { line }, pos;
		elseif pending then
			pending[#pending + 1] = line;
		end
		pos = pos + #line + 1;
	end
	if #items < limit and not finish() then fh:close(); return nil, "item-not-found"; end
	fh:close();
	return items;
end

return M;
