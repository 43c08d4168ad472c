// `block-ip`: the safety checks every range goes through, what a block prints, and a list from a
// file or stdin, streamed, in batches of up to BATCH ranges a command (the module stores the whole
// list once per command), several batches in flight. A bad or refused line fails on its own.
import {confirmOnTerminal} from '../../cli/confirm.js'
import {Settled} from '../../cli/outcome.js'
import {knownError} from '../../errors.js'
import type {BlockRequest, BlockResult} from '../../ops/block-ip.js'
import {type Risk, type SafetyOptions, checkBlock, riskQuestion} from '../../ops/block-safety.js'
import type {Ready} from '../../ops/operation.js'
import {parseDuration, parseIpRange} from '../../ops/values.js'
import type {Ui} from '../../output/ui.js'
import {type BulkEnv, type LineOutcome, runBulkCommand} from '../bulk-run.js'
import {type InputLine, parseArguments, readLines} from '../lines.js'

/** Ranges a command: one stored list write on the server per batch. */
const BATCH = 500

/** The request, as typed (--expires is shown as typed), and what the flags allow. */
export interface BlockSettings extends Omit<SafetyOptions, 'ownAddress'> {
  expires?: string
  expiresSec?: number
  reason?: string
}

type Block = Ready<BlockRequest, BlockResult>

/** The block-ip flags as settings; --expires is checked here, before anything is sent. */
export function blockSettings(flags: {
  expires?: string
  reason?: string
  'allow-broad': boolean
  'include-own-address': boolean
}): BlockSettings {
  const {expires, reason} = flags
  const expiresSec = expires ? parseDuration(expires, '--expires') : undefined
  return {
    expires,
    expiresSec,
    reason,
    allowBroad: flags['allow-broad'],
    includeOwnAddress: flags['include-own-address'],
  }
}

/** A range as typed, normalised and checked against what the flags allow (own address: once known). */
export function checkedRange(text: string, s: BlockSettings, ownAddress?: string): string {
  const range = parseIpRange(text)
  checkBlock(range, {...s, ownAddress})
  return range
}

/** The risky ranges the flags allow: a person on a terminal confirms them once. */
async function confirmRisks(ui: Ui, risks: Array<Risk | undefined>): Promise<void> {
  const risky = risks.filter((r) => r !== undefined)
  if (risky.length) await confirmOnTerminal(ui, riskQuestion(risky))
}

/** Each range the server blocked (a message). */
function sayBlocked(ui: Ui, out: BlockResult, s: BlockSettings): void {
  for (const b of out.blocked) ui.out(`blocked ${b}${s.expiresSec ? ` for ${s.expires}` : ''}`)
}

/** Live sessions the blocks ended, and exempt addresses they cover (which stay reachable). */
function sayClosing(ui: Ui, sessionsClosed: number, exempt: string[] | undefined): void {
  if (sessionsClosed) ui.info(`${sessionsClosed} live session(s) from blocked addresses ended`)
  if (exempt?.length)
    ui.warn(`exempt from blocks by the server's configuration, so still reachable: ${exempt.join(', ')}`)
}

/** Ranges given as arguments (checked already): one command for all of them. */
export async function blockArguments(ui: Ui, block: Block, ranges: string[], s: BlockSettings, own?: string) {
  await confirmRisks(
    ui,
    parseArguments(ranges, (r) => checkBlock(r, {...s, ownAddress: own})),
  )
  const out = await block.run({ranges, expiresSec: s.expiresSec, reason: s.reason})
  sayBlocked(ui, out, s)
  sayClosing(ui, out.sessionsClosed, out.exempt)
  return {
    blocked: out.blocked,
    expiresInSeconds: s.expiresSec ?? null,
    reason: s.reason ?? null,
    sessionsClosed: out.sessionsClosed,
    exempt: out.exempt ?? null,
  }
}

export async function blockFromFile(env: BulkEnv, block: Block, s: BlockSettings, own?: string) {
  const {ui} = env
  if (env.file !== '-' && ui.interactive && (s.allowBroad || s.includeOwnAddress)) {
    const risks: Risk[] = []
    for await (const line of readLines(env.file!)) {
      try {
        const risk = checkBlock(parseIpRange(line.text), {...s, ownAddress: own})
        if (risk) risks.push(risk)
      } catch {
        // a bad or refused line fails on its own during the run
      }
    }
    await confirmRisks(ui, risks)
  }
  const blocked: string[] = []
  const exempt = new Set<string>()
  let exemptReported = false
  let sessionsClosed = 0
  const report = await runBulkCommand<string>(env, {
    progress: 'blocking ',
    key: 'address',
    name: (line) => line.text,
    recovery: {name: String, noun: 'batches', again: 'blocked again'},
    batch: {
      size: BATCH,
      async run(lines, retry) {
        const good: Array<[InputLine, string]> = []
        const bad: Array<LineOutcome<string>> = []
        for (const line of lines) {
          try {
            good.push([line, checkedRange(line.text, s, own)])
          } catch (error) {
            const e = knownError(error)
            if (!e) throw error
            bad.push({outcome: 'failed', line, error: e})
          }
        }
        if (good.length) {
          const ranges = good.map(([, range]) => range)
          const out = await retry.run(() => block.run({ranges, expiresSec: s.expiresSec, reason: s.reason}))
          sayBlocked(ui, out, s)
          if (ui.settings.json) blocked.push(...out.blocked)
          for (const e of out.exempt ?? []) exempt.add(e)
          exemptReported ||= out.exempt !== undefined
          sessionsClosed += out.sessionsClosed
        }
        return [...good.map(([line, range]) => ({outcome: 'done' as const, line, value: range})), ...bad]
      },
    },
    closing: () => sayClosing(ui, sessionsClosed, [...exempt]),
    summary: (c) => `blocked ${c.done}, failed ${c.failed}`,
  })
  const {counts: c, failed, failedFile} = report
  return new Settled(
    {
      blocked,
      expiresInSeconds: s.expiresSec ?? null,
      reason: s.reason ?? null,
      sessionsClosed,
      exempt: exemptReported ? [...exempt] : null,
      failed,
      summary: {blocked: c.done, failed: c.failed, notAttempted: c.notAttempted, interrupted: c.interrupted},
      failedFile,
    },
    report.error,
  )
}
