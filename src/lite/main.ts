// The fast way in: bin/run.js hands every command line (but help) to run() here. Built by esbuild
// into one file, dist/lite.js, with '@oclif/core' replaced by oclif-shim.ts: the same command
// classes, without loading oclif and its config (measured: ~90 ms of a ~230 ms run). run() returns
// false when the full oclif must take the line: no such command here, or the shim is not sure.

/** Every command, by oclif id (a unit test keeps this in step with oclif.manifest.json). */
export const COMMANDS: Record<string, () => Promise<{default: unknown}>> = {
  'account:create': () => import('../commands/account/create.js'),
  'account:delete': () => import('../commands/account/delete.js'),
  'block-ip': () => import('../commands/block-ip/index.js'),
  'block-ip:list': () => import('../commands/block-ip/list.js'),
  'block-ip:remove': () => import('../commands/block-ip/remove.js'),
  capabilities: () => import('../commands/capabilities.js'),
  'command:info': () => import('../commands/command/info.js'),
  'command:list': () => import('../commands/command/list.js'),
  'command:run': () => import('../commands/command/run.js'),
  'debug-log:off': () => import('../commands/debug-log/off.js'),
  'debug-log:on': () => import('../commands/debug-log/on.js'),
  'debug-log:status': () => import('../commands/debug-log/status.js'),
  'export-user': () => import('../commands/export-user.js'),
  'policy:apply': () => import('../commands/policy/apply.js'),
  'policy:check': () => import('../commands/policy/check.js'),
  'purge-offline': () => import('../commands/purge-offline.js'),
  'purge-uploads': () => import('../commands/purge-uploads.js'),
}

export const ALIASES: Record<string, string> = {commands: 'command:list', run: 'command:run'}

/** The command a command line names, as oclif resolves it with topics separated by spaces. */
export function lookup(argv: readonly string[]): {id: string; rest: string[]} | undefined {
  if (argv.length >= 2) {
    const id = `${argv[0]}:${argv[1]}`
    if (id in COMMANDS) return {id, rest: argv.slice(2)}
  }
  const id = ALIASES[argv[0]] ?? argv[0]
  if (argv.length >= 1 && id in COMMANDS) return {id, rest: argv.slice(1)}
  return undefined
}

type Runnable = {id?: string; new (argv: string[], config?: unknown): {_run(): Promise<unknown>}}

export async function run(argv: string[]): Promise<boolean> {
  const found = lookup(argv)
  if (!found) return false
  const {NeedsFullCli, Errors} = await import('./oclif-shim.js')
  const Cmd = (await COMMANDS[found.id]()).default as Runnable
  Cmd.id = found.id
  try {
    await new Cmd(found.rest, undefined)._run()
  } catch (error) {
    if (error instanceof NeedsFullCli) return false
    // As oclif's error handler: the command has printed its error; exit with its code.
    if (error instanceof Errors.ExitError) process.exit(error.oclif.exit)
    process.stderr.write(`error: ${String((error as Error)?.message ?? error).split('\n')[0]}\n`)
    process.exit(1)
  }
  return true
}
