// Files xmppadm writes hold secrets or personal data (exports, failed lines with passwords, saved
// log levels): written whole or not at all, mode 0600 whatever was there before.
import {closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync} from 'node:fs'
import {basename, dirname, join} from 'node:path'
import {XmppadmError} from './errors.js'

/**
 * A new file in the same directory, written, fsync'ed and renamed over `path`: a reader never sees
 * half a file, and an existing file's looser mode never applies. `beforeRename` may still refuse
 * (e.g. the file appeared meanwhile and must not be replaced).
 */
export function writePrivateFile(path: string, text: string, opts: {beforeRename?: () => void} = {}): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`)
  let fd: number
  try {
    fd = openSync(tmp, 'wx', 0o600)
  } catch (error) {
    throw cannotWrite(path, error)
  }
  try {
    writeSync(fd, text)
    fsyncSync(fd)
    closeSync(fd)
    opts.beforeRename?.()
    renameSync(tmp, path)
  } catch (error) {
    try {
      unlinkSync(tmp)
    } catch {
      // already gone
    }
    throw error instanceof XmppadmError ? error : cannotWrite(path, error)
  }
}

const cannotWrite = (path: string, error: unknown) =>
  new XmppadmError(
    'cantCreate',
    'cant-create',
    `cannot write ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
  )
