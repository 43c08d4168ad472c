-- Result forms with a table: util.dataforms layouts have no <reported/>, so the forms of the
-- commands that answer with rows (#list-accounts, #stored-data) are built here. Stateless.

local common = module:require "common";
local st = common.lib "util.stanza";
local M = {};

-- fields: { var, type, label, value or { values } }; columns: { var, label }; rows: lists of cells.
function M.form(title, fields, columns, rows)
	local x = st.stanza("x", { xmlns = "jabber:x:data", type = "result" }):text_tag("title", title)
		:tag("field", { var = "FORM_TYPE", type = "hidden" }):text_tag("value", common.xmlns):up();
	for _, f in ipairs(fields) do
		x:tag("field", { var = f[1], type = f[2], label = f[3] });
		local values = type(f[4]) == "table" and f[4] or { f[4] };
		for _, v in ipairs(values) do x:text_tag("value", v); end
		x:up();
	end
	x:tag("reported");
	for _, c in ipairs(columns) do x:tag("field", { var = c[1], type = "text-single", label = c[2] }):up(); end
	x:up();
	for _, row in ipairs(rows) do
		x:tag("item");
		for i, c in ipairs(columns) do x:tag("field", { var = c[1] }):text_tag("value", row[i] or ""):up(); end
		x:up();
	end
	return x;
end

return M;
