// Global options may come before the command (`xmppadm --profile prod purge-offline …`, as in a
// crontab); oclif only reads flags after the command id, so those move behind the command words.

/** Global options that take a value (long and short forms). */
const TAKES_VALUE = new Set([
  '--profile',
  '-p',
  '--jid',
  '-j',
  '--server',
  '-s',
  '--to',
  '--password-file',
  '--ca-file',
  '--timeout',
])
const GLOBAL_BOOLEAN = new Set([
  '--insecure',
  '--allow-plain',
  '--debug',
  '--quiet',
  '-q',
  '--no-color',
  '--no-input',
  '--json',
])

export function leadingOptionsLast(argv: string[]): string[] {
  const leading: string[] = []
  let i = 0
  while (i < argv.length) {
    const a = argv[i]
    const name = a.split('=')[0]
    if (TAKES_VALUE.has(name)) {
      leading.push(a)
      if (!a.includes('=') && i + 1 < argv.length) leading.push(argv[++i])
      i++
    } else if (GLOBAL_BOOLEAN.has(a)) {
      leading.push(a)
      i++
    } else break
  }
  const rest = argv.slice(i)
  // Nothing after the options (e.g. `xmppadm --json`): leave as typed, oclif explains.
  if (!leading.length || !rest.length) return argv
  return [...rest, ...leading]
}
