-- Disabling and enabling accounts (server/CONTRACT.md 11), and refusing a disabled account's
-- logins where Prosody cannot. mod_xmppadm.lua offers M.operations.
--
-- Prosody's own mechanism where the auth provider has one (13: usermanager.disable_user, which
-- mod_c2s follows by closing the sessions). Where it has none (0.12), the module keeps the
-- disabled accounts in its store `xmppadm_disabled` and refuses their logins itself, the way 13
-- does: the SASL profile reports the account as disabled, so util.sasl answers
-- <account-disabled/>.

local common = module:require "common";
local jid = common.lib "util.jid";
local usermanager = common.lib "core.usermanager";
local form, int, bad_request, fail, check = common.form, common.int, common.bad_request, common.fail, common.check;

local unpack = table.unpack or unpack; -- luacheck: ignore 143
local host = module.host;
local hosts = prosody.hosts;
local M = {};

--- Accounts named in a request ---------------------------------------------------------------

-- The user names of `list` (JIDs), all on this host and existing, or bad-request /
-- item-not-found naming them; nothing is done unless every one is fine.
local function usernames(list, field)
	local names, missing = {}, {};
	for _, text in ipairs(list) do
		local username, user_host = jid.prepped_split(text);
		if not username or user_host ~= host then
			bad_request("%s: '%s' is not a JID of a user on %s", field, text, host);
		end
		names[#names + 1] = username;
		if not usermanager.user_exists(username, host) then missing[#missing + 1] = text; end
	end
	if #names == 0 then bad_request("%s: Required value missing", field); end
	if #missing > 0 then
		fail("cancel", "item-not-found", ("No such user: %s"):format(table.concat(missing, ", ")));
	end
	return names;
end

local function live_sessions(username)
	local user = hosts[host].sessions[username];
	local list = {};
	for _, session in pairs(user and user.sessions or {}) do list[#list + 1] = session; end
	return list;
end

--- Disabled accounts ---------------------------------------------------------------------------

local disabled_store = common.private_store("xmppadm_disabled"); -- where the provider cannot disable

local function native()
	return usermanager.disable_user ~= nil and hosts[host].users ~= nil and hosts[host].users.disable ~= nil;
end

local function is_disabled(username)
	if native() then return usermanager.user_is_enabled(username, host) == false; end
	return check("Could not read disabled accounts", disabled_store:get(username)) ~= nil;
end

-- Disables an account: true if it was enabled, and the number of live sessions closed.
local function disable(username, reason, by)
	if is_disabled(username) then return false, 0; end
	local sessions = live_sessions(username);
	local meta = { reason = "xmppadm", comment = reason, when = os.time(), by = by };
	if native() then
		-- mod_c2s closes the sessions on user-disabled (13)
		local ok, err = usermanager.disable_user(username, host, meta);
		if not ok then fail("wait", "internal-server-error", "Could not disable the account: " .. tostring(err)); end
	else
		check("Could not store the disabled account", disabled_store:set(username, meta));
		for _, session in ipairs(sessions) do
			session:close({ condition = "not-authorized", text = "Account disabled" });
		end
	end
	return true, #sessions;
end

local function enable(username)
	if not is_disabled(username) then return false; end
	if native() then
		local ok, err = usermanager.enable_user(username, host);
		if not ok then fail("wait", "internal-server-error", "Could not enable the account: " .. tostring(err)); end
	else
		check("Could not store the enabled account", disabled_store:set(username, nil));
	end
	return true;
end

-- Refusing a disabled account's login where the provider cannot: its SASL profile (each
-- session gets a handler of its own) says "disabled" for it, as 13's internal_hashed does, and
-- util.sasl answers <account-disabled/> (PLAIN and SCRAM; also after a failed attempt, which
-- clones the handler with this profile).
local function pack(...) return { n = select("#", ...), ... }; end
local STATE_AT = { plain = 2, plain_test = 2 }; -- SCRAM profiles: the 5th value
local function guarded_profile(profile)
	local copy = {};
	for name, value in pairs(profile) do
		local at = STATE_AT[name] or (type(name) == "string" and name:match("^scram_") and 5);
		if type(value) == "function" and at then
			copy[name] = function (sasl, username, ...)
				local ret = pack(value(sasl, username, ...));
				if ret[at] ~= nil and username and is_disabled(username) then ret[at] = false; end
				return unpack(ret, 1, ret.n);
			end;
		else
			copy[name] = value;
		end
	end
	copy.xmppadm_guarded = true;
	return copy;
end

module:hook("stanza/urn:ietf:params:xml:ns:xmpp-sasl:auth", function (event)
	local session = event.origin;
	if session.type ~= "c2s_unauthed" or native() then return; end
	-- as mod_saslauth does next (priority 0): a fresh handler unless one is waiting unused
	if not session.sasl_handler or session.sasl_handler.selected then
		session.sasl_handler = usermanager.get_sasl_handler(host, session);
	end
	local handler = session.sasl_handler;
	if handler and handler.profile and not handler.profile.xmppadm_guarded then
		handler.profile = guarded_profile(handler.profile);
	end
end, 10);

-- Any other way in (a legacy or token login) still ends at binding a resource.
module:hook("resource-bind", function (event)
	local session = event.session;
	if session.username and not native() and is_disabled(session.username) then
		session:close({ condition = "not-authorized", text = "Account disabled" });
	end
end, 1000);

--- #disable-user, #enable-user -----------------------------------------------------------------

local disable_layout = form("Disable accounts", {
	{ name = "accountjids", type = "jid-multi", required = true, label = "The accounts to disable" };
	{ name = "reason", type = "text-single", label = "Reason (kept with the account)" };
});
local disable_result = form("Accounts disabled", {
	{ name = "disabled", type = "jid-multi", label = "Disabled now" };
	{ name = "already", type = "jid-multi", label = "Were disabled already" };
	{ name = "sessions-closed", type = "text-single", label = "Live sessions closed" };
});
local disable_handler = common.handler(disable_layout, function (fields, data)
	local names = usernames(fields.accountjids or {}, "accountjids");
	local reason = fields.reason ~= "" and fields.reason or nil;
	local done, already, closed = {}, {}, 0;
	for _, username in ipairs(names) do
		local changed, n = disable(username, reason, data and data.from and jid.bare(data.from));
		table.insert(changed and done or already, jid.join(username, host));
		closed = closed + n;
	end
	return { result = { layout = disable_result, values = {
		disabled = done, already = already, ["sessions-closed"] = int(closed);
	} } };
end);

local enable_layout = form("Enable accounts", {
	{ name = "accountjids", type = "jid-multi", required = true, label = "The accounts to enable" };
});
local enable_result = form("Accounts enabled", {
	{ name = "enabled", type = "jid-multi", label = "Enabled now" };
	{ name = "already", type = "jid-multi", label = "Were not disabled" };
});
local enable_handler = common.handler(enable_layout, function (fields)
	local done, already = {}, {};
	for _, username in ipairs(usernames(fields.accountjids or {}, "accountjids")) do
		table.insert(enable(username) and done or already, jid.join(username, host));
	end
	return { result = { layout = enable_result, values = { enabled = done, already = already } } };
end);

M.operations = {
	{ name = "disable-user", title = "Disable accounts", handler = disable_handler };
	{ name = "enable-user", title = "Enable accounts", handler = enable_handler };
};

return M;
