// Everything a connection needs, resolved once, in one place: the command line beats the
// environment (oclif reads both), which beats the profile. Checked in the order a person would
// want to hear about mistakes: JID, certificate settings, --server and --source-address, and only
// then the password (a typo should not cost typing the password first).
import {X509Certificate} from 'node:crypto'
import {readFileSync} from 'node:fs'
import net from 'node:net'
import {resolvePassword} from '../config/credentials.js'
import {type Profile, loadProfile} from '../config/profile.js'
import {XmppadmError, cannotRead, configError, usageError} from '../errors.js'
import type {Ui} from '../output/ui.js'
import {type FlagInfo, flagSource} from '../usage.js'
import {parseServer} from '../xmpp/endpoints.js'
import {parseJid} from '../xmpp/jid.js'
import type {SessionOptions} from '../xmpp/session.js'

/** The connection flags (src/cli/flags.ts), as parsed. */
export interface ConnectionFlags {
  profile?: string
  jid?: string
  server?: string
  to?: string
  'password-file'?: string
  'ca-file'?: string
  'source-address'?: string
  insecure?: boolean
  'allow-plain'?: boolean
  timeout?: number
  debug?: boolean
}

export interface ConnectionSettings {
  session: SessionOptions
  /** The JID offering the commands, when given (--to, profile); else the admin JID's domain. */
  to?: string
  /** Where to, for the spinner: "xmpp.example.org:5222", or the domain (DNS SRV). */
  where: string
}

/** Where the command line came from, to name a flag's source in messages. */
export interface FlagSources {
  argv: readonly string[]
  flags: Record<string, FlagInfo>
}

export async function resolveConnection(
  flags: ConnectionFlags,
  from: FlagSources,
  ui: Ui,
): Promise<ConnectionSettings> {
  const profile = flags.profile ? loadProfile(flags.profile) : loadProfile('default', true)
  // Where a value came from, for messages: the flag (or its environment variable), or the profile.
  const source = (flag: string, key: string) =>
    (flags as Record<string, unknown>)[flag] === undefined
      ? `${profile!.path}: ${key}`
      : flagSource(flag, from.argv, from.flags[flag])
  const jid = flags.jid ?? profile?.jid
  if (!jid) throw configError('no admin JID', 'pass --jid, set XMPPADM_JID, or put jid = ... in a profile')
  if (!parseJid(jid, 'admin JID').local)
    throw new XmppadmError('config', 'bad-jid', `admin JID ${JSON.stringify(jid)} has no localpart`)
  const insecure = Boolean(flags.insecure || profile?.insecure)
  if (insecure)
    ui.warn(
      '--insecure: the server certificate is NOT verified; anyone on the path can read and change this ' +
        'session',
      true,
    )
  const caFile = flags['ca-file'] ?? profile?.caFile
  const serverSpec = flags.server ?? profile?.server
  const sourceAddress = flags['source-address'] ?? profile?.sourceAddress
  const settings = {
    ca: caFile ? readCaFile(caFile) : undefined,
    endpoint: serverSpec ? parseServer(serverSpec, source('server', 'server')) : undefined,
    localAddress: sourceAddress
      ? checkSourceAddress(sourceAddress, source('source-address', 'source_address'))
      : undefined,
  }
  const password = await resolvePassword({
    passwordFile: flags['password-file'],
    envPassword: process.env.XMPPADM_PASSWORD,
    profilePasswordFile: profile?.passwordFile,
    profilePasswordCommand: profile?.passwordCommand,
    profilePassword: profile?.password,
    prompt: ui.interactive
      ? async () => (await import('../output/prompts.js')).promptPassword(`Password for ${jid}`)
      : undefined,
  })
  return {
    session: {
      jid,
      password,
      ...settings,
      insecure,
      allowPlain: Boolean(flags['allow-plain'] || profile?.allowPlain),
      timeoutMs: timeoutSeconds(flags, profile) * 1000,
      trace: flags.debug
        ? (dir, text) => process.stderr.write(`${dir === 'in' ? 'RECV' : 'SEND'} ${text}\n`)
        : undefined,
    },
    to: flags.to ?? profile?.to,
    where: serverSpec ?? parseJid(jid).domain,
  }
}

const timeoutSeconds = (flags: ConnectionFlags, profile?: Profile) => flags.timeout ?? profile?.timeout ?? 10

/** The local address to connect from: one of this machine's addresses (as curl --interface ADDR). */
function checkSourceAddress(address: string, source: string): string {
  if (!net.isIP(address))
    throw usageError(
      `${source} ${JSON.stringify(address)} is not an IP address`,
      'give one of the addresses of this machine, e.g. 192.0.2.10 or 2001:db8::10',
    )
  return address
}

/**
 * The PEM certificates of a --ca-file. A file with none would make every server look untrusted
 * ("not issued by a trusted CA"), pointing at the server instead of the file: refuse it here.
 */
function readCaFile(path: string): string {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    throw cannotRead(`CA file ${path}`, error)
  }
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? []
  if (!blocks.length)
    throw configError(
      `CA file ${path} holds no certificate`,
      'it must hold PEM certificates ("-----BEGIN CERTIFICATE-----"): the CA that signed the server ' +
        'certificate',
    )
  blocks.forEach((pem, i) => {
    try {
      new X509Certificate(pem)
    } catch (error) {
      throw configError(`CA file ${path}: certificate ${i + 1} is damaged (${(error as Error).message})`)
    }
  })
  return text
}
