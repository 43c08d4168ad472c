// The one owner of the admin session. Opens it with the settings resolved once (options.ts), opens
// it again after a loss (bounded retries with backoff; callers that fail together share one
// attempt), and is itself what operations talk to (an IqSession): a new session replaces the old
// one here, and nothing else holds one. recovery.ts builds on it for bulk runs.
import type {Element} from '@xmpp/xml'
import type {Ui} from '../output/ui.js'
import {spinnerFor} from '../output/spinner.js'
import {XmppError} from '../xmpp/errors.js'
import type {IqSession} from '../xmpp/iq-session.js'
import {Session} from '../xmpp/session.js'
import type {ConnectionSettings} from './options.js'

export class Connector implements IqSession {
  private session: Session
  private reconnecting?: Promise<void>

  private constructor(
    private readonly settings: ConnectionSettings,
    private readonly ui: Ui,
    /** Ctrl-C: no more attempts to reconnect. */
    readonly signal: AbortSignal,
    session: Session,
  ) {
    this.session = session
  }

  /** Connects and logs in (a spinner while a person watches), or throws why not. */
  static async open(settings: ConnectionSettings, ui: Ui, signal: AbortSignal): Promise<Connector> {
    const {jid} = settings.session
    const spinner = spinnerFor(ui)
    spinner.start(`connecting to ${settings.where} as ${jid}`)
    let session: Session
    try {
      session = await Session.open(settings.session)
    } finally {
      spinner.stop()
    }
    if (session.info.mechanism === 'PLAIN')
      ui.warn(
        'logged in with SASL PLAIN (--allow-plain): the password was sent to the server as is, inside TLS',
        true,
      )
    return new Connector(settings, ui, signal, session)
  }

  /** The session in use now (a reconnection replaces it). */
  get current(): Session {
    return this.session
  }

  get timeoutMs(): number {
    return this.settings.session.timeoutMs
  }

  /** The admin account logged in (bare JID). */
  get admin(): string {
    return this.session.info.boundJid.split('/')[0]
  }

  /** The JID offering the commands: --to (or the profile's), else the admin JID's domain. */
  get to(): string {
    return this.settings.to ?? this.session.domain
  }

  /** The address this connection comes from (what the server sees, absent NAT). */
  get localAddress(): string | undefined {
    return this.session.localAddress
  }

  iq(type: 'get' | 'set', to: string | undefined, payload: Element, what: string, timeoutMs?: number) {
    return this.session.iq(type, to, payload, what, timeoutMs)
  }

  /**
   * A new session after `failed` was lost (server restart, network): up to `retries` attempts with
   * exponential backoff. Callers that lost the same session share one attempt; a caller whose
   * session was replaced already returns at once. Throws the last error when the retries are used up.
   */
  async reconnect(retries: number, failed: Session): Promise<void> {
    if (this.reconnecting) return this.reconnecting
    if (this.session !== failed) return
    this.reconnecting = this.attempt(retries).finally(() => {
      this.reconnecting = undefined
    })
    return this.reconnecting
  }

  private async attempt(retries: number): Promise<void> {
    this.session.close()
    let last: unknown
    for (let i = 0; i < retries && !this.signal.aborted; i++) {
      const delay = Math.min(500 * 2 ** i, 8000)
      this.ui.info(`connection lost; reconnecting in ${delay / 1000} s (attempt ${i + 1} of ${retries})`)
      await new Promise((r) => setTimeout(r, delay))
      try {
        this.session = await Session.open(this.settings.session)
        this.ui.info('reconnected')
        return
      } catch (error) {
        last = error
      }
    }
    throw last ?? new XmppError('interrupted', 'interrupted', 'interrupted while reconnecting')
  }

  close(): void {
    this.session.close()
  }
}
