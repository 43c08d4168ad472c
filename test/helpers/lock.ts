// A lock across the test workers of one run, for state that several test files change on the
// shared servers (debug logging). mkdir is atomic; the lock lives next to this run's servers file.
import {mkdirSync, rmSync} from 'node:fs'

function lockPath(name: string): string {
  const base = process.env.XMPPADM_TEST_SERVERS
  if (!base) throw new Error('XMPPADM_TEST_SERVERS is not set (integration tests only)')
  return `${base}.lock-${name}`
}

export async function acquire(name: string, timeoutMs = 300_000): Promise<() => void> {
  const path = lockPath(name)
  const until = Date.now() + timeoutMs
  for (;;) {
    try {
      mkdirSync(path)
      return () => rmSync(path, {recursive: true, force: true})
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
      if (Date.now() > until) throw new Error(`lock ${name} not free after ${timeoutMs} ms`)
      await new Promise((r) => setTimeout(r, 100))
    }
  }
}

export async function withLock<T>(name: string, fn: () => Promise<T>): Promise<T> {
  const release = await acquire(name)
  try {
    return await fn()
  } finally {
    release()
  }
}

/** The lock for a server's debug-log state. */
export const debugLogLock = (kind: string) => `debug-log-${kind}`
