// Types for raw-xmpp.js.
import type {TLSSocket, SecureVersion} from 'node:tls'

export interface RawSession {
  socket: TLSSocket
  authorized: boolean
  authorizationError: Error | null
  protocol: string | null
  features: string
  send(xml: string): void
  expect(re: RegExp, timeoutMs?: number): Promise<RegExpExecArray>
  close(): void
}

export declare function xmlEscape(s: string): string
export declare function connectStarttls(o: {
  host: string
  port: number
  domain: string
  caFile: string
  servername?: string
  minVersion?: SecureVersion
}): Promise<RawSession>
export declare function loginPlain(
  s: RawSession,
  domain: string,
  jid: string,
  password: string,
): Promise<boolean>
export declare function iq(s: RawSession, xml: string): Promise<{type: string; xml: string}>
export declare function listCommands(s: RawSession, to: string): Promise<string[]>
