-- mod_xmppadm: server-side administration commands for the xmppadm CLI.
--
-- Adds XEP-0050 ad-hoc commands (namespace urn:xmppadm:admin:1) for host
-- admins: IP blocking, purging offline messages and uploads, per-user
-- XEP-0227 export and temporary debug logging. The node contract is
-- specified in README.md next to this file.
--
-- Load it on a VirtualHost (modules_enabled = { ..., "xmppadm" }).
-- Needs Prosody 13.

local st = require "prosody.util.stanza";
local dataforms = require "prosody.util.dataforms";
local datetime = require "prosody.util.datetime".datetime;
local jid = require "prosody.util.jid";
local new_id = require "prosody.util.id".medium;
local net = require "prosody.util.net";
local strbit = require "prosody.util.strbitop";
local logger = require "prosody.util.logger";
local base64 = require "prosody.util.encodings".base64;
local hex = require "prosody.util.hex";
local usermanager = require "prosody.core.usermanager";
local rostermanager = require "prosody.core.rostermanager";
local storagemanager = require "prosody.core.storagemanager";
local modulemanager = require "prosody.core.modulemanager";
local dm = storagemanager.olddm;
local lfs = require "lfs";

local host = module.host;
local hosts = prosody.hosts;
local t_sort, t_concat = table.sort, table.concat;

local xmlns_cmd = "http://jabber.org/protocol/commands";
local xmlns_adm = "urn:xmppadm:admin:1";
local xmlns_pie = "urn:xmpp:pie:0";
local xmlns_pubsub = "http://jabber.org/protocol/pubsub";
local xmlns_pubsub_owner = "http://jabber.org/protocol/pubsub#owner";

module:depends("adhoc");
local adhoc_new = module:require "adhoc".new;
local node_config_form = module:require "pubsub".node_config_form;

local MAX_SECONDS = 1e10; -- ~317 years; larger "durations" are surely mistakes
local PAGE_BUDGET = 60 * 1024; -- bytes of XEP-0227 payload per export page
local DEFAULT_PAGE, MAX_PAGE = 50, 500;

--- Errors --------------------------------------------------------------
-- Commands throw { type, condition, text }; the dispatcher turns them into
-- IQ errors. Anything else thrown is a bug: wait/internal-server-error.

local function fail(err_type, condition, text)
	error({ type = err_type, condition = condition, text = text }, 0);
end
local function bad_request(fmt, ...) fail("modify", "bad-request", fmt:format(...)); end
-- Pass storage results through; a storage error becomes an IQ error.
local function check(what, ok, err, ...)
	if ok == nil and err ~= nil then
		fail("wait", "internal-server-error", ("%s: %s"):format(what, tostring(err)));
	end
	return ok, err, ...;
end

--- Form helpers --------------------------------------------------------

local function form(title, fields)
	local layout = { title = title, { name = "FORM_TYPE", type = "hidden", value = xmlns_adm } };
	for _, field in ipairs(fields) do layout[#layout + 1] = field; end
	return dataforms.new(layout);
end

local function read_form(layout, x)
	if x.attr.type and x.attr.type ~= "submit" then
		bad_request("the data form must be of type 'submit', not '%s'", x.attr.type);
	end
	local form_type = dataforms.get_type(x);
	if form_type and form_type ~= "" and form_type ~= xmlns_adm then
		bad_request("FORM_TYPE must be %s, not %s", xmlns_adm, form_type);
	end
	local fields, errors = layout:data(x);
	if errors then
		local list = {};
		for name, err in pairs(errors) do list[#list + 1] = name .. ": " .. err; end
		t_sort(list);
		bad_request("%s", t_concat(list, "; "));
	end
	return fields;
end

-- text-multi arrives joined with "\n"; split it back into trimmed values
local function lines(s)
	local list = {};
	for line in (s or ""):gmatch("[^\n]+") do
		line = line:match("^%s*(.-)%s*$");
		if line ~= "" then list[#list + 1] = line; end
	end
	return list;
end

-- A non-negative integer number of seconds, or nil when absent/empty.
local function seconds(fields, name, min)
	local v = fields[name];
	if v == nil or v == "" then return nil; end
	local n = v:match("^%s*%d+%s*$") and tonumber(v);
	if not n or n < min or n > MAX_SECONDS then
		bad_request("%s: must be an integer number of seconds >= %d, got '%s'", name, min, v);
	end
	return math.floor(n);
end

local function required_seconds(fields, name)
	return seconds(fields, name, 1) or bad_request("%s: Required value missing", name);
end

local function iso(t) return t and datetime(t) or ""; end

local function sorted_keys(t, filter)
	local keys = {};
	for k in pairs(t) do
		if type(k) == "string" and (not filter or filter(k)) then keys[#keys + 1] = k; end
	end
	t_sort(keys);
	return keys;
end

--- Command registry and dispatcher --------------------------------------
-- mod_adhoc lists the commands (disco) and checks the same permission, but
-- we answer execution ourselves: its handle_cmd() emits reply children in
-- hash order and cannot attach the XEP-0227 fragment after the form.

local commands = {};

local function command(name, title, input, run)
	local node = xmlns_adm .. "#" .. name;
	local cmd = adhoc_new(title, node, function ()
		-- Only reached if our own handler below is bypassed.
		return { status = "error", error = { type = "cancel", condition = "service-unavailable" } };
	end, "admin");
	cmd.layout = form(title, input);
	cmd.has_input = #input > 0;
	cmd.run = run;
	commands[node] = cmd;
	module:provides("adhoc", cmd);
end

local function on_error(err)
	if type(err) == "table" and err.condition then return err; end
	module:log("error", "Command failed: %s", debug.traceback(tostring(err), 2));
	return { type = "wait", condition = "internal-server-error", text = "Internal error: " .. tostring(err) };
end

module:hook("iq-set/host/" .. xmlns_cmd .. ":command", function (event)
	local origin, stanza = event.origin, event.stanza;
	local request = stanza.tags[1];
	local cmd = commands[request.attr.node];
	if not cmd then return; end -- not ours, leave it to mod_adhoc
	if not module:may("adhoc:" .. cmd.node, event) then
		origin.send(st.error_reply(stanza, "auth", "forbidden", "You don't have permission to execute this command"));
		return true;
	end

	local action = request.attr.action or "execute";
	local x = request:get_child("x", "jabber:x:data");
	local reply = st.stanza("command", { xmlns = xmlns_cmd, node = cmd.node,
		sessionid = request.attr.sessionid or new_id() });

	if action == "cancel" or (x and x.attr.type == "cancel") then
		reply.attr.status = "canceled";
	elseif (not x and cmd.has_input and action == "execute") or action == "prev" then
		reply.attr.status = "executing";
		reply:tag("actions", { execute = "complete" }):tag("complete"):up():up();
		reply:add_child(cmd.layout:form());
	elseif action ~= "execute" and action ~= "complete" and action ~= "next" and action ~= "prev" then
		origin.send(st.error_reply(stanza, "modify", "bad-request", "Unknown action: " .. action));
		return true;
	else
		local ok, result, payload, after = xpcall(function ()
			local fields = read_form(cmd.layout, x or st.stanza("x", { xmlns = "jabber:x:data", type = "submit" }));
			return cmd.run(fields, event);
		end, on_error);
		if not ok then
			origin.send(st.error_reply(stanza, result));
			return true;
		end
		reply.attr.status = "completed";
		reply:add_child(result);
		if payload then reply:add_child(payload); end
		origin.send(st.reply(stanza):add_child(reply));
		if after then after(); end
		return true;
	end
	origin.send(st.reply(stanza):add_child(reply));
	return true;
end, 510); -- before mod_adhoc (500)

local function result(cmd_form, values)
	return cmd_form:form(values, "result");
end

--- IP blocking -----------------------------------------------------------

local block_store = module:open_store("xmppadm_blocked_ips");
local blocks; -- cidr -> { created = t, expires = t|nil, reason = s|nil }
local matchers = {}; -- cidr -> { packed, bits }

-- Treat IPv4-mapped IPv6 addresses as the IPv4 addresses they are.
local v4mapped_prefix = ("\0"):rep(10) .. "\255\255";
local function unmap(packed, bits)
	if #packed == 16 and packed:sub(1, 12) == v4mapped_prefix and (not bits or bits >= 96) then
		return packed:sub(13), bits and bits - 96;
	end
	return packed, bits;
end

-- Zero the host bits of a packed address.
local function mask(packed, bits)
	local bytes = {};
	for i = 1, #packed do
		local keep = bits - (i - 1) * 8;
		local b = packed:byte(i);
		if keep <= 0 then
			b = 0;
		elseif keep < 8 then
			local unit = 2 ^ (8 - keep);
			b = math.floor(b / unit) * unit;
		end
		bytes[i] = string.char(b);
	end
	return t_concat(bytes);
end

-- "addr" or "addr/bits" -> normalised "net/bits", packed, bits (or nil)
local function parse_cidr(s)
	local addr, bits = s:match("^([^/]+)/(%d+)$");
	if not addr then addr = s:match("^[^/]+$"); end
	local packed = addr and net.pton(addr);
	if not packed or (#packed ~= 4 and #packed ~= 16) then return nil; end
	bits = tonumber(bits) or #packed * 8;
	if bits > #packed * 8 then return nil; end
	packed, bits = unmap(packed, bits);
	packed = mask(packed, bits);
	return net.ntop(packed) .. "/" .. bits, packed, bits;
end

local function parse_addresses(fields)
	local list, seen = {}, {};
	for _, value in ipairs(lines(fields.addresses)) do
		local cidr = parse_cidr(value);
		if not cidr then
			bad_request("addresses: '%s' is not an IPv4/IPv6 address or CIDR range", value);
		end
		if not seen[cidr] then seen[cidr] = true; list[#list + 1] = cidr; end
	end
	if #list == 0 then bad_request("addresses: Required value missing"); end
	return list;
end

local function save_blocks()
	local ok, err = block_store:set(nil, blocks);
	if not ok then fail("wait", "internal-server-error", "Could not store blocked addresses: " .. tostring(err)); end
end

-- Current blocks, with expired ones dropped (and the store updated).
local function active_blocks()
	if not blocks then
		local data, err = block_store:get(nil);
		if not data and err then
			module:log("error", "Could not load blocked addresses: %s", err);
			return {};
		end
		blocks = data or {};
	end
	local now, expired = os.time(), false;
	for cidr, b in pairs(blocks) do
		if b.expires and b.expires <= now then
			blocks[cidr], expired = nil, true;
			module:log("info", "Block of %s expired", cidr);
		end
	end
	if expired then
		local ok, err = block_store:set(nil, blocks);
		if not ok then module:log("error", "Could not store blocked addresses: %s", err); end
	end
	return blocks;
end

local function blocked_by(ip)
	if not ip then return nil; end
	local packed = net.pton((ip:gsub("%%.*$", "")));
	if not packed then return nil; end
	packed = unmap(packed);
	for cidr in pairs(active_blocks()) do
		local m = matchers[cidr];
		if not m then
			local _, p, bits = parse_cidr(cidr);
			m = { p, bits };
			matchers[cidr] = m;
		end
		if #m[1] == #packed and (m[2] == 0 or strbit.common_prefix_bits(packed, m[1]) >= m[2]) then
			return cidr;
		end
	end
end

-- Every c2s/BOSH/WebSocket stream to this host passes here (again after
-- STARTTLS and SASL), before authentication completes.
local streams = setmetatable({}, { __mode = "k" });
local close_reason = { condition = "policy-violation", text = "Connections from your IP address are blocked" };

module:hook("stream-features", function (event)
	local session = event.origin;
	local cidr = blocked_by(session.ip);
	if cidr then
		module:log("info", "Refusing client stream from %s (blocked by %s)", session.ip, cidr);
		session:close(close_reason);
		return true;
	end
	streams[session] = true;
end, 1000);

local function live_sessions()
	local list, seen = {}, {};
	local function add(session)
		if not seen[session] and not session.destroyed then
			seen[session] = true;
			list[#list + 1] = session;
		end
	end
	for session in pairs(streams) do add(session); end
	for _, user in pairs(hosts[host].sessions) do
		for _, session in pairs(user.sessions or {}) do add(session); end
	end
	return list;
end

local block_result = form("Blocked", {
	{ name = "blocked", type = "text-multi", label = "Blocked ranges" };
	{ name = "sessions-closed", type = "text-single", label = "Sessions closed" };
});

command("block-ip", "Block client IP addresses", {
	{ name = "addresses", type = "text-multi", required = true,
		label = "IPv4/IPv6 addresses or CIDR ranges, one per line" };
	{ name = "expires", type = "text-single", label = "Block for this many seconds (empty or 0: forever)" };
	{ name = "reason", type = "text-single", label = "Reason" };
}, function (fields)
	local list = parse_addresses(fields);
	local expires = seconds(fields, "expires", 0);
	local now = os.time();
	local reason = fields.reason ~= "" and fields.reason or nil;
	local current = active_blocks();
	for _, cidr in ipairs(list) do
		current[cidr] = {
			created = current[cidr] and current[cidr].created or now;
			expires = expires and expires > 0 and now + expires or nil;
			reason = reason;
		};
		module:log("info", "Blocking %s%s", cidr, reason and (" (" .. reason .. ")") or "");
	end
	save_blocks();

	local victims = {};
	for _, session in ipairs(live_sessions()) do
		if blocked_by(session.ip) then victims[#victims + 1] = session; end
	end
	return result(block_result, {
		blocked = t_concat(list, "\n");
		["sessions-closed"] = ("%d"):format(#victims);
	}), nil, function ()
		-- after the reply went out: the requester may be one of them
		for _, session in ipairs(victims) do session:close(close_reason); end
	end;
end);

command("list-blocked-ips", "List blocked client IP addresses", {}, function ()
	local current = active_blocks();
	local x = st.stanza("x", { xmlns = "jabber:x:data", type = "result" })
		:text_tag("title", "Blocked client IP addresses")
		:tag("field", { var = "FORM_TYPE", type = "hidden" }):text_tag("value", xmlns_adm):up()
		:tag("reported")
			:tag("field", { var = "address", label = "Address", type = "text-single" }):up()
			:tag("field", { var = "expires", label = "Expires", type = "text-single" }):up()
			:tag("field", { var = "reason", label = "Reason", type = "text-single" }):up()
			:tag("field", { var = "created", label = "Created", type = "text-single" }):up()
		:up();
	for _, cidr in ipairs(sorted_keys(current)) do
		local b = current[cidr];
		x:tag("item");
		for _, pair in ipairs({ { "address", cidr }, { "expires", iso(b.expires) },
			{ "reason", b.reason or "" }, { "created", iso(b.created) } }) do
			x:tag("field", { var = pair[1] }):text_tag("value", pair[2]):up();
		end
		x:up();
	end
	return x;
end);

local unblock_result = form("Unblocked", {
	{ name = "removed", type = "text-multi", label = "Removed" };
	{ name = "not-found", type = "text-multi", label = "Not blocked" };
});

command("unblock-ip", "Unblock client IP addresses", {
	{ name = "addresses", type = "text-multi", required = true,
		label = "Blocked addresses or CIDR ranges, one per line" };
}, function (fields)
	local list = parse_addresses(fields);
	local current = active_blocks();
	local removed, missing = {}, {};
	for _, cidr in ipairs(list) do
		if current[cidr] then
			current[cidr] = nil;
			removed[#removed + 1] = cidr;
			module:log("info", "Unblocking %s", cidr);
		else
			missing[#missing + 1] = cidr;
		end
	end
	if #removed > 0 then save_blocks(); end
	return result(unblock_result, { removed = t_concat(removed, "\n"), ["not-found"] = t_concat(missing, "\n") });
end);

--- Purging offline messages -----------------------------------------------

local offline_store = module:open_store("offline", "archive");

local purge_offline_result = form("Offline messages purged", {
	{ name = "count", type = "text-single", label = "Messages" };
	{ name = "users", type = "text-single", label = "Users" };
});

local function count_items(store, username, query)
	local iter = check("Could not read archive", store:find(username, query));
	local n = 0;
	for _ in iter do n = n + 1; end
	return n;
end

command("purge-offline", "Purge old offline messages", {
	{ name = "older-than", type = "text-single", required = true, label = "Delete messages older than (seconds)" };
	{ name = "dry-run", type = "boolean", label = "Only count, delete nothing" };
}, function (fields)
	local cutoff = os.time() - required_seconds(fields, "older-than");
	local query = { ["end"] = cutoff };
	local users = {};
	local iter, state; -- (users with offline messages, if the store can tell)
	if offline_store.users then iter, state = offline_store:users(); else iter, state = usermanager.users(host); end
	for username in iter, state do users[#users + 1] = username; end

	local total, touched = 0, 0;
	for _, username in ipairs(users) do
		local n = count_items(offline_store, username, query);
		if n > 0 and not fields["dry-run"] then
			local deleted = check("Could not delete offline messages", offline_store:delete(username, query));
			if type(deleted) == "number" then n = deleted; end
		end
		if n > 0 then total, touched = total + n, touched + 1; end
	end
	module:log("info", "%s %d offline messages of %d users older than %s", fields["dry-run"] and "Found" or "Purged",
		total, touched, datetime(cutoff));
	return result(purge_offline_result, { count = ("%d"):format(total), users = ("%d"):format(touched) });
end);

--- Uploads (mod_http_file_share) --------------------------------------------

-- Hosts running mod_http_file_share; `related` restricts to this host and
-- its subdomains (upload.example.com serves example.com).
local function upload_hosts(related)
	local list = {};
	for name in pairs(hosts) do
		if modulemanager.is_loaded(name, "http_file_share")
		and (not related or name == host or name:sub(-#host - 1) == "." .. host) then
			list[#list + 1] = name;
		end
	end
	t_sort(list);
	return list;
end

local function upload_path(upload_host, slot)
	return dm.getpath(slot, upload_host, "http_file_share", "bin");
end

-- mod_http_file_share keeps a storage usage total in memory; let its own
-- weekly recount task correct it after we removed files behind its back.
local function recount_uploads(upload_host)
	local env = modulemanager.get_module(upload_host, "http_file_share");
	for _, task in ipairs(env and env.module.items and env.module.items.task or {}) do
		if task.name == "Calculate total storage usage" then
			local ok, err = pcall(task.run);
			if not ok then module:log("warn", "Upload usage recount on %s failed: %s", upload_host, err); end
		end
	end
end

-- Delete the upload records matching `query` and their files.
-- Returns number of records, bytes of files (removed, or that would be).
local function purge_uploads(upload_host, query, dry_run)
	local store = storagemanager.open(upload_host, "uploads", "archive");
	local slots = {};
	for slot in check("Could not read upload records", store:find(nil, query)) do
		slots[#slots + 1] = slot;
	end
	local count, bytes, removed, problem = 0, 0, {}, false;
	for _, slot in ipairs(slots) do
		local path = upload_path(upload_host, slot);
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
	end
	if not dry_run and #removed > 0 then
		if problem then -- keep the records of files we could not remove
			for _, slot in ipairs(removed) do check("Could not delete upload record", store:delete(nil, { key = slot })); end
		else
			check("Could not delete upload records", store:delete(nil, query));
		end
		recount_uploads(upload_host);
	end
	return count, bytes;
end

local purge_uploads_result = form("Uploads purged", {
	{ name = "count", type = "text-single", label = "Files" };
	{ name = "bytes", type = "text-single", label = "Bytes" };
	{ name = "hosts", type = "text-multi", label = "Upload services" };
});

command("purge-uploads", "Purge old HTTP uploads", {
	{ name = "older-than", type = "text-single", required = true, label = "Delete uploads older than (seconds)" };
	{ name = "dry-run", type = "boolean", label = "Only count, delete nothing" };
}, function (fields)
	local cutoff = os.time() - required_seconds(fields, "older-than");
	local total, total_bytes = 0, 0;
	local services = upload_hosts(true);
	for _, upload_host in ipairs(services) do
		local count, bytes = purge_uploads(upload_host, { ["end"] = cutoff }, fields["dry-run"]);
		total, total_bytes = total + count, total_bytes + bytes;
	end
	module:log("info", "%s %d uploads (%d bytes) older than %s", fields["dry-run"] and "Found" or "Purged",
		total, total_bytes, datetime(cutoff));
	return result(purge_uploads_result, {
		count = ("%d"):format(total), bytes = ("%d"):format(total_bytes), hosts = t_concat(services, "\n");
	});
end);

-- mod_http_file_share (13.0) keeps a deleted user's uploads; remove them.
module:hook_global("user-deleted", function (event)
	if event.host ~= host then return; end
	local user_jid = jid.join(event.username, host);
	for _, upload_host in ipairs(upload_hosts(false)) do
		local ok, count, bytes = pcall(purge_uploads, upload_host, { with = user_jid });
		if not ok then
			module:log("error", "Could not delete uploads of %s on %s: %s", user_jid, upload_host,
				type(count) == "table" and count.text or count);
		elseif count > 0 then
			module:log("info", "Deleted %d uploads (%d bytes) of %s on %s", count, bytes, user_jid, upload_host);
		end
	end
end);

--- Export (XEP-0227) ------------------------------------------------------
-- A section yields entries { el = element, wrap = { {name, attr}, ... } }:
-- the element and the containers (below <user/>) it belongs in.

local sections = { "account", "roster", "vcard", "private", "offline", "mam", "blocklist", "pep", "uploads", "last" };
local archive_store_name = module:get_option_string("archive_store", "archive");
local password_hash = module:get_option_string("password_hash", "SHA-1");

local wrap_roster = { { "query", { xmlns = "jabber:iq:roster" } } };
local wrap_private = { { "query", { xmlns = "jabber:iq:private" } } };
local wrap_blocklist = { { "blocklist", { xmlns = "urn:xmpp:blocking" } } };
local wrap_offline = { { "offline-messages", {} } };
local wrap_mam = { { "archive", { xmlns = "urn:xmpp:pie:0#mam" } } };
local wrap_owner = { { "pubsub", { xmlns = xmlns_pubsub_owner } } };

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
		local wrap = { { "pubsub", { xmlns = xmlns_pubsub } }, { "items", { node = name } } };
		local store = driver:open("pep_" .. name, "archive");
		for item_id, payload, _, publisher in check("Could not read PEP items", store:find(username)) do
			entries[#entries + 1] = { wrap = wrap,
				el = st.stanza("item", { id = item_id, publisher = publisher }):add_child(payload) };
		end
	end
	return entries;
end

-- List sections: build every entry, page by offset.
local list_sections = {};

function list_sections.account(username, fields)
	local info = usermanager.get_account_info(username, host) or {};
	local enabled = usermanager.user_is_enabled(username, host);
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
	for _, upload_host in ipairs(upload_hosts(false)) do
		local env = modulemanager.get_module(upload_host, "http_file_share");
		local store = storagemanager.open(upload_host, "uploads", "archive");
		for slot, request, when in check("Could not read upload records", store:find(nil, { with = user_jid })) do
			if lfs.attributes(upload_path(upload_host, slot), "mode") == "file" then
				local filename = request.attr.filename;
				found[#found + 1] = { when = when, slot = slot, el = st.stanza("upload", { xmlns = xmlns_adm,
					url = env and env.get_url and env.get_url(slot, filename) or nil,
					size = request.attr.size, time = datetime(when), filename = filename,
					["content-type"] = request.attr["content-type"] }) };
			end
		end
	end
	t_sort(found, function (a, b)
		if a.when ~= b.when then return a.when < b.when; end
		return a.slot < b.slot;
	end);
	return found;
end

function list_sections.last(username)
	local now, secs, status = os.time(), nil, nil;
	if hosts[host].sessions[username] then
		secs = 0;
	else
		local lastactivity = modulemanager.get_module(host, "lastactivity");
		local saved = lastactivity and lastactivity.module.save and lastactivity.module.save();
		local record = saved and saved.map and saved.map[username];
		if record then
			secs, status = now - record.t, record.s;
		else
			local activity = storagemanager.open(host, "account_activity"):get(username);
			if activity and activity.timestamp then secs = now - activity.timestamp; end
		end
	end
	if not secs then return {}; end
	return { { el = st.stanza("query", { xmlns = "jabber:iq:last", seconds = ("%d"):format(math.max(secs, 0)) }):text(status) } };
end

-- Archive sections: page with the store's own `after` cursor.
local archive_sections = {
	offline = { store = offline_store, wrap = wrap_offline, entry = function (_, stanza, when)
		return as_client(stanza):tag("delay", { xmlns = "urn:xmpp:delay", from = host, stamp = datetime(when) })
			:text("Offline Storage"):up();
	end };
	mam = { store = module:open_store(archive_store_name, "archive"), wrap = wrap_mam, entry = function (key, stanza, when)
		return st.stanza("result", { xmlns = "urn:xmpp:mam:2", id = key })
			:tag("forwarded", { xmlns = "urn:xmpp:forward:0" })
				:tag("delay", { xmlns = "urn:xmpp:delay", stamp = datetime(when) }):up()
				:add_child(as_client(stanza))
			:up();
	end };
};

-- Add an entry to a page if it fits: at most `max` entries and PAGE_BUDGET
-- bytes, but always at least one entry (however big).
local function take(page, entry, page_size, max)
	if #page >= max then return false, page_size; end
	local size = #tostring(entry.el);
	if #page > 0 and page_size + size > PAGE_BUDGET then return false, page_size; end
	page[#page + 1] = entry;
	return true, page_size + size;
end

local function page_archive(spec, username, after, max)
	local iter, err = spec.store:find(username, { after = after, limit = max + 1 });
	if not iter then
		if err == "item-not-found" then bad_request("after: unknown cursor"); end
		check("Could not read archive", nil, err);
	end
	local entries, size, more, last = {}, 0, false, nil;
	for key, stanza, when in iter do -- drain the iterator so the store can close it
		if not more then
			local ok;
			ok, size = take(entries, { el = spec.entry(key, stanza, when), wrap = spec.wrap }, size, max);
			if ok then last = key; else more = true; end
		end
	end
	if after and #entries == 0 and count_items(spec.store, username, { key = after }) == 0 then
		bad_request("after: unknown cursor");
	end
	return entries, more and last or nil;
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
	local user = st.stanza("user", { xmlns = xmlns_pie, name = username, password = entries.password });
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

local export_result = form("Export", {
	{ name = "section", type = "text-single", label = "Section" };
	{ name = "more", type = "boolean", label = "More pages follow" };
	{ name = "next", type = "text-single", label = "Cursor for the next page" };
	{ name = "count", type = "text-single", label = "Items in this page" };
});

command("export-user", "Export a user's data (XEP-0227)", {
	{ name = "accountjid", type = "jid-single", required = true, label = "The Jabber ID of the account" };
	{ name = "include-credentials", type = "boolean", value = false, label = "Include SCRAM credentials" };
	{ name = "section", type = "list-single", required = true, label = "Section", options = sections };
	{ name = "after", type = "text-single", label = "Cursor from the previous page" };
	{ name = "max", type = "text-single", value = tostring(DEFAULT_PAGE), label = "Items per page (max " .. MAX_PAGE .. ")" };
}, function (fields)
	local username, user_host = jid.split(fields.accountjid);
	if not username or user_host ~= host then
		bad_request("accountjid: '%s' is not a JID of a user on %s", fields.accountjid, host);
	end
	local section = fields.section;
	if not (list_sections[section] or archive_sections[section]) then
		bad_request("section: must be one of %s, got '%s'", t_concat(sections, " "), section);
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
	return result(export_result, {
		section = section;
		more = next_position ~= nil;
		next = next_position and (section .. ":" .. next_position) or nil;
		count = ("%d"):format(#entries);
	}), assemble(username, entries);
end);

--- Debug logging -----------------------------------------------------------
-- A logger sink of our own at all levels, writing to a dedicated file. The
-- configured logging is untouched; a logging reload (config reload, SIGHUP)
-- resets all sinks, so we add ours back then.

local debug_file = prosody.paths.data .. "/xmppadm-debug-" .. host:gsub("[^%w.-]", "_") .. ".log";
local debug_log; -- { fh, sink, expires, timer } while active

local function add_debug_sink()
	local fh = debug_log.fh;
	debug_log.sink = logger.add_simple_sink(function (source, level, message)
		fh:write(os.date("%b %d %H:%M:%S "), source, "\t", level, "\t", message, "\n");
	end);
end

local function wipe_debug_file()
	local fh = io.open(debug_file, "w"); -- truncate first: the data is gone even if removal fails
	if fh then fh:close(); end
	os.remove(debug_file);
end

local function debug_off()
	if not debug_log then return false; end
	logger.remove_sink(debug_log.sink);
	if debug_log.timer then debug_log.timer:stop(); end
	debug_log.fh:close();
	debug_log = nil;
	wipe_debug_file();
	module:log("info", "Debug logging to %s stopped, file removed", debug_file);
	return true;
end

local function debug_on(duration)
	if not debug_log then
		local fh, err = io.open(debug_file, "a");
		if not fh then fail("wait", "internal-server-error", "Could not open " .. debug_file .. ": " .. tostring(err)); end
		fh:setvbuf("line");
		debug_log = { fh = fh };
		add_debug_sink();
		module:log("info", "Debug logging to %s started", debug_file);
	end
	if debug_log.timer then debug_log.timer:stop(); debug_log.timer = nil; end
	debug_log.expires = duration and os.time() + duration or nil;
	if duration then
		debug_log.timer = module:add_timer(duration, function ()
			module:log("info", "Debug logging period is over");
			debug_off();
		end);
	end
end

module:hook_global("logging-reloaded", function ()
	if debug_log then add_debug_sink(); end
end);

wipe_debug_file(); -- left over from a crash or a kill while active
module:hook_global("server-stopping", debug_off);
function module.unload() debug_off(); end

local debug_result = form("Debug logging", {
	{ name = "active", type = "boolean", label = "Debug logging active" };
	{ name = "file", type = "text-single", label = "Debug log file" };
	{ name = "expires", type = "text-single", label = "Turns off at" };
	{ name = "previous", type = "boolean", label = "Was active before" };
});

command("debug-log", "Debug logging", {
	{ name = "action", type = "list-single", required = true, label = "Action", options = { "on", "off", "status" } };
	{ name = "duration", type = "text-single", label = "Turn off after this many seconds (with on)" };
}, function (fields)
	local action = fields.action;
	if action ~= "on" and action ~= "off" and action ~= "status" then
		bad_request("action: must be on, off or status, got '%s'", action);
	end
	local duration = action == "on" and seconds(fields, "duration", 1) or nil;
	local previous = debug_log ~= nil;
	if action == "on" then
		debug_on(duration);
	elseif action == "off" then
		debug_off();
	end
	return result(debug_result, {
		active = debug_log ~= nil;
		file = debug_file;
		expires = debug_log and iso(debug_log.expires) or "";
		previous = previous;
	});
end);
