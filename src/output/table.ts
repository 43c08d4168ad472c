// Tables for lists on stdout: cli-table3 on a TTY, tab-separated lines otherwise (for cut/awk).
export async function renderTable(head: string[], rows: string[][], color: boolean): Promise<string> {
  if (!process.stdout.isTTY) return [head.join('\t'), ...rows.map((r) => r.join('\t'))].join('\n')
  const {default: Table} = await import('cli-table3')
  const table = new Table({
    head,
    style: {head: color ? ['cyan'] : [], border: color ? ['grey'] : []},
    wordWrap: true,
  })
  for (const r of rows) table.push(r)
  return table.toString()
}
