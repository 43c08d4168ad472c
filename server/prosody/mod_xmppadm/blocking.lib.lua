-- Blocking client IP addresses (server/CONTRACT.md 2-4): the ranges, their store, the check on
-- every new client stream, closing live sessions, and the exempt addresses no block applies to.
-- Addresses are parsed and matched with Prosody's util.ip.

local common = module:require "common";
local ip = common.lib "util.ip";
local net = common.lib "util.net";
local bad_request, fail = common.bad_request, common.fail;

local host = module.host;
local hosts = prosody.hosts;

--- Ranges --------------------------------------------------------------------

local v4mapped = ip.new_ip("::ffff:0:0");

-- An IPv4-mapped IPv6 address (prefix >= 96) as the IPv4 address it is.
local function unmap(addr, bits)
	if addr.proto == "IPv6" and (bits or 128) >= 96 and ip.match(addr, v4mapped, 96) then
		return ip.new_ip(net.ntop(addr.packed:sub(13))), bits and bits - 96;
	end
	return addr, bits;
end

-- The network address: host bits zeroed (util.ip has no such function on 0.12, and 13's
-- ip.truncate() takes whole octets only).
local function network(addr, bits)
	local bytes = {};
	for i = 1, #addr.packed do
		local keep, b = bits - (i - 1) * 8, addr.packed:byte(i);
		if keep <= 0 then
			b = 0;
		elseif keep < 8 then
			local unit = 2 ^ (8 - keep);
			b = math.floor(b / unit) * unit;
		end
		bytes[i] = string.char(b);
	end
	return ip.new_ip(net.ntop(table.concat(bytes)));
end

-- "addr" or "addr/bits" -> normalised "net/bits", the network as a util.ip object, bits; or nil.
local function parse_range(s)
	if s:find("%", 1, true) then return nil; end -- a zone id names an interface, not a client
	local addr, bits = s:match("^([^/]+)/(%d+)$");
	if not addr then addr = s:match("^[^/]+$"); end
	addr = addr and ip.new_ip(addr);
	if not addr then return nil; end
	local max = addr.proto == "IPv4" and 32 or 128;
	bits = tonumber(bits) or max;
	if bits > max then return nil; end
	addr, bits = unmap(addr, bits);
	addr = network(addr, bits);
	return addr.normal .. "/" .. bits, addr, bits;
end

-- A range only covers addresses of its own family (IPv4 clients are unmapped first).
local function covers(range, bits, addr)
	return addr.proto == range.proto and ip.match(addr, range, bits);
end

local ranges = {}; -- cache: "net/bits" -> { addr, bits }
local function range_of(cidr)
	local r = ranges[cidr];
	if not r then
		local _, addr, bits = parse_range(cidr);
		r = { addr, bits };
		ranges[cidr] = r;
	end
	return r;
end

local M = {};

-- The `addresses` field as normalised ranges, in order, without duplicates.
function M.parse_addresses(text)
	local list, seen = {}, {};
	for _, value in ipairs(common.lines(text)) do
		local cidr = parse_range(value);
		if not cidr then
			bad_request("addresses: '%s' is not an IPv4/IPv6 address or CIDR range", value);
		end
		if not seen[cidr] then seen[cidr] = true; list[#list + 1] = cidr; end
	end
	if #list == 0 then bad_request("addresses: Required value missing"); end
	return list;
end

--- Exempt addresses ------------------------------------------------------------
-- The operator's way back in after a mistaken block: never refused, never closed.

local exempt = {};
for _, value in ipairs(module:get_option_array("xmppadm_block_exempt", { "127.0.0.1", "::1" })) do
	local cidr = parse_range(tostring(value));
	if cidr then
		exempt[#exempt + 1] = cidr;
	else
		module:log("error", "xmppadm_block_exempt: '%s' is not an IPv4/IPv6 address or CIDR range, ignored", value);
	end
end

local function is_exempt(addr)
	for _, cidr in ipairs(exempt) do
		local r = range_of(cidr);
		if covers(r[1], r[2], addr) then return true; end
	end
	return false;
end

-- The exempt ranges that overlap any of `list` (the blocks do not apply to them), sorted.
local function exempt_overlapping(list)
	local found = {};
	for _, e in ipairs(exempt) do
		local er = range_of(e);
		for _, cidr in ipairs(list) do
			local br = range_of(cidr);
			if covers(br[1], math.min(er[2], br[2]), er[1]) then
				found[e] = true;
				break;
			end
		end
	end
	return common.sorted_keys(found);
end

--- The store -------------------------------------------------------------------

local store = common.private_store("xmppadm_blocked_ips");
local blocks; -- "net/bits" -> { created = t, expires = t|nil, reason = s|nil }

local function store_blocks()
	return store:set(nil, blocks);
end

local function save()
	local ok, err = store_blocks();
	if not ok then fail("wait", "internal-server-error", "Could not store blocked addresses: " .. tostring(err)); end
end

-- The current blocks; expired ones are dropped (and the store updated).
function M.active()
	if not blocks then
		local data, err = store:get(nil);
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
		local ok, err = store_blocks();
		if not ok then module:log("error", "Could not store blocked addresses: %s", err); end
	end
	return blocks;
end

-- The block that applies to a client address, if any.
local function blocked_by(ip_string)
	local addr = ip_string and ip.new_ip(ip_string);
	if not addr then return nil; end
	addr = unmap(addr);
	if is_exempt(addr) then return nil; end
	for cidr in pairs(M.active()) do
		local r = range_of(cidr);
		if covers(r[1], r[2], addr) then return cidr; end
	end
end

--- Streams and sessions ------------------------------------------------------------
-- Every c2s, BOSH and WebSocket stream to this host passes stream-features (again after
-- STARTTLS and SASL) before authentication completes.

local CLOSE_BATCH = 100; -- sessions closed per event loop turn
local close_reason = { condition = "policy-violation", text = "Connections from your IP address are blocked" };
local streams = setmetatable({}, { __mode = "k" });

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

--- Operations ------------------------------------------------------------------------

-- Blocks the ranges, and closes the live sessions they cover right after the reply has gone
-- out (the requester may be one of them). Returns the number of sessions to close and the
-- exempt ranges the blocks overlap.
function M.block(list, expires, reason)
	local now, current = os.time(), M.active();
	for _, cidr in ipairs(list) do
		current[cidr] = {
			created = current[cidr] and current[cidr].created or now;
			expires = expires and expires > 0 and now + expires or nil;
			reason = reason;
		};
		module:log("info", "Blocking %s%s", cidr, reason and (" (" .. reason .. ")") or "");
	end
	save();
	-- A big server has many sessions: check them in slices, yielding in between.
	local victims, budget = {}, common.budget();
	for _, session in ipairs(live_sessions()) do
		if not session.destroyed and blocked_by(session.ip) then victims[#victims + 1] = session; end
		budget:step();
	end
	if #victims > 0 then
		local next_victim = 1;
		module:add_timer(0, function ()
			-- a few at a time: the timer runs again at once (returns 0) until all are closed
			for i = next_victim, math.min(next_victim + CLOSE_BATCH - 1, #victims) do
				if not victims[i].destroyed then victims[i]:close(close_reason); end
			end
			next_victim = next_victim + CLOSE_BATCH;
			if next_victim <= #victims then return 0; end
		end);
	end
	return #victims, exempt_overlapping(list);
end

-- Removes exactly these ranges. Returns the removed ones and the ones that were not blocked.
function M.unblock(list)
	local current = M.active();
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
	if #removed > 0 then save(); end
	return removed, missing;
end

return M;
