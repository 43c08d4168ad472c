-- One user's data as XEP-0227, a section and a page at a time (server/CONTRACT.md 7). Reads
-- the stores the modules keep (through the storage API), as Prosody's own XEP-0227 exporter
-- (mod_storage_xep0227) does, and the account through the usermanager.

local common = module:require "common";
local uploads = module:require "uploads";
local listfile = module:require "listfile";
local st = common.lib "util.stanza";
local jid = common.lib "util.jid";
local datetime = common.lib "util.datetime".datetime;
local base64 = common.lib "util.encodings".base64;
local hex = common.lib "util.hex";
local usermanager = common.lib "core.usermanager";
local rostermanager = common.lib "core.rostermanager";
local storagemanager = common.lib "core.storagemanager";
local node_config_form = module:require "pubsub".node_config_form; -- mod_pubsub's library
local check, bad_request, fail, sorted_keys = common.check, common.bad_request, common.fail, common.sorted_keys;

local host = module.host;
local hosts = prosody.hosts;
local xmlns_adm = common.xmlns;

local PAGE_BUDGET = 60 * 1024; -- bytes of XEP-0227 payload per page
local DEFAULT_PAGE, MAX_PAGE = 50, 500;

local M = {
	sections = { "account", "roster", "vcard", "private", "offline", "mam", "blocklist", "pep", "uploads", "last" };
	DEFAULT_PAGE = DEFAULT_PAGE, MAX_PAGE = MAX_PAGE;
};

--- Last activity ------------------------------------------------------------------------
-- mod_lastactivity keeps its record in memory, out of reach; this module notes the same thing
-- from the same public event (a broadcast unavailable presence), and keeps it across reloads.

local last_logout = {}; -- username -> { t = time, s = status }
module:hook("pre-presence/bare", function (event)
	local stanza = event.stanza;
	if not stanza.attr.to and stanza.attr.type == "unavailable" and event.origin.username then
		last_logout[event.origin.username] = { t = os.time(), s = stanza:get_child_text("status") };
	end
end, 10);
module:hook_global("user-deleted", function (event)
	if event.host == host then last_logout[event.username] = nil; end
end);
function module.save() return { last_logout = last_logout }; end
function module.restore(data) last_logout = data.last_logout or {}; end

--- Sections ------------------------------------------------------------------------------
-- A section yields entries { el = element, wrap = { {name, attr}, ... } }: the element and the
-- containers (below <user/>) it belongs in.

local archive_store_name = module:get_option_string("archive_store", "archive");
local password_hash = module:get_option_string("password_hash", "SHA-1");

local wrap_private = { { "query", { xmlns = "jabber:iq:private" } } };
local wrap_blocklist = { { "blocklist", { xmlns = "urn:xmpp:blocking" } } };
local wrap_offline = { { "offline-messages", {} } };
local wrap_mam = { { "archive", { xmlns = "urn:xmpp:pie:0#mam" } } };
local wrap_owner = { { "pubsub", { xmlns = "http://jabber.org/protocol/pubsub#owner" } } };

local function as_client(stanza)
	local copy = st.clone(stanza);
	copy.attr.xmlns = "jabber:client";
	return copy;
end

local function pep_entries(username, only_node)
	local nodes = check("Could not read PEP nodes", storagemanager.open(host, "pep"):get(username)) or {};
	local names = sorted_keys(nodes, function (name) return not only_node or name == only_node; end);
	local entries = {};
	for _, name in ipairs(names) do
		local node = nodes[name] == true and {} or nodes[name];
		entries[#entries + 1] = { wrap = wrap_owner,
			el = st.stanza("configure", { node = name }):add_child(node_config_form:form(node.config or {}, "submit")) };
		if node.affiliations and next(node.affiliations) then
			local el = st.stanza("affiliations", { node = name });
			for _, who in ipairs(sorted_keys(node.affiliations)) do
				el:tag("affiliation", { jid = who, affiliation = node.affiliations[who] }):up();
			end
			entries[#entries + 1] = { wrap = wrap_owner, el = el };
		end
		if node.subscribers and next(node.subscribers) then
			local el = st.stanza("subscriptions", { node = name });
			for _, who in ipairs(sorted_keys(node.subscribers)) do
				el:tag("subscription", { jid = who, subscription = "subscribed" }):up();
			end
			entries[#entries + 1] = { wrap = wrap_owner, el = el };
		end
	end
	local driver = storagemanager.get_driver(host, "pep_data");
	for _, name in ipairs(names) do
		local wrap = { { "pubsub", { xmlns = "http://jabber.org/protocol/pubsub" } }, { "items", { node = name } } };
		local store = driver:open("pep_" .. name, "archive");
		for item_id, payload, _, publisher in check("Could not read PEP items", store:find(username)) do
			entries[#entries + 1] = { wrap = wrap,
				el = st.stanza("item", { id = item_id, publisher = publisher }):add_child(payload) };
		end
	end
	return entries;
end

-- List sections: every entry is built, pages are offsets into them.
local list_sections = {};

function list_sections.account(username, fields)
	-- Creation time and disabling are new in 13 (usermanager.get_account_info, user_is_enabled).
	local info = usermanager.get_account_info and usermanager.get_account_info(username, host) or {};
	local enabled = not usermanager.user_is_enabled or usermanager.user_is_enabled(username, host);
	local entries = { { el = st.stanza("account", { xmlns = xmlns_adm,
		created = info.created and datetime(info.created) or nil,
		disabled = enabled == false and "true" or "false" }) } };
	if fields["include-credentials"] then
		local account = check("Could not read account", storagemanager.open(host, "accounts"):get(username)) or {};
		if account.stored_key and account.server_key and account.salt and account.iteration_count then
			entries[2] = { el = st.stanza("scram-credentials", { xmlns = "urn:xmpp:pie:0#scram", mechanism = "SCRAM-" .. password_hash })
				:text_tag("iter-count", ("%d"):format(account.iteration_count))
				:text_tag("salt", base64.encode(account.salt))
				:text_tag("server-key", base64.encode(hex.decode(account.server_key)))
				:text_tag("stored-key", base64.encode(hex.decode(account.stored_key))) };
		elseif account.password then
			entries.password = account.password; -- goes on <user password=...>
		end
	end
	return entries;
end

function list_sections.roster(username)
	local roster = rostermanager.load_roster(username, host) or {};
	local meta = roster[false] or {};
	local wrap = { { "query", { xmlns = "jabber:iq:roster", ver = meta.version and tostring(meta.version) or nil } } };
	local entries = {};
	for _, contact in ipairs(sorted_keys(roster)) do
		local item = roster[contact];
		local el = st.stanza("item", { jid = contact, name = item.name, subscription = item.subscription, ask = item.ask });
		for _, group in ipairs(sorted_keys(item.groups or {})) do el:text_tag("group", group); end
		entries[#entries + 1] = { el = el, wrap = wrap };
	end
	for _, from in ipairs(sorted_keys(meta.pending or {})) do
		entries[#entries + 1] = { el = st.stanza("presence", { xmlns = "jabber:client", type = "subscribe", from = from }) };
	end
	return entries;
end

function list_sections.vcard(username)
	local entries = {};
	local legacy = check("Could not read vCard", storagemanager.open(host, "vcard"):get(username));
	if legacy then entries[1] = { el = st.deserialize(legacy) }; end
	for _, entry in ipairs(pep_entries(username, "urn:xmpp:vcard4")) do entries[#entries + 1] = entry; end
	return entries;
end

function list_sections.private(username)
	local data = check("Could not read private XML", storagemanager.open(host, "private"):get(username)) or {};
	local entries = {};
	for _, key in ipairs(sorted_keys(data)) do
		entries[#entries + 1] = { el = st.deserialize(data[key]), wrap = wrap_private };
	end
	return entries;
end

function list_sections.blocklist(username)
	local data = check("Could not read blocklist", storagemanager.open(host, "blocklist"):get(username)) or {};
	local entries = {};
	for _, blocked in ipairs(sorted_keys(data)) do
		entries[#entries + 1] = { el = st.stanza("item", { jid = blocked }), wrap = wrap_blocklist };
	end
	return entries;
end

function list_sections.pep(username) return pep_entries(username); end

function list_sections.uploads(username)
	local user_jid = jid.join(username, host);
	local found = {};
	for _, service in ipairs(uploads.services(false)) do
		for slot, request, when in check("Could not read upload records", uploads.store(service):find(nil, { with = user_jid })) do
			if uploads.size(service, slot) then
				local filename = request.attr.filename;
				found[#found + 1] = { when = when, slot = slot, el = st.stanza("upload", { xmlns = xmlns_adm,
					url = uploads.url(service, slot, filename), size = request.attr.size, time = datetime(when),
					filename = filename, ["content-type"] = request.attr["content-type"] }) };
			end
		end
	end
	table.sort(found, function (a, b)
		if a.when ~= b.when then return a.when < b.when; end
		return a.slot < b.slot;
	end);
	return found;
end

function list_sections.last(username)
	local now, secs, status = os.time(), nil, nil;
	if hosts[host].sessions[username] then
		secs = 0;
	elseif last_logout[username] then
		secs, status = now - last_logout[username].t, last_logout[username].s;
	else -- mod_account_activity (13) stores the last login or logout
		local activity = storagemanager.open(host, "account_activity"):get(username);
		if activity and activity.timestamp then secs = now - activity.timestamp; end
	end
	if not secs then return {}; end
	return { { el = st.stanza("query", { xmlns = "jabber:iq:last", seconds = ("%d"):format(math.max(secs, 0)) }):text(status) } };
end

-- Archive sections: pages follow the store's own `after` cursor.
local archive_sections = {
	offline = { store_name = "offline", store = module:open_store("offline", "archive"), wrap = wrap_offline, entry = function (_, stanza, when)
		return as_client(stanza):tag("delay", { xmlns = "urn:xmpp:delay", from = host, stamp = datetime(when) })
			:text("Offline Storage"):up();
	end };
	mam = { store_name = archive_store_name, store = module:open_store(archive_store_name, "archive"), wrap = wrap_mam, entry = function (key, stanza, when)
		return st.stanza("result", { xmlns = "urn:xmpp:mam:2", id = key })
			:tag("forwarded", { xmlns = "urn:xmpp:forward:0" })
				:tag("delay", { xmlns = "urn:xmpp:delay", stamp = datetime(when) }):up()
				:add_child(as_client(stanza))
			:up();
	end };
};

--- Pages ---------------------------------------------------------------------------------

-- Adds an entry to a page if it fits: at most `max` entries and PAGE_BUDGET bytes, but always
-- at least one entry (however big).
local function take(page, entry, page_size, max)
	if #page >= max then return false, page_size; end
	local size = #tostring(entry.el);
	if #page > 0 and page_size + size > PAGE_BUDGET then return false, page_size; end
	page[#page + 1] = entry;
	return true, page_size + size;
end

-- Cursors of archive sections are "<when>:<key>" of the last item sent. The next page asks the
-- store for items from a second before that time (Prosody 13's internal storage finds it by a
-- binary search, SQL by its index) and after that key: a page costs the same at the end of a
-- 50,000-message archive as at its start, and only one page is held in memory. On 0.12's
-- internal storage the list file is read from the byte offset of the last item sent instead
-- (listfile.lib.lua; cursor "@<offset>:<key>"). A bare "<key>" (an older cursor) still works,
-- by `after` alone.
local function archive_cursor(position)
	if not position then return nil; end
	local when, key = position:match("^(%-?%d[%d.e+-]*):(.+)$");
	if when and tonumber(when) then return { start = tonumber(when) - 1, after = key }, key; end
	return { after = position }, position;
end

-- Fills a page from `next_item()` (key, stanza, when, cursor of that item); returns the entries
-- and the cursor of the last one when more follow.
local function fill_page(spec, next_item, max)
	local budget = common.budget();
	local entries, size, more, last = {}, 0, false, nil;
	for key, stanza, when, cursor in next_item do
		if not more then
			local ok;
			ok, size = take(entries, { el = spec.entry(key, stanza, when), wrap = spec.wrap }, size, max);
			if ok then last = cursor; else more = true; end
		end
		budget:step();
	end
	return entries, more and last or nil;
end

local function page_from_file(spec, username, position, max)
	local offset, key = 0, nil;
	if position then
		offset, key = position:match("^@(%d+):(.+)$");
		if not offset then return nil; end
		offset = tonumber(offset);
	end
	local items = listfile.read(username, spec.store_name, offset, key, max + 1);
	if not items then return nil; end -- the file changed since: page by key instead
	local i = 0;
	return fill_page(spec, function ()
		i = i + 1;
		local it = items[i];
		if it then return it.key, it.stanza, it.when, ("@%d:%s"):format(it.offset, it.key); end
	end, max);
end

local function page_archive(spec, username, position, max)
	if listfile.applies(spec.store_name) then
		local entries, next_position = page_from_file(spec, username, position, max);
		if entries then return entries, next_position; end
		if position then position = position:match("^@%d+:(.+)$") or position; end
	end
	local query, after_key = archive_cursor(position);
	query = query or {};
	query.limit = max + 1;
	local iter, err = spec.store:find(username, query);
	if not iter then
		if err == "item-not-found" then bad_request("after: unknown cursor"); end
		check("Could not read archive", nil, err);
	end
	local entries, next_position = fill_page(spec, function ()
		local key, stanza, when = iter(); -- drained to the end, so the store can close it
		if key == nil then return nil; end
		return key, stanza, when, type(when) == "number" and ("%.17g:%s"):format(when, key) or key;
	end, max);
	if after_key and #entries == 0 and common.count_items(spec.store, username, { key = after_key }) == 0 then
		bad_request("after: unknown cursor");
	end
	return entries, next_position;
end

local function page_list(entries, offset, max)
	if offset > #entries then bad_request("after: unknown cursor"); end
	local page, size = {}, 0;
	for i = offset + 1, #entries do
		local ok;
		ok, size = take(page, entries[i], size, max);
		if not ok then return page, tostring(offset + #page); end
	end
	return page, nil;
end

local function assemble(username, entries)
	local user = st.stanza("user", { xmlns = "urn:xmpp:pie:0", name = username, password = entries.password });
	local made = {};
	for _, entry in ipairs(entries) do
		local parent, path = user, "";
		for _, c in ipairs(entry.wrap or {}) do
			path = path .. "/" .. c[1] .. "{" .. (c[2].xmlns or "") .. "}" .. (c[2].node or "");
			local el = made[path];
			if not el then
				el = st.stanza(c[1], c[2]);
				parent:add_child(el);
				made[path] = el;
			end
			parent = el;
		end
		parent:add_child(entry.el);
	end
	return user;
end

-- The page the fields ask for: the result form's values and the <user/> element.
function M.page(fields)
	local username, user_host = jid.split(fields.accountjid);
	if not username or user_host ~= host then
		bad_request("accountjid: '%s' is not a JID of a user on %s", fields.accountjid, host);
	end
	local section = fields.section;
	if not (list_sections[section] or archive_sections[section]) then
		bad_request("section: must be one of %s, got '%s'", table.concat(M.sections, " "), section);
	end
	local max = fields.max and fields.max ~= "" and fields.max;
	if max then
		max = max:match("^%s*%d+%s*$") and tonumber(max);
		if not max or max < 1 then bad_request("max: must be an integer >= 1, got '%s'", fields.max); end
		max = math.min(max, MAX_PAGE);
	else
		max = DEFAULT_PAGE;
	end
	local after = fields.after ~= "" and fields.after or nil;
	local position;
	if after then
		local cursor_section;
		cursor_section, position = after:match("^([%w-]+):(.+)$");
		if cursor_section ~= section then bad_request("after: not a cursor of section %s: '%s'", section, after); end
	end
	if not usermanager.user_exists(username, host) then
		fail("cancel", "item-not-found", ("User %s does not exist"):format(fields.accountjid));
	end

	local entries, next_position;
	if archive_sections[section] then
		entries, next_position = page_archive(archive_sections[section], username, position, max);
	else
		local offset = 0;
		if position then
			offset = position:match("^%d+$") and tonumber(position) or bad_request("after: malformed cursor '%s'", after);
		end
		local all = list_sections[section](username, fields);
		entries, next_position = page_list(all, offset, max);
		entries.password = all.password;
	end
	return {
		section = section;
		more = next_position ~= nil;
		next = next_position and (section .. ":" .. next_position) or nil;
		count = common.int(#entries);
	}, assemble(username, entries);
end

return M;
