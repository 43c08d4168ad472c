// Destructive work asks first: a person confirms on a terminal; a script must say --yes; a dry run
// needs neither. A "no" ends the command with exit 64, nothing done.
import {XmppadmError, usageError} from '../errors.js'
import type {Ui} from '../output/ui.js'

export async function confirmDestructive(
  ui: Ui,
  what: string,
  opts: {yes?: boolean; dryRun?: boolean},
): Promise<void> {
  if (opts.dryRun || opts.yes) return
  if (!ui.interactive)
    throw usageError(
      `refusing to ${what} without --yes (no prompts: not on a terminal, or --no-input or CI set)`,
      'add --yes, or --dry-run to see what would happen',
    )
  await confirmOnTerminal(ui, `Really ${what}?`)
}

/** On a terminal, a person must say yes; off a terminal the flags already said so. */
export async function confirmOnTerminal(ui: Ui, question: string): Promise<void> {
  if (!ui.interactive) return
  const {confirm} = await import('../output/prompts.js')
  if (!(await confirm(question)))
    throw new XmppadmError('usage', 'declined', 'nothing done: not confirmed (declined at the prompt)')
}
