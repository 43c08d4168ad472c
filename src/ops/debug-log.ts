// Debug logging on/off. mod_xmppadm keeps the timer and wipes the log server-side; ejabberd's API
// can only set the level, so the previous level is remembered locally and a timed switch waits here.
import {mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import {homedir} from 'node:os'
import {join} from 'node:path'
import {formValues} from '../protocol/dataform.js'
import {requireStrategy} from './catalogue.js'
import {type OpContext, invoke} from './context.js'
import {XMPPADM_NS, api, mod} from './nodes.js'

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
  writeFileSync(stateFile(), JSON.stringify(all), {mode: 0o600})
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

export async function debugLogStatus(ctx: OpContext): Promise<DebugLogState> {
  const s = await requireStrategy(ctx, 'debug-log')
  if (s.via === 'mod_xmppadm')
    return fromModule(
      formValues((await invoke(ctx, mod('debug-log'), {FORM_TYPE: XMPPADM_NS, action: 'status'})).form!),
    )
  const level = String(formValues((await invoke(ctx, api('get_loglevel'), {})).form!).levelatom ?? '')
  return {active: level === 'debug', level, via: s.via, wipes: false}
}

export async function debugLogOn(ctx: OpContext, durationSec?: number): Promise<DebugLogState> {
  const s = await requireStrategy(ctx, 'debug-log')
  if (s.via === 'mod_xmppadm') {
    return fromModule(
      formValues(
        (
          await invoke(ctx, mod('debug-log'), {
            FORM_TYPE: XMPPADM_NS,
            action: 'on',
            duration: durationSec ? String(durationSec) : undefined,
          })
        ).form!,
      ),
    )
  }
  const before = await debugLogStatus(ctx)
  if (before.level && before.level !== 'debug') save(ctx.to, before.level)
  await invoke(ctx, api('set_loglevel'), {loglevel: 'debug'})
  return {active: true, level: 'debug', previous: before.level ?? null, via: s.via, wipes: false}
}

export async function debugLogOff(ctx: OpContext): Promise<DebugLogState> {
  const s = await requireStrategy(ctx, 'debug-log')
  if (s.via === 'mod_xmppadm')
    return fromModule(
      formValues((await invoke(ctx, mod('debug-log'), {FORM_TYPE: XMPPADM_NS, action: 'off'})).form!),
    )
  const restore = readSaved()[ctx.to] ?? 'info'
  await invoke(ctx, api('set_loglevel'), {loglevel: restore})
  save(ctx.to, undefined)
  return {active: false, level: restore, via: s.via, wipes: false}
}
