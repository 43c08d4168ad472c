// Global options may come before the command (`xmppadm --profile prod purge-offline …`, as in a
// crontab); oclif only reads flags after the command id, so those move behind the command words.
import {globalFlags} from './cli/flags.js'

const spellings = (name: string, char?: string) => [`--${name}`, ...(char ? [`-${char}`] : [])]
const globals = Object.entries(globalFlags) as Array<[string, {type: string; char?: string}]>
/** Global options that take a value (long and short forms), and those that do not. */
const TAKES_VALUE = new Set(
  globals.filter(([, f]) => f.type === 'option').flatMap(([n, f]) => spellings(n, f.char)),
)
const GLOBAL_BOOLEAN = new Set([
  '--json',
  ...globals.filter(([, f]) => f.type === 'boolean').flatMap(([n, f]) => spellings(n, f.char)),
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
