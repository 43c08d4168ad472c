// Purging what is past its age: offline messages and uploaded files.
import {dataError} from '../errors.js'
import {formValues} from '../protocol/dataform.js'
import {type OpContext, invoke} from './context.js'
import {XMPPADM_NS, api, mod} from './nodes.js'
import {type Operation, ready} from './operation.js'
import {ADHOC_API, EJABBERD_MODULE_HINT, prosodyModuleHint} from './server-module.js'

export interface PurgeRequest {
  seconds: number
  dryRun: boolean
}

export interface PurgeResult {
  dryRun: boolean
  olderThanSeconds: number
  /** Items deleted (or that would be); null where the server does not say. */
  count: number | null
  bytes?: number | null
  users?: number | null
  via: string
  notes: string[]
}

type Purged = Omit<PurgeResult, 'via'>

/** The module's purge nodes: one answer with the counts. */
async function viaModule(ctx: OpContext, node: string, {seconds, dryRun}: PurgeRequest) {
  const resp = await invoke(ctx, mod(node), {
    FORM_TYPE: XMPPADM_NS,
    'older-than': String(seconds),
    'dry-run': dryRun ? '1' : '0',
  })
  return formValues(resp.form!)
}

/** ejabberd deletes EVERYTHING for days < 0: refused here, whatever the caller checked. */
function checkAge(_ctx: OpContext, {seconds}: PurgeRequest): void {
  if (!(seconds > 0)) throw dataError('the age must be more than zero')
}

export const purgeOfflineOp: Operation<PurgeRequest, Purged> = {
  id: 'purge-offline',
  summary: 'purge old offline messages',
  check: checkAge,
  strategies: [
    {
      nodes: [mod('purge-offline')],
      via: 'mod_xmppadm',
      async run(ctx, req) {
        const v = await viaModule(ctx, 'purge-offline', req)
        return {
          dryRun: req.dryRun,
          olderThanSeconds: req.seconds,
          count: Number(v.count ?? 0),
          users: Number(v.users ?? 0),
          notes: [],
        }
      },
    },
    {
      nodes: [api('delete_old_messages')],
      via: 'ejabberd API',
      partial: 'whole days only, on all virtual hosts at once, no count, no dry run',
      async run(ctx, {seconds, dryRun}) {
        // ejabberd counts whole days. Rounding up deletes less than asked, never more.
        const days = Math.ceil(seconds / 86400)
        const notes = [
          `ejabberd purges by whole days: messages older than ${days} day(s), on every virtual host ` +
            `of the server`,
        ]
        if (seconds % 86400) notes.push(`${seconds} s rounded up to ${days} day(s)`)
        const done = {dryRun, olderThanSeconds: days * 86400, count: null}
        if (dryRun)
          return {...done, notes: [...notes, 'ejabberd cannot count what it would delete: nothing was done']}
        await invoke(ctx, api('delete_old_messages'), {days: String(days)})
        return {...done, notes}
      },
    },
  ],
  enable: {
    prosody: prosodyModuleHint,
    ejabberd:
      `${EJABBERD_MODULE_HINT}; or, in whole days for all hosts, ${ADHOC_API} ` +
      '(api-commands/delete_old_messages)',
    other: `a server offering ${mod('purge-offline')}`,
  },
}

export const purgeUploadsOp: Operation<PurgeRequest, Purged> = {
  id: 'purge-uploads',
  summary: 'purge old uploaded files',
  check: checkAge,
  strategies: [
    {
      nodes: [mod('purge-uploads')],
      via: 'mod_xmppadm',
      async run(ctx, req) {
        const v = await viaModule(ctx, 'purge-uploads', req)
        return {
          dryRun: req.dryRun,
          olderThanSeconds: req.seconds,
          count: Number(v.count ?? 0),
          bytes: Number(v.bytes ?? 0),
          notes: [],
        }
      },
    },
  ],
  enable: {
    prosody: prosodyModuleHint,
    ejabberd:
      `${EJABBERD_MODULE_HINT}. Without it ejabberd has no command for it: set max_days in ` +
      'mod_http_upload_quota (it sweeps once a day), or run find on the upload directory on the server',
    other: `a server offering ${mod('purge-uploads')}`,
  },
}

async function purge(ctx: OpContext, op: Operation<PurgeRequest, Purged>, req: PurgeRequest) {
  const {strategy, run} = await ready(ctx, op)
  return {...(await run(req)), via: strategy.via} satisfies PurgeResult
}

export const purgeOffline = (ctx: OpContext, seconds: number, dryRun: boolean) =>
  purge(ctx, purgeOfflineOp, {seconds, dryRun})
export const purgeUploads = (ctx: OpContext, seconds: number, dryRun: boolean) =>
  purge(ctx, purgeUploadsOp, {seconds, dryRun})
