-- #import-user (server/CONTRACT.md): one user's XEP-0227 <user/> put onto this host, each
-- section through the module that owns its data (roster manager, mod_vcard_legacy or the vcard
-- store, mod_pep, the offline and archive stores), so that what the user finds is what the
-- server would have made itself. Works on 0.12 and 13.

local common = module:require "common";
local st = common.lib "util.stanza";
local jid = common.lib "util.jid";
local datetime = common.lib "util.datetime";
local base64 = common.lib "util.encodings".base64;
local hex = common.lib "util.hex";
local id = common.lib "util.id";
local usermanager = common.lib "core.usermanager";
local rostermanager = common.lib "core.rostermanager";
local storagemanager = common.lib "core.storagemanager";
local modulemanager = common.lib "core.modulemanager";
local node_config_form = module:require "pubsub".node_config_form; -- mod_pubsub's library
local bad_request, fail, check = common.bad_request, common.fail, common.check;

local host = module.host;
local hosts = prosody.hosts;
local xmlns_adm = common.xmlns;
local xmlns_pie = "urn:xmpp:pie:0";
local xmlns_scram = "urn:xmpp:pie:0#scram";
local xmlns_delay = "urn:xmpp:delay";
local xmlns_pubsub = "http://jabber.org/protocol/pubsub";
local xmlns_pubsub_owner = "http://jabber.org/protocol/pubsub#owner";

local M = { node = xmlns_adm .. "#import-user" };

-- The order of the result's rows (CONTRACT.md, #import-user).
local SECTIONS = { "account", "roster", "vcard", "private", "offline", "mam", "blocklist", "privacy",
	"pep", "uploads", "last", "other" };

--- The <user/> that came with the command -------------------------------------------------
-- util.adhoc hands a handler the form but not the stanza (0.12), so the <user/> elements are
-- noted here, before mod_adhoc (500) runs the command, by the form element they came with: the
-- very table the handler gets as data.form.

local pending = setmetatable({}, { __mode = "k" });
module:hook("iq-set/host/http://jabber.org/protocol/commands:command", function (event)
	local command = event.stanza.tags[1];
	if command.attr.node ~= M.node then return; end
	local form = command:get_child("x", "jabber:x:data");
	if not form then return; end
	local users = {};
	for user in command:childtags("user", xmlns_pie) do users[#users + 1] = user; end
	pending[form] = users;
end, 700);

--- The report: per section, items imported and skipped, and why ------------------------------

local function new_report()
	local rows = {};
	for _, name in ipairs(SECTIONS) do rows[name] = { imported = 0, skipped = 0, reasons = {}, seen = {} }; end
	local report = { rows = rows };
	function report.imported(section, n)
		rows[section].imported = rows[section].imported + (n or 1);
	end
	function report.skipped(section, reason, n)
		local row = rows[section];
		row.skipped = row.skipped + (n or 1);
		if not row.seen[reason] then
			row.seen[reason] = true;
			row.reasons[#row.reasons + 1] = reason;
		end
	end
	return report;
end

local function result_form(account, created, dry_run, report)
	local x = st.stanza("x", { xmlns = "jabber:x:data", type = "result" })
		:text_tag("title", "Import")
		:tag("field", { var = "FORM_TYPE", type = "hidden" }):text_tag("value", xmlns_adm):up()
		:tag("field", { var = "accountjid", type = "jid-single", label = "Account" }):text_tag("value", account):up()
		:tag("field", { var = "created", type = "boolean", label = "Account created" })
			:text_tag("value", created and "1" or "0"):up()
		:tag("field", { var = "dry-run", type = "boolean", label = "Dry run" }):text_tag("value", dry_run and "1" or "0"):up()
		:tag("reported")
			:tag("field", { var = "section", type = "text-single", label = "Section" }):up()
			:tag("field", { var = "imported", type = "text-single", label = "Imported" }):up()
			:tag("field", { var = "skipped", type = "text-single", label = "Skipped" }):up()
			:tag("field", { var = "reason", type = "text-single", label = "Why skipped" }):up()
		:up();
	for _, name in ipairs(SECTIONS) do
		local row = report.rows[name];
		if row.imported + row.skipped > 0 then
			x:tag("item")
				:tag("field", { var = "section" }):text_tag("value", name):up()
				:tag("field", { var = "imported" }):text_tag("value", common.int(row.imported)):up()
				:tag("field", { var = "skipped" }):text_tag("value", common.int(row.skipped)):up()
				:tag("field", { var = "reason" }):text_tag("value", table.concat(row.reasons, "; ")):up()
			:up();
		end
	end
	return x;
end

--- The account ---------------------------------------------------------------------------------

local password_hash = module:get_option_string("password_hash", "SHA-1");
local KEY_BYTES = { ["SHA-1"] = 20, ["SHA-256"] = 32 };

local function b64(text)
	text = text and text:gsub("%s", "");
	if not text or text == "" or not text:match("^[A-Za-z0-9+/]+=*$") then return nil; end
	return base64.decode(text);
end

-- The SCRAM set this server can use as it is: the one for its password_hash, stored by
-- mod_auth_internal_hashed (the default). Returns the accounts-store fields, or nil and why not.
local function usable_scram(sets)
	if #sets == 0 then return nil, "no SCRAM credentials in the data: created with a random password nobody knows; set a new one"; end
	local provider = hosts[host].users and hosts[host].users.name;
	if provider ~= "internal_hashed" then
		return nil, ("this host authenticates with %s, which keeps no SCRAM data xmppadm can write: created with a random password nobody knows; set a new one"):format(tostring(provider));
	end
	local wanted, others = "SCRAM-" .. password_hash, {};
	for _, set in ipairs(sets) do
		if set.attr.mechanism == wanted then
			local salt, server_key, stored_key = b64(set:get_child_text("salt")), b64(set:get_child_text("server-key")),
				b64(set:get_child_text("stored-key"));
			local iterations = tonumber(set:get_child_text("iter-count") or "");
			local bytes = KEY_BYTES[password_hash];
			if not (salt and server_key and stored_key and iterations and iterations >= 1
				and #server_key == bytes and #stored_key == bytes) then
				return nil, wanted .. " data is malformed (base64 salt and keys of the hash's size expected): created with a random password nobody knows; set a new one";
			end
			return { salt = salt, server_key = hex.encode(server_key), stored_key = hex.encode(stored_key),
				iteration_count = math.floor(iterations) };
		end
		others[#others + 1] = tostring(set.attr.mechanism);
	end
	return nil, ("SCRAM data for %s only, and this server stores %s (password_hash): created with a random password nobody knows; set a new one")
		:format(table.concat(others, ", "), wanted);
end

local function create_account(username, sets, report, dry_run)
	local scram, why = usable_scram(sets);
	if scram then report.imported("account"); else report.skipped("account", why, math.max(#sets, 1)); end
	if dry_run then return; end
	check("Could not create the account", usermanager.create_user(username, id.long(), host));
	if scram then
		local accounts = storagemanager.open(host, "accounts");
		local account = check("Could not read the account", accounts:get(username)) or {};
		for k, v in pairs(scram) do account[k] = v; end
		account.password, account.disabled = nil, nil;
		check("Could not store the credentials", accounts:set(username, account));
	end
end

--- Sections --------------------------------------------------------------------------------------
-- Each takes (ctx, element) where ctx = { username, own = { [bare jid] = true }, report, dry_run,
-- check_stored }, and counts what it does.

local handlers = {};
local function on(name, xmlns, section, f) handlers[name .. "\0" .. xmlns] = { section = section, run = f }; end

local function loaded(name) return modulemanager.is_loaded(host, name); end

local SUBSCRIPTIONS = { none = true, to = true, from = true, both = true };

on("query", "jabber:iq:roster", "roster", function (ctx, query)
	local roster = not ctx.dry_run and rostermanager.load_roster(ctx.username, host);
	local changed = {};
	for item in query:childtags("item", "jabber:iq:roster") do
		local contact = item.attr.jid and jid.prep(item.attr.jid);
		if not contact then
			ctx.report.skipped("roster", "an item without a valid JID");
		elseif ctx.own[jid.bare(contact)] then
			ctx.report.skipped("roster", "an item for the user's own JID");
		else
			if roster then
				local groups = {};
				for group in item:childtags("group") do groups[group:get_text()] = true; end
				roster[contact] = { subscription = SUBSCRIPTIONS[item.attr.subscription] and item.attr.subscription or "none",
					ask = item.attr.ask == "subscribe" and "subscribe" or nil, name = item.attr.name, groups = groups };
				changed[#changed + 1] = contact;
			end
			ctx.report.imported("roster");
		end
	end
	if roster and #changed > 0 then
		check("Could not store the roster", rostermanager.save_roster(ctx.username, host, roster));
		for _, contact in ipairs(changed) do rostermanager.roster_push(ctx.username, host, contact); end
	end
end);

on("presence", "jabber:client", "roster", function (ctx, presence)
	local from = presence.attr.from and jid.prep(jid.bare(presence.attr.from));
	if presence.attr.type ~= "subscribe" or not from then
		ctx.report.skipped("roster", "a presence that is not a pending subscription request");
		return;
	end
	if not ctx.dry_run then
		local roster = rostermanager.load_roster(ctx.username, host);
		roster[false].pending = roster[false].pending or {};
		roster[false].pending[from] = true;
		check("Could not store the roster", rostermanager.save_roster(ctx.username, host, roster));
	end
	ctx.report.imported("roster");
end);

local function pep_service(username)
	local pep = modulemanager.get_module(host, "pep");
	return pep and pep.get_pep_service and pep.get_pep_service(username);
end

on("vCard", "vcard-temp", "vcard", function (ctx, vcard)
	-- mod_vcard_legacy keeps vCards as vCard4 in PEP and converts a legacy one as it does at login.
	local legacy = modulemanager.get_module(host, "vcard_legacy");
	if legacy and legacy.vcard_to_pep and legacy.save_to_pep and loaded("pep") then
		if not ctx.dry_run then
			local vcard4, avatar = legacy.vcard_to_pep(st.clone(vcard));
			check("Could not store the vCard", legacy.save_to_pep(pep_service(ctx.username), true, vcard4, avatar));
		end
	elseif loaded("vcard") then
		if not ctx.dry_run then
			check("Could not store the vCard", storagemanager.open(host, "vcard"):set(ctx.username, st.preserialize(vcard)));
		end
	else
		ctx.report.skipped("vcard", "no vCard module (mod_vcard or mod_vcard_legacy) is loaded on " .. host);
		return;
	end
	ctx.report.imported("vcard");
end);

on("query", "jabber:iq:private", "private", function (ctx, query)
	local store = storagemanager.open(host, "private", "map");
	for _, el in ipairs(query.tags) do
		if not ctx.dry_run then
			check("Could not store private XML", store:set(ctx.username, el.name .. ":" .. el.attr.xmlns, st.preserialize(el)));
		end
		ctx.report.imported("private");
	end
end);

-- A copy as stanzas from a client's stream are kept: jabber:client is the stream's namespace,
-- not written on the elements (else they would be delivered with xmlns='jabber:client').
local function as_stored(stanza)
	local copy = st.clone(stanza);
	local function strip(el)
		if el.attr.xmlns == "jabber:client" then el.attr.xmlns = nil; end
		for _, child in ipairs(el.tags) do strip(child); end
	end
	strip(copy);
	return copy;
end

-- The storage time an export gave an offline message (its "Offline Storage" delay, removed: the
-- server adds its own when it delivers the message), and the message as it is stored.
local function offline_copy(message, to)
	local copy, when = as_stored(message), nil;
	copy:maptags(function (tag)
		if tag.name == "delay" and tag.attr.xmlns == xmlns_delay and tag:get_text():match("^%s*(.-)%s*$"):lower() == "offline storage" then
			when = datetime.parse(tag.attr.stamp or "");
			return nil;
		end
		return tag;
	end);
	copy.attr.to = to;
	return copy, math.floor(when or os.time());
end

-- What makes a stored message the same as one being imported (a re-run): sender, time to the
-- second, id and body.
local function message_key(stanza, when)
	return table.concat({ jid.bare(stanza.attr.from or "") or "", ("%d"):format(math.floor(when)),
		stanza.attr.id or "", stanza:get_child_text("body") or "" }, "\0");
end

-- The keys of what an archive store holds for the user, read once per request, and only when
-- stored copies can exist: the account existed before this request and the request is not a
-- later part of an import that created it (`fresh`).
local function stored_keys(ctx, store, what)
	if not ctx.check_stored then return nil; end
	local keys = {};
	for _, stanza, when in check("Could not read " .. what, store:find(ctx.username)) do
		local message = stanza.name == "message" and stanza or stanza:get_child("message") or stanza;
		keys[message_key(message, when)] = true;
	end
	return keys;
end

-- A store full for this user (Prosody's archive_item_limit): the item is skipped, saying so.
local function appended(ctx, section, ok, err)
	if ok then ctx.report.imported(section); return; end
	if err == "quota-limit" then
		ctx.report.skipped(section, "the user's store on " .. host .. " is full (archive_item_limit)");
		return;
	end
	check("Could not store a message", ok, err or "unknown error");
end

on("offline-messages", xmlns_pie, "offline", function (ctx, container)
	if not loaded("offline") then
		for _ in ipairs(container.tags) do ctx.report.skipped("offline", "mod_offline is not loaded on " .. host); end
		return;
	end
	local store = module:open_store("offline", "archive");
	local stored = stored_keys(ctx, store, "offline messages");
	for i, message in ipairs(container.tags) do
		if message.name ~= "message" or message.attr.xmlns ~= "jabber:client" then
			ctx.report.skipped("offline", "not a jabber:client <message/>");
		else
			local copy, when = offline_copy(message, jid.join(ctx.username, host));
			local key = message_key(copy, when);
			if stored and stored[key] then
				ctx.report.skipped("offline", "already there");
			elseif ctx.dry_run then
				ctx.report.imported("offline");
			else
				appended(ctx, "offline", store:append(ctx.username, nil, copy, when, ""));
				if stored then stored[key] = true; end
			end
		end
		if i % 50 == 0 then common.pause(); end
	end
end);

local archive_store = module:get_option_string("archive_store", "archive");

-- Archived messages get new archive ids (appending with the old one makes Prosody's internal
-- storage rewrite the whole archive for every message); a re-run finds them by their content.
on("archive", xmlns_pie .. "#mam", "mam", function (ctx, container)
	if not loaded("mam") then
		for _ in ipairs(container.tags) do ctx.report.skipped("mam", "mod_mam is not loaded on " .. host); end
		return;
	end
	local store = module:open_store(archive_store, "archive");
	local stored = stored_keys(ctx, store, "the archive");
	for i, result in ipairs(container.tags) do
		local forwarded = result:get_child("forwarded", "urn:xmpp:forward:0");
		local message = forwarded and forwarded:get_child("message", "jabber:client");
		local delay = forwarded and forwarded:get_child("delay", xmlns_delay);
		local when = delay and datetime.parse(delay.attr.stamp or "");
		if result.name ~= "result" or not message or not when then
			ctx.report.skipped("mam", "not a <result/> with a forwarded message and its time");
		else
			local key = message_key(message, when);
			if stored and stored[key] then
				ctx.report.skipped("mam", "already there");
			elseif ctx.dry_run then
				ctx.report.imported("mam");
			else
				local copy = as_stored(message);
				local to, from = jid.bare(copy.attr.to or ""), jid.bare(copy.attr.from or "");
				local with = ctx.own[to] and from or to;
				appended(ctx, "mam", store:append(ctx.username, nil, copy, when, with));
				if stored then stored[key] = true; end
			end
		end
		if i % 50 == 0 then common.pause(); end
	end
end);

on("blocklist", "urn:xmpp:blocking", "blocklist", function (ctx, container)
	local store = storagemanager.open(host, "blocklist");
	local list = not ctx.dry_run and (check("Could not read the blocklist", store:get(ctx.username)) or { [false] = { created = os.time() } });
	local any = false;
	for _, item in ipairs(container.tags) do
		local blocked = item.name == "item" and item.attr.jid and jid.prep(item.attr.jid);
		if not blocked then
			ctx.report.skipped("blocklist", "an item without a valid JID");
		else
			if list then list[blocked] = os.time(); any = true; end
			ctx.report.imported("blocklist");
		end
	end
	-- mod_blocklist keeps recently used lists in memory: an account that was in use since the
	-- server started sees additions made here only after a restart (they are stored).
	if any then check("Could not store the blocklist", store:set(ctx.username, list)); end
end);

on("query", "jabber:iq:privacy", "privacy", function (ctx, query)
	for _ in ipairs(query.tags) do
		ctx.report.skipped("privacy", "Prosody keeps no privacy lists (XEP-0016); the blocklist carries the blocked JIDs");
	end
end);

-- PEP: nodes are created with their configuration before items are published to them.
local function pep_node(ctx, service, node, config)
	if service.nodes[node] then
		if config and not ctx.dry_run then service:set_node_config(node, true, config); end
		return true;
	end
	if ctx.dry_run then return true; end
	local ok, err = service:create(node, true, config);
	if not ok and err == "conflict" then return true; end
	return ok, err;
end

on("pubsub", xmlns_pubsub_owner, "pep", function (ctx, container)
	local service = loaded("pep") and pep_service(ctx.username);
	for _, el in ipairs(container.tags) do
		local node = el.attr.node;
		if not service then
			ctx.report.skipped("pep", "mod_pep is not loaded on " .. host);
		elseif not node then
			ctx.report.skipped("pep", "an element without a node");
		elseif el.name == "configure" then
			local form = el:get_child("x", "jabber:x:data");
			local config = form and node_config_form:data(form) or nil; -- unknown fields are left out
			local ok, err = pep_node(ctx, service, node, config);
			if ok then ctx.report.imported("pep"); else ctx.report.skipped("pep", "node " .. node .. ": " .. tostring(err)); end
		elseif el.name == "affiliations" or el.name == "subscriptions" then
			local ok, err = pep_node(ctx, service, node, nil);
			if ok and not ctx.dry_run then
				for _, child in ipairs(el.tags) do
					local who = child.attr.jid and jid.prep(child.attr.jid);
					if who and child.name == "affiliation" and child.attr.affiliation then
						service:set_affiliation(node, true, who, child.attr.affiliation);
					elseif who and child.name == "subscription" and child.attr.subscription == "subscribed" then
						service:add_subscription(node, true, who);
					end
				end
			end
			if ok then ctx.report.imported("pep"); else ctx.report.skipped("pep", "node " .. node .. ": " .. tostring(err)); end
		else
			ctx.report.skipped("pep", ("{%s}%s"):format(tostring(el.attr.xmlns), el.name));
		end
	end
end);

on("pubsub", xmlns_pubsub, "pep", function (ctx, container)
	local service = loaded("pep") and pep_service(ctx.username);
	for _, items in ipairs(container.tags) do
		local node = items.attr.node;
		for _, item in ipairs(items.tags) do
			if not service then
				ctx.report.skipped("pep", "mod_pep is not loaded on " .. host);
			elseif items.name ~= "items" or not node or item.name ~= "item" or not item.tags[1] then
				ctx.report.skipped("pep", "not an <item/> with a payload in <items node/>");
			else
				local ok, err = pep_node(ctx, service, node, nil);
				if ok and not ctx.dry_run then
					local copy = st.clone(item);
					copy.attr.xmlns, copy.attr.publisher = xmlns_pubsub, nil;
					ok, err = service:publish(node, true, item.attr.id or id.medium(), copy);
				end
				if ok then ctx.report.imported("pep"); else ctx.report.skipped("pep", "node " .. node .. ": " .. tostring(err)); end
			end
		end
	end
end);

on("upload", xmlns_adm, "uploads", function (ctx)
	ctx.report.skipped("uploads", "uploaded files stay with the old provider (the export lists their URLs)");
end);
on("query", "jabber:iq:last", "last", function (ctx)
	ctx.report.skipped("last", "last activity describes the old server");
end);
on("missing", xmlns_adm, "other", function (ctx, el)
	ctx.report.skipped("other", ("not in the export: %s: %s"):format(tostring(el.attr.section), el:get_text()));
end);
on("account", xmlns_adm, "account", function () end); -- facts about the old account, for people
on("scram-credentials", xmlns_scram, "account", function () end); -- read with the account

--- The command -----------------------------------------------------------------------------------

-- The account a request imports into: accountjid, else <user name> on this host.
local function account_of(fields, user)
	local username, user_host;
	if fields.accountjid and fields.accountjid ~= "" then
		username, user_host = jid.split(fields.accountjid);
		if not username or user_host ~= host then
			bad_request("accountjid: '%s' is not a JID of a user on %s", fields.accountjid, host);
		end
	else
		local prepped = user.attr.name and jid.prep(user.attr.name .. "@" .. host);
		username = prepped and jid.split(prepped);
		if not username then bad_request("no accountjid, and <user/> has no valid name ('%s')", tostring(user.attr.name)); end
	end
	return username;
end

function M.run(fields, data)
	local users = data.form and pending[data.form] or {};
	if #users ~= 1 then
		bad_request(#users == 0 and "no <user xmlns='urn:xmpp:pie:0'/> next to the form"
			or "more than one <user xmlns='urn:xmpp:pie:0'/> next to the form");
	end
	local user = users[1];
	local username = account_of(fields, user);
	local account = jid.join(username, host);
	local existed = usermanager.user_exists(username, host);
	if existed and not fields.merge then
		fail("cancel", "conflict", ("User %s exists; set merge to import into it"):format(account));
	end
	local report = new_report();
	local own = { [account] = true };
	if fields.source and fields.source ~= "" then own[jid.bare(fields.source)] = true; end
	local ctx = { username = username, own = own, report = report, dry_run = fields["dry-run"],
		check_stored = existed and not fields.fresh };

	local sets = {};
	for set in user:childtags("scram-credentials", xmlns_scram) do sets[#sets + 1] = set; end
	if not existed then
		create_account(username, sets, report, ctx.dry_run);
	elseif #sets > 0 then
		report.skipped("account", "the account exists: its credentials are kept", #sets);
	end
	for _, el in ipairs(user.tags) do
		local handler = handlers[el.name .. "\0" .. tostring(el.attr.xmlns)];
		if handler then
			handler.run(ctx, el);
		else
			report.skipped("other", ("{%s}%s is not part of what xmppadm imports"):format(tostring(el.attr.xmlns), el.name));
		end
		common.pause();
	end
	return result_form(account, not existed, ctx.dry_run, report);
end

return M;
