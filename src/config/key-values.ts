// "key = value" files (profiles, policy files), read one way: blank lines and lines starting with
// "#" or ";" are skipped; "#" after white space starts a comment, so a value such as a password may
// contain "#" itself; a value in quotes ("…" or '…') is taken as is, " #" included.
import {configError} from '../errors.js'

export interface KeyValue {
  /** Lower case, "-" read as "_": `CA-File` is `ca_file`. */
  key: string
  value: string
  /** 1-based line number, for messages. */
  line: number
}

export function readKeyValues(text: string, path: string): KeyValue[] {
  const out: KeyValue[] = []
  text.split('\n').forEach((raw, i) => {
    const line = i + 1
    const t = raw.trim()
    if (!t || t.startsWith('#') || t.startsWith(';')) return
    const eq = t.indexOf('=')
    if (eq < 0) throw configError(`${path}:${line}: expected key = value`)
    const key = t.slice(0, eq).trim().toLowerCase().replace(/-/g, '_')
    if (!/^[a-z_]\w*$/.test(key)) throw configError(`${path}:${line}: expected key = value`)
    out.push({key, value: valueOf(t.slice(eq + 1).trim(), `${path}:${line}`), line})
  })
  return out
}

function valueOf(rest: string, where: string): string {
  const quote = rest[0]
  if (quote === '"' || quote === "'") {
    const end = rest.indexOf(quote, 1)
    // An unclosed quote is taken literally, as before quotes were understood.
    if (end < 0) return stripComment(rest)
    if (!/^\s*(#.*)?$/.test(rest.slice(end + 1)))
      throw configError(`${where}: text after the closing quote (a comment starts with " #")`)
    return rest.slice(1, end)
  }
  return stripComment(rest)
}

const stripComment = (value: string) => value.replace(/(^|\s)#.*$/, '').trimEnd()
