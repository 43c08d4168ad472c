import type {ScramHash} from './scram.js'

export interface MechanismChoice {
  name: string
  kind: 'scram' | 'plain'
  hash?: ScramHash
  plus: boolean
}

// Strongest first. Channel binding beats a longer hash: it ties the login to this very TLS session.
const ORDER: MechanismChoice[] = [
  {name: 'SCRAM-SHA-512-PLUS', kind: 'scram', hash: 'sha512', plus: true},
  {name: 'SCRAM-SHA-256-PLUS', kind: 'scram', hash: 'sha256', plus: true},
  {name: 'SCRAM-SHA-1-PLUS', kind: 'scram', hash: 'sha1', plus: true},
  {name: 'SCRAM-SHA-512', kind: 'scram', hash: 'sha512', plus: false},
  {name: 'SCRAM-SHA-256', kind: 'scram', hash: 'sha256', plus: false},
  {name: 'SCRAM-SHA-1', kind: 'scram', hash: 'sha1', plus: false},
  {name: 'PLAIN', kind: 'plain', plus: false},
]

export function chooseMechanism(
  offered: string[],
  opts: {canBind: boolean; allowPlain: boolean},
): MechanismChoice | undefined {
  const set = new Set(offered.map((m) => m.toUpperCase()))
  return ORDER.find(
    (m) => set.has(m.name) && (!m.plus || opts.canBind) && (m.kind !== 'plain' || opts.allowPlain),
  )
}
