// Every operation xmppadm has, in the order `capabilities` lists them, and what this server offers
// of each. Each operation lives with its code (accounts.ts, block-ip.ts, …); this is only the list.
import {accountCreate, accountDelete, accountLookup} from './accounts.js'
import {blockIp, blockIpList, blockIpRemove} from './block-ip.js'
import type {OpContext} from './context.js'
import {debugLog} from './debug-log.js'
import {exportUserOp} from './export-user.js'
import {importUserOp} from './import-user.js'
import {type AnyOperation, type Via, enableHint, pickStrategy} from './operation.js'
import {purgeOfflineOp, purgeUploadsOp} from './purge.js'

export const OPERATIONS: AnyOperation[] = [
  accountCreate,
  accountDelete,
  blockIp,
  blockIpList,
  blockIpRemove,
  purgeOfflineOp,
  purgeUploadsOp,
  exportUserOp,
  importUserOp,
  debugLog,
  accountLookup,
]

export interface CapabilityRow {
  operation: string
  available: boolean
  via?: Via
  node?: string
  partial?: string
  hint?: string
}

/** `reasons`: from moduleReasons(), for the hints of what the loaded module cannot offer. */
export function capabilities(ctx: OpContext, reasons?: Map<string, string>): CapabilityRow[] {
  return OPERATIONS.filter((op) => !op.internal).map((op) => {
    const s = pickStrategy(ctx, op)
    return s
      ? {operation: op.id, available: true, via: s.via, node: s.nodes[0], partial: s.partial}
      : {operation: op.id, available: false, hint: enableHint(ctx, op, reasons)}
  })
}
