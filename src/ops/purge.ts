// Purging what is past its age: offline messages and uploaded files. The module's purges are
// paged (pages.ts): the run follows them, summing the counts, and may stop between two.
import {dataError} from '../errors.js'
import {type OpContext, invoke} from './context.js'
import {XMPPADM_NS, api, mod} from './nodes.js'
import {type Operation, ready} from './operation.js'
import {type PageProgress, followPages} from './pages.js'
import {ADHOC_API, EJABBERD_MODULE_HINT, prosodyModuleHint} from './server-module.js'

export interface PurgeRequest {
  seconds: number
  dryRun: boolean
  /** Called after each page of a paged purge. */
  onPage?: (p: PageProgress) => void
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
  /** Requests it took (a paged purge: one per page). */
  pages: number
  /** Users (purge-offline) or upload records (purge-uploads) walked, of how many; null if not said. */
  scanned: number | null
  total: number | null
  /** null, or why the run stopped before the end ("interrupted"): a new run does the rest. */
  interrupted: string | null
}

type Purged = Omit<PurgeResult, 'via'>

/** The module's purge nodes, page after page: the counts summed. */
async function viaModule(
  ctx: OpContext,
  node: string,
  counted: string[],
  {seconds, dryRun, onPage}: PurgeRequest,
) {
  const run = await followPages(
    ctx,
    mod(node),
    {FORM_TYPE: XMPPADM_NS, 'older-than': String(seconds), 'dry-run': dryRun ? '1' : '0'},
    counted,
    onPage,
  )
  return {
    ...run,
    done: {
      dryRun,
      olderThanSeconds: seconds,
      notes: [],
      pages: run.pages,
      scanned: run.scanned,
      total: run.total,
      interrupted: run.complete ? null : 'interrupted',
    },
  }
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
        const {counts, done} = await viaModule(ctx, 'purge-offline', ['count', 'users'], req)
        return {...done, count: counts.count, users: counts.users}
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
        const done = {
          dryRun,
          olderThanSeconds: days * 86400,
          count: null,
          pages: 1,
          scanned: null,
          total: null,
          interrupted: null,
        }
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
        const {counts, done} = await viaModule(ctx, 'purge-uploads', ['count', 'bytes'], req)
        return {...done, count: counts.count, bytes: counts.bytes}
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

export const purgeOffline = (ctx: OpContext, req: PurgeRequest) => purge(ctx, purgeOfflineOp, req)
export const purgeUploads = (ctx: OpContext, req: PurgeRequest) => purge(ctx, purgeUploadsOp, req)
