// What the commands use of @oclif/core, small enough to load in a few milliseconds. The lite
// bundle (src/lite/main.ts, built by esbuild with '@oclif/core' aliased to this file) runs the same
// command classes through it. It parses only what it is sure to parse exactly as oclif does
// (test/unit/lite-parity.test.ts); anything else (help, an unknown or repeated flag, a value
// oclif would reject, a repeatable flag, "--") throws NeedsFullCli before the command has done
// anything, and bin/run.js runs the full oclif instead, which then says what is wrong.

/* eslint-disable @typescript-eslint/no-explicit-any */
type FlagDef = {
  type: 'boolean' | 'option'
  char?: string
  env?: string
  default?: unknown
  multiple?: boolean
  options?: readonly string[]
  required?: boolean
  allowNo?: boolean
  integer?: {min?: number; max?: number}
  [k: string]: unknown
}
type ArgDef = {required?: boolean; [k: string]: unknown}

/** The full oclif must handle this command line. */
export class NeedsFullCli extends Error {
  constructor(why: string) {
    super(`needs the full CLI: ${why}`)
  }
}

class ExitError extends Error {
  readonly oclif: {exit: number}
  readonly code = 'EEXIT'
  constructor(exit: number) {
    super(`EEXIT: ${exit}`)
    this.oclif = {exit}
  }
}

export const Errors = {ExitError}

export const Flags = {
  string: (o: Record<string, unknown> = {}): FlagDef => ({...o, type: 'option'}),
  boolean: (o: Record<string, unknown> = {}): FlagDef => ({...o, type: 'boolean'}),
  integer: (o: {min?: number; max?: number; [k: string]: unknown} = {}): FlagDef => ({
    ...o,
    type: 'option',
    integer: {min: o.min, max: o.max},
  }),
}

export const Args = {
  string: (o: Record<string, unknown> = {}): ArgDef => ({...o}),
}

export type Interfaces = never

const JSON_FLAG: FlagDef = {type: 'boolean'}

/** oclif's value checks for one flag value; undefined means "oclif would refuse it". */
function flagValue(def: FlagDef, input: string): unknown {
  if (def.options && !def.options.includes(input)) return undefined
  if (!def.integer) return input
  if (!/^-?\d+$/.test(input)) return undefined
  const n = Number.parseInt(input, 10)
  if (def.integer.min !== undefined && n < def.integer.min) return undefined
  if (def.integer.max !== undefined && n > def.integer.max) return undefined
  return n
}

export interface ParseInput {
  flags?: Record<string, FlagDef>
  baseFlags?: Record<string, FlagDef>
  enableJsonFlag?: boolean
  args?: Record<string, ArgDef>
  strict?: boolean
}

/** Parses argv as oclif 4 would for the flags the commands define, or throws NeedsFullCli. */
export function parseArgv(
  argv: readonly string[],
  input: ParseInput,
): {args: Record<string, string>; argv: string[]; flags: Record<string, unknown>} {
  const defs: Record<string, FlagDef> = {
    ...(input.enableJsonFlag ? {json: JSON_FLAG} : {}),
    ...input.baseFlags,
    ...input.flags,
  }
  const byChar = new Map<string, string>()
  for (const [name, def] of Object.entries(defs)) {
    if (
      def.allowNo ||
      (def.env && (def.type === 'boolean' || def.multiple)) ||
      typeof def.default === 'function'
    )
      throw new NeedsFullCli(`flag --${name}`)
    if (def.char) byChar.set(def.char, name)
  }
  const given = new Map<string, string | true>()
  const positional: string[] = []
  const known = (token: string) =>
    token.startsWith('--') ? token.slice(2).split('=')[0] in defs : token.length >= 2 && byChar.has(token[1])
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i]
    if (token === '--') throw new NeedsFullCli('--')
    if (!token.startsWith('-') || token === '-') {
      positional.push(token)
      continue
    }
    let name: string | undefined
    let value: string | undefined
    if (token.startsWith('--')) {
      const eq = token.indexOf('=')
      name = eq < 0 ? token.slice(2) : token.slice(2, eq)
      if (eq >= 0) value = token.slice(eq + 1)
      if (!(name in defs)) throw new NeedsFullCli(token)
    } else {
      name = byChar.get(token[1])
      if (!name) throw new NeedsFullCli(token)
      if (token.length > 2) {
        if (defs[name].type === 'boolean') throw new NeedsFullCli(token)
        value = token.slice(token[2] === '=' ? 3 : 2)
      }
    }
    const def = defs[name]
    // oclif lets a repeatable flag take the words after it too: not worth copying.
    if (def.multiple) throw new NeedsFullCli(`--${name}`)
    if (given.has(name)) throw new NeedsFullCli(`--${name} twice`)
    if (def.type === 'boolean') {
      if (value !== undefined) throw new NeedsFullCli(token)
      given.set(name, true)
      continue
    }
    if (value === undefined) {
      value = argv[++i]
      // No value, or the next word is itself a flag: oclif says "expects a value".
      if (value === undefined || (value.startsWith('-') && known(value)))
        throw new NeedsFullCli(`--${name} without a value`)
    }
    given.set(name, value)
  }

  const flags: Record<string, unknown> = {}
  for (const [name, def] of Object.entries(defs)) {
    const raw = given.get(name)
    if (raw === true) flags[name] = true
    else if (raw !== undefined || (def.env && process.env[def.env])) {
      const v = flagValue(def, raw ?? process.env[def.env!]!)
      if (v === undefined) throw new NeedsFullCli(`--${name} value`)
      flags[name] = v
    } else if (def.default !== undefined) flags[name] = def.default
    else if (def.required) throw new NeedsFullCli(`--${name} missing`)
  }

  const argDefs = Object.entries(input.args ?? {})
  if (input.strict !== false && positional.length > argDefs.length)
    throw new NeedsFullCli('unexpected argument')
  const args: Record<string, string> = {}
  argDefs.forEach(([name, def], i) => {
    if (i < positional.length) args[name] = positional[i]
    else if (def.required) throw new NeedsFullCli(`argument ${name} missing`)
  })
  return {args, argv: positional, flags}
}

/** The part of oclif's Command the commands rely on: the same life cycle (init, run, catch, finally). */
export abstract class Command {
  static id?: string
  static summary?: string
  static description?: string
  static examples?: unknown
  static aliases: string[] = []
  static hidden?: boolean
  static strict = true
  static enableJsonFlag = false
  static flags: Record<string, FlagDef> = {}
  static baseFlags: Record<string, FlagDef> = {}
  static args: Record<string, ArgDef> = {}

  argv: string[]
  config: unknown
  id?: string

  constructor(argv: string[], config?: unknown) {
    this.argv = argv
    this.config = config
    this.id = this.ctor.id
  }

  get ctor(): any {
    return this.constructor
  }

  abstract run(): Promise<unknown>

  async init(): Promise<void> {}

  async parse(options: ParseInput = this.ctor, argv: string[] = this.argv): Promise<any> {
    return parseArgv(argv, options)
  }

  jsonEnabled(): boolean {
    if (!this.ctor.enableJsonFlag) return false
    if (process.env.XMPPADM_CONTENT_TYPE?.toLowerCase() === 'json') return true
    const dashdash = this.argv.indexOf('--')
    const json = this.argv.indexOf('--json')
    return json !== -1 && (dashdash === -1 || json < dashdash)
  }

  logJson(json: unknown): void {
    process.stdout.write(`${JSON.stringify(json, null, 2)}\n`)
  }

  exit(code = 0): never {
    throw new ExitError(code)
  }

  protected toSuccessJson(result: unknown): unknown {
    return result
  }

  protected toErrorJson(err: unknown): unknown {
    return {error: err}
  }

  protected async catch(err: any): Promise<any> {
    throw err
  }

  protected async finally(_err: Error | undefined): Promise<any> {}

  async _run(): Promise<unknown> {
    let err: unknown
    let result: unknown
    let handOver = false
    try {
      await this.init()
      result = await this.run()
    } catch (error) {
      // Thrown by parse(), before the command did anything: nothing to report or clean up.
      handOver = error instanceof NeedsFullCli
      if (handOver) throw error
      err = error
      await this.catch(error)
    } finally {
      if (!handOver) await this.finally(err as Error | undefined)
    }
    if (result && this.jsonEnabled()) this.logJson(this.toSuccessJson(result))
    return result
  }
}
