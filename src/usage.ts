// Usage errors in one voice: oclif's parser errors (which often lose the flag or argument on the
// way: "The following error occurred:", "Missing 1 required arg:") and unknown commands become
// one-line XmppadmErrors (exit 64) that name what is wrong, as text and in --json.
import {ExitCode, XmppadmError} from './errors.js'

/** What the parser knew about a flag (oclif's definition, or its manifest entry). */
export interface FlagInfo {
  name?: string
  char?: string
  env?: string
  summary?: string
  description?: string
}

export interface ArgInfo {
  name?: string
  description?: string
  options?: readonly string[]
}

export interface ParseContext {
  /** The command id ("account:delete"), for the help hint. */
  id?: string
  /** The command line after the command words (to tell a flag's value from its env var's). */
  argv?: readonly string[]
  flags?: Record<string, FlagInfo>
  args?: Record<string, ArgInfo>
}

const usage = (reason: string, message: string, ctx: ParseContext) =>
  new XmppadmError('usage', reason, message, {
    hint: ctx.id ? `see: xmppadm ${ctx.id.replace(/:/g, ' ')} --help` : 'see: xmppadm help',
  })

/** A summary's first line, as a clause after a name: "FILE: policy file (- for stdin)". */
const gist = (text?: string) => {
  const line = (text ?? '').split('\n')[0].replace(/\.$/, '')
  return line.charAt(0).toLowerCase() + line.slice(1)
}

/** Was the flag typed (long, --name=value, or short), or did its value come from the environment? */
function typed(name: string, argv: readonly string[], char?: string): boolean {
  return argv.some(
    (a) =>
      a === `--${name}` || a.startsWith(`--${name}=`) || (char !== undefined && a.startsWith(`-${char}`)),
  )
}

/** Where a flag's value came from, for messages: "--timeout", or "XMPPADM_TIMEOUT" from the environment. */
export function flagSource(name: string, argv: readonly string[], flag?: FlagInfo): string {
  const env = flag?.env
  return env && process.env[env] !== undefined && !typed(name, argv, flag?.char) ? env : `--${name}`
}

/** "--timeout", or "XMPPADM_TIMEOUT (for --timeout)" when the value came from the environment. */
function source(name: string, ctx: ParseContext): string {
  const from = flagSource(name, ctx.argv ?? [], ctx.flags?.[name])
  return from === `--${name}` ? from : `${from} (for --${name})`
}

/** oclif's integer checks ("Expected an integer … but received: abc") as one plain clause. */
function valueProblem(detail: string): string {
  let m = /greater than or equal to (-?\d+) but received: (.*)$/.exec(detail)
  if (m) return `${m[2]} is less than the minimum, ${m[1]}`
  m = /less than or equal to (-?\d+) but received: (.*)$/.exec(detail)
  if (m) return `${m[2]} is more than the maximum, ${m[1]}`
  m = /Expected an integer but received: (.*)$/.exec(detail)
  if (m) return `${JSON.stringify(m[1])} is not a whole number`
  return detail.replace(/\.$/, '')
}

/** An oclif parser error as a usage error naming the flag or argument; undefined for other errors. */
export function describeParseError(err: unknown, ctx: ParseContext = {}): XmppadmError | undefined {
  if (!(err instanceof Error)) return undefined
  const kind = err.constructor.name
  const lines = err.message
    // eslint-disable-next-line no-control-regex -- oclif dims part of some messages with escapes
    .replace(/\u001b\[[0-9;]*m/g, '')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !/^See more help with --help$/.test(l))
  const first = lines[0] ?? ''
  const e = err as Error & {args?: unknown[]; flags?: string[]}

  if (kind === 'RequiredArgsError') {
    const missing = ((e.args ?? []) as ArgInfo[]).filter((a) => a.name)
    const named = missing.map(
      (a) => `${a.name!.toUpperCase()}${a.description ? `: ${gist(a.description)}` : ''}`,
    )
    return usage(
      'missing-argument',
      named.length ? `missing argument ${named.join(', ')}` : 'missing argument',
      ctx,
    )
  }
  if (kind === 'FailedFlagValidationError' || kind === 'ViolatedFlagConstraintError') {
    const reasons = lines.slice(1).map((r) => {
      const m = /^Missing required flag (\S+)$/.exec(r)
      if (!m) return r
      const summary = gist(ctx.flags?.[m[1]]?.summary ?? ctx.flags?.[m[1]]?.description)
      return `missing required flag --${m[1]}${summary ? `: ${summary}` : ''}`
    })
    return usage(
      reasons.every((r) => r.startsWith('missing required flag')) ? 'missing-flag' : 'invalid-flags',
      reasons.join('; ') || first,
      ctx,
    )
  }
  if (kind === 'NonExistentFlagsError') {
    const given = e.flags ?? []
    const known = Object.keys(ctx.flags ?? {}).map((f) => `--${f}`)
    const near = given.length === 1 ? closest(given[0], known) : undefined
    return usage(
      'unknown-flag',
      `unknown flag ${given.join(', ')}${near ? ` (did you mean ${near}?)` : ''}`,
      ctx,
    )
  }
  if (kind === 'UnexpectedArgsError') {
    const extra = ((e.args ?? []) as unknown[]).map((a) => JSON.stringify(String(a)))
    const takes = ctx.id ? ` (${takesArguments(ctx.id, Object.keys(ctx.args ?? {}).length)})` : ''
    return usage('unexpected-argument', `unexpected argument ${extra.join(', ')}${takes}`, ctx)
  }
  let m = /^Expected --([\w-]+)=(.*) to be one of: (.*)$/.exec(first)
  if (m) return usage('invalid-value', `--${m[1]}: ${JSON.stringify(m[2])} is not one of: ${m[3]}`, ctx)
  m = /^Expected (.*) to be one of: (.*)$/.exec(first)
  if (m) {
    const options = m[2].split(', ')
    const arg = Object.entries(ctx.args ?? {}).find(
      ([, a]) => a.options && a.options.join(', ') === options.join(', '),
    )
    const what = arg ? `argument ${(arg[1].name ?? arg[0]).toUpperCase()}: ` : ''
    return usage('invalid-value', `${what}${JSON.stringify(m[1])} is not one of: ${m[2]}`, ctx)
  }
  m = /^Parsing --([\w-]+)$/.exec(first)
  if (m)
    return usage('invalid-value', `${source(m[1], ctx)}: ${valueProblem(lines[1] ?? 'invalid value')}`, ctx)
  m = /^Flag --([\w-]+) expects a value$/.exec(first)
  if (m) return usage('missing-value', `--${m[1]} needs a value`, ctx)
  m = /^Flag --([\w-]+) can only be specified once$/.exec(first)
  if (m) return usage('repeated-flag', `--${m[1]} is given more than once`, ctx)
  m = /^Flag --([\w-]+) expects one of these values: (.*)$/.exec(first)
  if (m) return usage('invalid-value', `--${m[1]} needs one of these values: ${m[2]}`, ctx)
  if (kind.endsWith('ParseError') || (err as {oclif?: {exit?: number}}).oclif?.exit === ExitCode.usage)
    return usage('usage', first || 'invalid command line', ctx)
  return undefined
}

const takesArguments = (id: string, n: number) =>
  `xmppadm ${id.replace(/:/g, ' ')} takes ${n === 0 ? 'no arguments' : `${n} argument${n === 1 ? '' : 's'}`}`

/** Edit distance (insertions, deletions, substitutions), for "did you mean". */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({length: b.length + 1}, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const row = [i]
    for (let j = 1; j <= b.length; j++)
      row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1))
    prev = row
  }
  return prev[b.length]
}

/** The candidate nearest to `word`, if it is near enough to be a likely typo. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined
  let bestDistance = Infinity
  for (const c of candidates) {
    const d = editDistance(word, c)
    if (d < bestDistance) [best, bestDistance] = [c, d]
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined
}

/**
 * An unknown command ("purge-ofline", "account creat"): exit 64 with the nearest command. `commands`
 * are oclif ids ("account:create"); a line that starts with a real command followed by a word it
 * does not take ("block-ip list extra") is an unexpected argument, not an unknown command.
 */
export function unknownCommand(
  id: string,
  commands: readonly string[],
  argCount: (id: string) => number = () => 0,
): XmppadmError {
  const words = id.split(':')
  for (let n = words.length - 1; n > 0; n--) {
    const prefix = words.slice(0, n).join(':')
    if (commands.includes(prefix))
      return new XmppadmError(
        'usage',
        'unexpected-argument',
        `unexpected argument ${words
          .slice(n)
          .map((w) => JSON.stringify(w))
          .join(', ')} (${takesArguments(prefix, argCount(prefix))})`,
        {hint: `see: xmppadm ${prefix.replace(/:/g, ' ')} --help`},
      )
  }
  // oclif joins every word it could not place into the id: the command is the first word, or the
  // first two when the first is a topic ("account creat a@b" is "account creat").
  const topic = commands.some((c) => c.startsWith(`${words[0]}:`))
  const typedAs = words.slice(0, topic && words.length > 1 ? 2 : 1).join(' ')
  const near = closest(
    typedAs,
    commands.filter((c) => !c.startsWith('autocomplete:')).map((c) => c.replace(/:/g, ' ')),
  )
  return new XmppadmError(
    'usage',
    'unknown-command',
    `unknown command "${typedAs}"${near ? `; did you mean "${near}"?` : ''}`,
    {hint: 'see: xmppadm help'},
  )
}
