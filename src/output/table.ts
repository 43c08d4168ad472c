// Tables for lists on stdout: cli-table3 on a TTY, tab-separated lines otherwise (for cut/awk).
// In those lines a cell never holds a tab or a line break (each would shift or split a record):
// both become a space.

/** Whether tables are tab-separated lines (stdout is not a terminal). */
export const plainTables = (): boolean => !process.stdout.isTTY

/** `widths`: column widths on a terminal (long cells wrap); default: as wide as the cells. */
export async function renderTable(
  head: string[],
  rows: string[][],
  color: boolean,
  widths?: number[],
): Promise<string> {
  if (plainTables()) {
    const clean = (cell: string) => cell.replace(/[\t\r\n]+/g, ' ')
    return [head, ...rows].map((r) => r.map(clean).join('\t')).join('\n')
  }
  const {default: Table} = await import('cli-table3')
  const table = new Table({
    head,
    style: {head: color ? ['cyan'] : [], border: color ? ['grey'] : []},
    wordWrap: true,
    ...(widths ? {colWidths: widths} : {}),
  })
  for (const r of rows) table.push(r)
  return table.toString()
}
