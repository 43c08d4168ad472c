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
  const file = new PrivateFile(path)
  try {
    file.write(text)
  } catch (error) {
    file.abandon()
    throw error
  }
  file.commit(opts.beforeRename)
}

/**
 * The same, written piece by piece (an export as its pages arrive): nothing is at `path` until
 * commit(); abandon() removes what was written.
 */
export class PrivateFile {
  private readonly tmp: string
  private fd: number | undefined

  constructor(readonly path: string) {
    this.tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`)
    try {
      this.fd = openSync(this.tmp, 'wx', 0o600)
    } catch (error) {
      throw cannotWrite(path, error)
    }
  }

  write(text: string): void {
    try {
      writeSync(this.fd!, text)
    } catch (error) {
      throw cannotWrite(this.path, error)
    }
  }

  commit(beforeRename?: () => void): void {
    try {
      fsyncSync(this.fd!)
      closeSync(this.fd!)
      this.fd = undefined
      beforeRename?.()
      renameSync(this.tmp, this.path)
    } catch (error) {
      this.abandon()
      throw error instanceof XmppadmError ? error : cannotWrite(this.path, error)
    }
  }

  abandon(): void {
    try {
      if (this.fd !== undefined) closeSync(this.fd)
    } catch {
      // closed already
    }
    this.fd = undefined
    try {
      unlinkSync(this.tmp)
    } catch {
      // already gone
    }
  }
}

const cannotWrite = (path: string, error: unknown) =>
  new XmppadmError(
    'cantCreate',
    'cant-create',
    `cannot write ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
  )
