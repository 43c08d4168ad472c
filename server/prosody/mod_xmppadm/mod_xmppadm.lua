-- mod_xmppadm: the xmppadm node contract (urn:xmppadm:admin:1, server/CONTRACT.md) for
-- Prosody 0.12 and 13: ad-hoc commands for host admins to block client IP addresses, purge old
-- offline messages and uploads, export one user's data (XEP-0227) and import it elsewhere,
-- switch debug logging on for a while, and tell what of this works here (#about).
--
-- Load it on a VirtualHost: plugin_paths = { ".../server/prosody" }, modules_enabled = { "xmppadm" }.
--
-- Shaped like Prosody's own mod_admin_adhoc: each command is a util.dataforms layout and a
-- small handler given to util.adhoc through mod_adhoc, which lists them and checks that the
-- requester is an admin. The work is in the libraries next to this file:
--   common.lib.lua    library names of both versions, failures, values, the command shape
--   blocking.lib.lua  blocked ranges, exemptions, refusing streams, closing sessions
--   purges.lib.lua    offline messages and uploads by age; a deleted user's uploads
--   uploads.lib.lua   mod_http_file_share's services, records and files
--   export.lib.lua    XEP-0227 sections and pages; last activity
--   import.lib.lua    a XEP-0227 <user/> onto this host, section by section
--   debuglog.lib.lua  the debug log sink and its file
--   disabling.lib.lua disabled accounts, and refusing their logins where Prosody cannot
--   accounts.lib.lua  the accounts with their last activity
--   stored.lib.lua    what the server still holds about a user
--   reported.lib.lua  result forms with a table
-- Module hooks: export.lib.lua sets module.save/restore, debuglog.lib.lua module.unload.

local common = module:require "common";
local blocking = module:require "blocking";
local purges = module:require "purges";
local export = module:require "export";
local import = module:require "import";
local debuglog = module:require "debuglog";
local disabling = module:require "disabling";
local accounts = module:require "accounts";
local stored = module:require "stored";
local st = common.lib "util.stanza";
local usermanager = common.lib "core.usermanager";
local modulemanager = common.lib "core.modulemanager";

module:depends("adhoc");
local adhoc_new = module:require "adhoc".new;

local host = module.host;
local xmlns_adm = common.xmlns;
local form, int, iso = common.form, common.int, common.iso;

local MODULE_VERSION = "3"; -- the contract revision implemented here

--- #block-ip, #list-blocked-ips, #unblock-ip --------------------------------------------

local block_layout = form("Block client IP addresses", {
	{ name = "addresses", type = "text-multi", required = true,
		label = "IPv4/IPv6 addresses or CIDR ranges, one per line" };
	{ name = "expires", type = "text-single", label = "Block for this many seconds (empty or 0: forever)" };
	{ name = "reason", type = "text-single", label = "Reason" };
});
local block_result = form("Blocked", {
	{ name = "blocked", type = "text-multi", label = "Blocked ranges" };
	{ name = "sessions-closed", type = "text-single", label = "Sessions closed" };
	{ name = "exempt", type = "text-multi", label = "Exempt addresses the blocks do not apply to" };
});
local block_handler = common.handler(block_layout, function (fields)
	local list = blocking.parse_addresses(fields.addresses);
	local expires = common.seconds(fields, "expires", 0);
	local closed, exempt = blocking.block(list, expires, fields.reason ~= "" and fields.reason or nil);
	return { result = { layout = block_result, values = {
		blocked = table.concat(list, "\n"), ["sessions-closed"] = int(closed), exempt = table.concat(exempt, "\n");
	} } };
end);

local list_layout = form("List blocked client IP addresses", {});
local list_handler = common.handler(list_layout, function ()
	local current = blocking.active();
	local x = st.stanza("x", { xmlns = "jabber:x:data", type = "result" })
		:text_tag("title", "Blocked client IP addresses")
		:tag("field", { var = "FORM_TYPE", type = "hidden" }):text_tag("value", xmlns_adm):up()
		:tag("reported")
			:tag("field", { var = "address", label = "Address", type = "text-single" }):up()
			:tag("field", { var = "expires", label = "Expires", type = "text-single" }):up()
			:tag("field", { var = "reason", label = "Reason", type = "text-single" }):up()
			:tag("field", { var = "created", label = "Created", type = "text-single" }):up()
		:up();
	for _, cidr in ipairs(common.sorted_keys(current)) do
		local b = current[cidr];
		x:tag("item");
		for _, cell in ipairs({ { "address", cidr }, { "expires", iso(b.expires) }, { "reason", b.reason or "" },
			{ "created", iso(b.created) } }) do
			x:tag("field", { var = cell[1] }):text_tag("value", cell[2]):up();
		end
		x:up();
	end
	return { other = x }; -- a table: util.dataforms layouts have no <reported/>
end);

local unblock_layout = form("Unblock client IP addresses", {
	{ name = "addresses", type = "text-multi", required = true, label = "Blocked addresses or CIDR ranges, one per line" };
});
local unblock_result = form("Unblocked", {
	{ name = "removed", type = "text-multi", label = "Removed" };
	{ name = "not-found", type = "text-multi", label = "Not blocked" };
});
local unblock_handler = common.handler(unblock_layout, function (fields)
	local removed, missing = blocking.unblock(blocking.parse_addresses(fields.addresses));
	return { result = { layout = unblock_result, values = {
		removed = table.concat(removed, "\n"), ["not-found"] = table.concat(missing, "\n");
	} } };
end);

--- #purge-offline, #purge-uploads ----------------------------------------------------------

-- Paged (CONTRACT.md 1, "Long operations"): each request does about a second of work and says
-- where the next page starts; the counts are this page's.
local paging_results = {
	{ name = "more", type = "boolean", label = "More pages follow" };
	{ name = "next", type = "text-single", label = "Cursor for the next page" };
	{ name = "scanned", type = "text-single", label = "Walked so far in this run" };
	{ name = "total", type = "text-single", label = "To walk in this run" };
};
local function with_paging(fields)
	for _, field in ipairs(paging_results) do fields[#fields + 1] = field; end
	return fields;
end
local function after_of(fields)
	return fields.after ~= nil and fields.after ~= "" and fields.after or nil;
end

local purge_offline_layout = form("Purge old offline messages", {
	{ name = "older-than", type = "text-single", required = true, label = "Delete messages older than (seconds)" };
	{ name = "dry-run", type = "boolean", label = "Only count, delete nothing" };
	{ name = "after", type = "text-single", label = "Cursor from the previous page" };
});
local purge_offline_result = form("Offline messages purged", with_paging({
	{ name = "count", type = "text-single", label = "Messages" };
	{ name = "users", type = "text-single", label = "Users" };
}));
local purge_offline_handler = common.handler(purge_offline_layout, function (fields)
	local values = purges.offline_page(common.required_seconds(fields, "older-than"), fields["dry-run"], after_of(fields));
	return { result = { layout = purge_offline_result, values = values } };
end);

local purge_uploads_layout = form("Purge old HTTP uploads", {
	{ name = "older-than", type = "text-single", required = true, label = "Delete uploads older than (seconds)" };
	{ name = "dry-run", type = "boolean", label = "Only count, delete nothing" };
	{ name = "after", type = "text-single", label = "Cursor from the previous page" };
});
local purge_uploads_result = form("Uploads purged", with_paging({
	{ name = "count", type = "text-single", label = "Files" };
	{ name = "bytes", type = "text-single", label = "Bytes" };
	{ name = "hosts", type = "text-multi", label = "Upload services" };
}));
local purge_uploads_handler = common.handler(purge_uploads_layout, function (fields)
	local values = purges.uploads_page(common.required_seconds(fields, "older-than"), fields["dry-run"], after_of(fields));
	return { result = { layout = purge_uploads_result, values = values } };
end);

--- #export-user -------------------------------------------------------------------------------

local export_layout = form("Export a user's data (XEP-0227)", {
	{ name = "accountjid", type = "jid-single", required = true, label = "The Jabber ID of the account" };
	{ name = "include-credentials", type = "boolean", value = false, label = "Include SCRAM credentials" };
	{ name = "section", type = "list-single", required = true, label = "Section", options = export.sections };
	{ name = "after", type = "text-single", label = "Cursor from the previous page" };
	{ name = "max", type = "text-single", value = tostring(export.DEFAULT_PAGE),
		label = "Items per page (max " .. export.MAX_PAGE .. ")" };
});
local export_result = form("Export", {
	{ name = "section", type = "text-single", label = "Section" };
	{ name = "more", type = "boolean", label = "More pages follow" };
	{ name = "next", type = "text-single", label = "Cursor for the next page" };
	{ name = "count", type = "text-single", label = "Items in this page" };
});
local export_handler = common.handler(export_layout, function (fields)
	local values, user = export.page(fields);
	return { result = { layout = export_result, values = values }, other = user };
end);

--- #import-user -------------------------------------------------------------------------------

local import_layout = form("Import a user's data (XEP-0227)", {
	{ name = "accountjid", type = "jid-single", label = "The account to import into (default: the name in the data)" };
	{ name = "merge", type = "boolean", value = false, label = "Import into an existing account" };
	{ name = "dry-run", type = "boolean", value = false, label = "Only say what would be imported" };
	{ name = "source", type = "jid-single", label = "The JID the data was exported from" };
	{ name = "fresh", type = "boolean", value = false, label = "A later part of an import that created the account" };
});
local import_handler = common.handler(import_layout, function (fields, data)
	return { other = import.run(fields, data) }; -- a table: util.dataforms layouts have no <reported/>
end);

--- #debug-log --------------------------------------------------------------------------------

local debug_layout = form("Debug logging", {
	{ name = "action", type = "list-single", required = true, label = "Action", options = { "on", "off", "status" } };
	{ name = "duration", type = "text-single", label = "Turn off after this many seconds (with on)" };
});
local debug_result = form("Debug logging", {
	{ name = "active", type = "boolean", label = "Debug logging active" };
	{ name = "file", type = "text-single", label = "Debug log file" };
	{ name = "expires", type = "text-single", label = "Turns off at" };
	{ name = "previous", type = "boolean", label = "Was active before" };
});
local debug_handler = common.handler(debug_layout, function (fields)
	local action = fields.action;
	if action ~= "on" and action ~= "off" and action ~= "status" then
		common.bad_request("action: must be on, off or status, got '%s'", action);
	end
	local previous = debuglog.status();
	if action == "on" then
		debuglog.on(common.seconds(fields, "duration", 1));
	elseif action == "off" then
		debuglog.off();
	end
	local active, expires = debuglog.status();
	return { result = { layout = debug_result, values = {
		active = active, file = debuglog.file, expires = iso(expires), previous = previous;
	} } };
end);

--- The commands, and which of them can work here ----------------------------------------------
-- `unavailable` says why a command cannot work on this host, or nil. Such a command is not
-- offered (so mod_adhoc neither lists nor runs it); #about says why, and executing it anyway
-- answers feature-not-implemented with that reason (below).

local operations = {
	{ name = "block-ip", title = "Block client IP addresses", handler = block_handler };
	{ name = "list-blocked-ips", title = "List blocked client IP addresses", handler = list_handler };
	{ name = "unblock-ip", title = "Unblock client IP addresses", handler = unblock_handler };
	{ name = "purge-offline", title = "Purge old offline messages", handler = purge_offline_handler };
	{ name = "purge-uploads", title = "Purge old HTTP uploads", handler = purge_uploads_handler,
		unavailable = purges.uploads_unavailable };
	{ name = "export-user", title = "Export a user's data (XEP-0227)", handler = export_handler };
	{ name = "debug-log", title = "Debug logging", handler = debug_handler };
	{ name = "import-user", title = "Import a user's data (XEP-0227)", handler = import_handler };
};
for _, lib in ipairs({ disabling, accounts, stored }) do -- CONTRACT.md 11-13
	for _, op in ipairs(lib.operations) do operations[#operations + 1] = op; end
end
for _, op in ipairs(operations) do
	op.node = xmlns_adm .. "#" .. op.name;
	op.command = adhoc_new(op.title, op.node, op.handler, "admin");
end

local function why_unavailable(op)
	return op.unavailable and op.unavailable() or nil;
end

-- The virtual hosts where the requester may use this module: it is loaded there and they are
-- an admin there (global admins: every host). This host is one of them (the request passed).
local function admin_hosts(actor)
	local list = {};
	for h, session in pairs(prosody.hosts) do
		if session.type == "local" and modulemanager.is_loaded(h, module.name)
		and (h == host or common.is_admin_of(h, actor, "adhoc:" .. xmlns_adm .. "#about")) then
			list[#list + 1] = h;
		end
	end
	table.sort(list);
	return list;
end

local about_layout = form("About mod_xmppadm", {});
local about_handler = common.handler(about_layout, function (_, data)
	local x = st.stanza("x", { xmlns = "jabber:x:data", type = "result" })
		:text_tag("title", "About mod_xmppadm")
		:tag("field", { var = "FORM_TYPE", type = "hidden" }):text_tag("value", xmlns_adm):up()
		:tag("field", { var = "module-version", type = "text-single", label = "Contract revision" })
			:text_tag("value", MODULE_VERSION):up()
		:tag("field", { var = "server", type = "text-single", label = "Server" })
			:text_tag("value", "Prosody " .. tostring(prosody.version)):up()
		:tag("field", { var = "hosts", type = "jid-multi", label = "Hosts you administer with this module" });
	for _, h in ipairs(admin_hosts(data.from)) do x:text_tag("value", h); end
	x:up()
		:tag("reported")
			:tag("field", { var = "node", type = "text-single", label = "Command" }):up()
			:tag("field", { var = "available", type = "boolean", label = "Available" }):up()
			:tag("field", { var = "reason", type = "text-single", label = "Why not" }):up()
		:up();
	for _, op in ipairs(operations) do
		local reason = why_unavailable(op);
		x:tag("item")
			:tag("field", { var = "node" }):text_tag("value", op.node):up()
			:tag("field", { var = "available" }):text_tag("value", reason and "0" or "1"):up()
			:tag("field", { var = "reason" }):text_tag("value", reason or ""):up()
		:up();
	end
	return { other = x };
end);

-- What can work changes as modules (mod_http_file_share) come and go on any host, so it is
-- looked at again whenever the command list is asked for or one of these commands runs.
local offered = {};
local function update_offers()
	for _, op in ipairs(operations) do
		local available = not why_unavailable(op);
		if available and not offered[op] then
			module:provides("adhoc", op.command);
		elseif not available and offered[op] then
			module:remove_item("adhoc-provider", op.command);
		end
		offered[op] = available;
	end
end
module:hook("host-disco-items-node", function (event)
	if event.node == "http://jabber.org/protocol/commands" then update_offers(); end
end, 10); -- before mod_adhoc lists the commands
module:hook("iq-set/host/http://jabber.org/protocol/commands:command", function (event)
	local node = event.stanza.tags[1].attr.node;
	if node and node:sub(1, #xmlns_adm + 1) == xmlns_adm .. "#" then update_offers(); end
end, 600); -- before mod_adhoc runs it

-- Executing a command that is not offered: forbidden for non-admins, as for offered ones
-- (roles on 13, the admins list on 0.12), otherwise the reason it cannot work here.
local function is_admin(event, node)
	if module.may then return module:may("adhoc:" .. node, event); end
	return usermanager.is_admin(event.stanza.attr.from, host);
end
module:hook("iq-set/host/http://jabber.org/protocol/commands:command", function (event)
	local node = event.stanza.tags[1].attr.node;
	for _, op in ipairs(operations) do
		if op.node == node and not offered[op] then
			if not is_admin(event, node) then
				event.origin.send(st.error_reply(event.stanza, "auth", "forbidden", "You don't have permission to execute this command"));
			else
				event.origin.send(st.error_reply(event.stanza, "cancel", "feature-not-implemented",
					why_unavailable(op) or "Not available on this host"));
			end
			return true;
		end
	end
end, 100); -- after mod_adhoc (500), which answers every offered command

module:provides("adhoc", adhoc_new("About mod_xmppadm", xmlns_adm .. "#about", about_handler, "admin"));
update_offers();
