// Debug logging on/off. mod_xmppadm keeps the timer and wipes the log server-side; ejabberd's API
// can only set the level, so the previous level is remembered locally and a timed switch waits here.
import {mkdirSync, readFileSync} from 'node:fs'
import {homedir} from 'node:os'
import {join} from 'node:path'
import {formValues} from '../protocol/dataform.js'
import {type OpContext, invoke} from './context.js'
import {writePrivateFile} from '../files.js'
import {XMPPADM_NS, api, mod} from './nodes.js'
import {type Operation, ready} from './operation.js'
import {ADHOC_API, EJABBERD_MODULE_HINT, prosodyModuleHint} from './server-module.js'

export interface DebugLogState {
  active: boolean
  level?: string
  file?: string | null
  expires?: string | null
  previous?: boolean | string | null
  via: string
  /** True when the server wipes the debug log on off. */
  wipes: boolean
}

function stateFile(): string {
  const base = process.env.XDG_STATE_HOME?.startsWith('/')
    ? process.env.XDG_STATE_HOME
    : join(homedir(), '.local', 'state')
  return join(base, 'xmppadm', 'loglevels.json')
}

function readSaved(): Record<string, string> {
  try {
    return JSON.parse(readFileSync(stateFile(), 'utf8'))
  } catch {
    return {}
  }
}

function save(key: string, level: string | undefined): void {
  const all = readSaved()
  if (level === undefined) delete all[key]
  else all[key] = level
  mkdirSync(join(stateFile(), '..'), {recursive: true, mode: 0o700})
  writePrivateFile(stateFile(), JSON.stringify(all))
}

function fromModule(v: Record<string, unknown>): DebugLogState {
  return {
    active: v.active === true,
    file: (v.file as string) || null,
    expires: (v.expires as string) || null,
    previous: (v.previous as boolean | undefined) ?? null,
    via: 'mod_xmppadm',
    wipes: true,
  }
}

export type DebugLogAction = {action: 'status'} | {action: 'on'; seconds?: number} | {action: 'off'}

async function apiLevel(ctx: OpContext): Promise<string> {
  return String(formValues((await invoke(ctx, api('get_loglevel'), {})).form!).levelatom ?? '')
}

export const debugLog: Operation<DebugLogAction, DebugLogState> = {
  id: 'debug-log',
  summary: 'switch debug logging',
  strategies: [
    {
      // The module keeps the timer and wipes the log itself: one node, one answer, every action.
      nodes: [mod('debug-log')],
      via: 'mod_xmppadm',
      async run(ctx, a) {
        const duration = a.action === 'on' && a.seconds ? String(a.seconds) : undefined
        const resp = await invoke(ctx, mod('debug-log'), {FORM_TYPE: XMPPADM_NS, action: a.action, duration})
        return fromModule(formValues(resp.form!))
      },
    },
    {
      // Only the level: the previous one is remembered here, and a timed switch waits in the foreground.
      nodes: [api('set_loglevel'), api('get_loglevel')],
      via: 'ejabberd API',
      partial: 'the log cannot be wiped remotely; a timed switch waits in the foreground',
      async run(ctx, a) {
        const state = {via: 'ejabberd API', wipes: false}
        if (a.action === 'status') {
          const level = await apiLevel(ctx)
          return {active: level === 'debug', level, ...state}
        }
        if (a.action === 'on') {
          const before = await apiLevel(ctx)
          if (before && before !== 'debug') save(ctx.to, before)
          await invoke(ctx, api('set_loglevel'), {loglevel: 'debug'})
          return {active: true, level: 'debug', previous: before, ...state}
        }
        const restore = readSaved()[ctx.to] ?? 'info'
        await invoke(ctx, api('set_loglevel'), {loglevel: restore})
        save(ctx.to, undefined)
        return {active: false, level: restore, ...state}
      },
    },
  ],
  enable: {
    prosody: prosodyModuleHint,
    ejabberd:
      `${EJABBERD_MODULE_HINT}; or, without a file of its own to wipe, ${ADHOC_API} ` +
      '(api-commands/set_loglevel)',
    other: `a server offering ${mod('debug-log')}`,
  },
}

const run = async (ctx: OpContext, a: DebugLogAction) => (await ready(ctx, debugLog)).run(a)
export const debugLogStatus = (ctx: OpContext) => run(ctx, {action: 'status'})
export const debugLogOn = (ctx: OpContext, seconds?: number) => run(ctx, {action: 'on', seconds})
export const debugLogOff = (ctx: OpContext) => run(ctx, {action: 'off'})
