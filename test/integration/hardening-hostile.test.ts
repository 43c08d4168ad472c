// Issue 6: xmppadm fails safe against hostile or broken servers. Each case runs the built CLI
// against a small scripted server on 127.0.0.1 (test/hostile/server.ts) and checks the exit code,
// the one-line message, the time it took, and what the server did (not) receive.
import {xml} from '@xmpp/xml'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {type CliResult, cli, expectNoStack, secretFile} from '../helpers/cli.js'
import {type HostilePki, createHostilePki} from '../hostile/pki.js'
import {type HostileOptions, HostileServer, NS, commandEl} from '../hostile/server.js'

const ADMIN_PW = 'Hostile-admin-Pw-5e1d9c'
let pki: HostilePki
let pwFile: string
const servers: HostileServer[] = []

beforeAll(async () => {
  pki = await createHostilePki()
  pwFile = secretFile(`${ADMIN_PW}\n`)
})
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()))
})

async function hostile(opts: Partial<HostileOptions> = {}): Promise<HostileServer> {
  const s = await HostileServer.start({cert: pki.good.cert, key: pki.good.key, password: ADMIN_PW, ...opts})
  servers.push(s)
  return s
}

interface Timed extends CliResult {
  ms: number
}

async function run(
  s: HostileServer,
  args: string[],
  opts: {timeout?: number; extra?: string[]} = {},
): Promise<Timed> {
  const started = Date.now()
  const r = await cli(
    [
      ...args,
      '--jid',
      'admin@localhost',
      '--server',
      `127.0.0.1:${s.port}`,
      '--password-file',
      pwFile,
      '--ca-file',
      pki.caFile,
      '--timeout',
      String(opts.timeout ?? 3),
      ...(opts.extra ?? []),
    ],
    {timeout: 30_000},
  )
  return {...r, ms: Date.now() - started}
}

/** One line on stderr (a warning may precede it), no stack trace. */
function expectOneLineError(r: CliResult, pattern: RegExp): void {
  expectNoStack(r)
  const lines = r.stderr
    .trim()
    .split('\n')
    .filter((l) => !l.startsWith('warning:'))
  expect(lines, r.stderr).toHaveLength(1)
  expect(lines[0]).toMatch(/^error: /)
  expect(lines[0]).toMatch(pattern)
}

/** The server never saw anything that carries the password. */
function expectNoCredentials(s: HostileServer): void {
  expect(s.received).not.toContain('<auth')
  expect(s.received).not.toContain('<response')
  expect(s.saslLog).toHaveLength(0)
  expect(s.received).not.toContain(ADMIN_PW)
  expect(s.received).not.toContain(Buffer.from(`\0admin\0${ADMIN_PW}`).toString('base64'))
}

describe('TLS and STARTTLS: refused before any credential is sent', () => {
  it.concurrent.each([['TLSv1'], ['TLSv1.1']] as const)('a server that speaks only %s', async (version) => {
    const s = await hostile({minVersion: version, maxVersion: version, ciphers: 'DEFAULT:@SECLEVEL=0'})
    const r = await run(s, ['commands'])
    expect(r.exitCode, r.stderr).toBe(80)
    expectOneLineError(r, /TLS 1\.2 or newer/)
    expectNoCredentials(s)
    expect(s.received).toContain('<starttls') // it got as far as trying
  })

  it.concurrent('a server that does not offer STARTTLS (it offers SASL in plaintext instead)', async () => {
    const s = await hostile({starttls: 'absent'})
    const r = await run(s, ['commands', '--allow-plain'])
    expect(r.exitCode, r.stderr).toBe(80)
    expectOneLineError(r, /STARTTLS/)
    expectNoCredentials(s)
  })

  it.concurrent('STARTTLS answered with <failure/>', async () => {
    const s = await hostile({starttls: 'failure'})
    const r = await run(s, ['commands'])
    expect(r.exitCode, r.stderr).toBe(80)
    expectOneLineError(r, /STARTTLS/)
    expectNoCredentials(s)
  })

  it.concurrent('STARTTLS <proceed/>, then bytes that are not TLS', async () => {
    const s = await hostile({starttls: 'garbage'})
    const r = await run(s, ['commands'])
    expect(r.exitCode, r.stderr).toBe(80)
    expectOneLineError(r, /TLS/)
    expectNoCredentials(s)
  })

  it.concurrent('plaintext injected behind <proceed/> is not trusted as if it came over TLS', async () => {
    // A man in the middle appends forged stream features (only PLAIN) to the server's <proceed/>.
    // The real server, over TLS, offers SCRAM. Whatever arrived before the handshake must be
    // discarded (or the connection refused): the client must never act on it.
    const s = await hostile({
      mechanisms: ['SCRAM-SHA-256-PLUS', 'SCRAM-SHA-256'],
      injectAfterProceed:
        `<stream:features><mechanisms ` +
        `xmlns='${NS.sasl}'><mechanism>PLAIN</mechanism></mechanisms></stream:features>`,
    })
    const r = await run(s, ['commands'], {extra: ['--allow-plain']})
    expect(
      s.saslLog.map((x) => x.mechanism),
      'mechanisms the client used',
    ).not.toContain('PLAIN')
    expect(r.stderr).not.toMatch(/offered: PLAIN/)
    expect([0, 80], r.stderr).toContain(r.exitCode)
    expectNoStack(r)
  })

  it.concurrent('STARTTLS <proceed/>, then the connection drops during the handshake', async () => {
    const s = await hostile({starttls: 'drop'})
    const r = await run(s, ['commands'])
    // Indistinguishable from a network failure: "try again" (75) or TLS (80), never a login.
    expect([75, 80], r.stderr).toContain(r.exitCode)
    expectOneLineError(r, /TLS|closed|reset|connection/)
    expectNoCredentials(s)
  })

  it.concurrent.each([
    ['wrongName', /certificate is for another name/],
    ['expired', /certificate has expired/],
    ['selfSigned', /self-signed/],
  ] as const)('certificate: %s', async (which, message) => {
    const s = await hostile({cert: pki[which].cert, key: pki[which].key})
    const r = await run(s, ['commands'])
    expect(r.exitCode, r.stderr).toBe(80)
    expectOneLineError(r, message)
    expectNoCredentials(s)
  })
})

describe('SASL', () => {
  it.concurrent(
    'a server offering only PLAIN is refused (79) without --allow-plain; nothing is sent',
    async () => {
      const s = await hostile({mechanisms: ['PLAIN']})
      const r = await run(s, ['commands'])
      expect(r.exitCode, r.stderr).toBe(79)
      expectOneLineError(r, /no acceptable login mechanism.*PLAIN/)
      expect(r.stderr).toMatch(/--allow-plain/)
      expectNoCredentials(s)
    },
  )

  it.concurrent(
    '--allow-plain logs in with PLAIN inside TLS, warns, and the trace hides the payload',
    async () => {
      const s = await hostile({mechanisms: ['PLAIN']})
      const r = await run(s, ['commands', '--debug'], {extra: ['--allow-plain']})
      expect(r.exitCode, r.stderr).toBe(0)
      expect(r.stderr).toMatch(/warning: .*PLAIN/)
      expect(s.saslLog.map((x) => x.mechanism)).toEqual(['PLAIN'])
      expect(s.connections[0].tlsVersion).toMatch(/^TLSv1\.[23]$/)
      const payload = Buffer.from(`\0admin\0${ADMIN_PW}`).toString('base64')
      expect(s.saslLog[0].payloads[0]).toBe(payload)
      expect(r.stdout + r.stderr).not.toContain(payload)
      expect(r.stdout + r.stderr).not.toContain(ADMIN_PW)
    },
  )

  it.concurrent('a SCRAM server whose final signature does not verify is refused (79)', async () => {
    const s = await hostile({mechanisms: ['SCRAM-SHA-256'], supportsBinding: false, badServerSignature: true})
    const r = await run(s, ['commands'])
    expect(r.exitCode, r.stderr).toBe(79)
    expectOneLineError(r, /signature does not verify/)
    // Nothing after the login: no bind, no commands went to the impostor.
    expect(s.received).not.toContain('urn:ietf:params:xml:ns:xmpp-bind')
    expect(s.received).not.toContain('disco#items')
  })

  it.concurrent('a SCRAM challenge with fewer than 4096 iterations is refused (79)', async () => {
    const s = await hostile({mechanisms: ['SCRAM-SHA-1'], supportsBinding: false, iterations: 1000})
    const r = await run(s, ['commands'])
    expect(r.exitCode, r.stderr).toBe(79)
    expectOneLineError(r, /iterations/)
    expect(s.saslLog[0].payloads).toHaveLength(1) // no proof was sent
  })

  it.concurrent('-PLUS on TLS 1.3: channel binding tls-exporter, checked by the server', async () => {
    const s = await hostile({mechanisms: ['SCRAM-SHA-1', 'SCRAM-SHA-256-PLUS', 'SCRAM-SHA-256', 'PLAIN']})
    const r = await run(s, ['commands', '--debug'])
    expect(r.exitCode, r.stderr).toBe(0)
    expect(s.connections[0].tlsVersion).toBe('TLSv1.3')
    expect(s.saslLog[0]).toMatchObject({
      mechanism: 'SCRAM-SHA-256-PLUS',
      gs2Header: 'p=tls-exporter,,',
      bindingVerified: true,
      outcome: 'success',
    })
    // No SASL payload in the trace.
    for (const p of s.saslLog[0].payloads) expect(r.stderr).not.toContain(p)
  })

  it.concurrent('-PLUS on TLS 1.2: channel binding tls-server-end-point', async () => {
    const s = await hostile({maxVersion: 'TLSv1.2', mechanisms: ['SCRAM-SHA-1-PLUS', 'SCRAM-SHA-1']})
    const r = await run(s, ['commands'])
    expect(r.exitCode, r.stderr).toBe(0)
    expect(s.connections[0].tlsVersion).toBe('TLSv1.2')
    expect(s.saslLog[0]).toMatchObject({
      mechanism: 'SCRAM-SHA-1-PLUS',
      gs2Header: 'p=tls-server-end-point,,',
      bindingVerified: true,
    })
  })

  it.concurrent(
    '-PLUS with XEP-0440 listing only tls-server-end-point on TLS 1.3: that type is used',
    async () => {
      const s = await hostile({
        mechanisms: ['SCRAM-SHA-512-PLUS'],
        channelBindingTypes: ['tls-server-end-point'],
      })
      const r = await run(s, ['commands'])
      expect(r.exitCode, r.stderr).toBe(0)
      expect(s.saslLog[0]).toMatchObject({
        mechanism: 'SCRAM-SHA-512-PLUS',
        gs2Header: 'p=tls-server-end-point,,',
        bindingVerified: true,
      })
    },
  )

  it.concurrent(
    'a stripped mechanism list (only SCRAM-SHA-1 while binding is possible): the client sends "y,,", ' +
      'the server detects the downgrade',
    async () => {
      const s = await hostile({mechanisms: ['SCRAM-SHA-1'], supportsBinding: true})
      const r = await run(s, ['commands'])
      expect(s.saslLog[0].mechanism).toBe('SCRAM-SHA-1')
      expect(s.saslLog[0].gs2Header).toBe('y,,')
      expect(Buffer.from(s.saslLog[0].payloads[0], 'base64').toString()).toMatch(/^y,,n=admin,r=/)
      expect(r.exitCode, r.stderr).toBe(79)
      expectOneLineError(r, /login as admin@localhost failed/)
    },
  )

  it.concurrent('"y,," to a server that really cannot bind: the login succeeds', async () => {
    const s = await hostile({mechanisms: ['SCRAM-SHA-1'], supportsBinding: false})
    const r = await run(s, ['commands'])
    expect(s.saslLog[0].gs2Header).toBe('y,,')
    expect(r.exitCode, r.stderr).toBe(0)
  })
})

// After login: servers that stall, babble, flood or hang up.
describe('after login: stalls, garbage, floods, hang-ups, forgeries: one clear line, no hang', () => {
  const MULTI = 'urn:hostile#multi-stage'
  const stagedIq = (iq: any, c: any) => {
    const cmd = iq.getChild('command', NS.commands)
    if (!cmd) return c.error(iq, 'service-unavailable')
    const sid = cmd.attrs.sessionid
    const form = (field: string) =>
      xml(
        'x',
        {xmlns: NS.data, type: 'form'},
        xml('field', {var: field, type: 'text-single'}, xml('required')),
      )
    const actions = xml('actions', {execute: 'next'}, xml('next'))
    if (!sid) return c.result(iq, commandEl(cmd.attrs.node, 'executing', 'stage-1', actions, form('a')))
    if (sid === 'stage-1')
      return c.result(iq, commandEl(cmd.attrs.node, 'executing', 'stage-2', actions, form('b')))
    // Third round trip: the server goes away in the middle of the command.
    c.end()
  }

  it.concurrent('an IQ that is never answered: exit 75 within --timeout', async () => {
    let askedAt = 0
    const s = await hostile({onIq: () => void (askedAt ||= Date.now())})
    const r = await run(s, ['commands'], {timeout: 2})
    expect(r.exitCode, r.stderr).toBe(75)
    expectOneLineError(r, /no answer|did not answer/)
    // Measured at the server, from the unanswered IQ to the client hanging up (CLI start-up excluded).
    const hungUpAfter = (await s.connections[0].closed) - askedAt
    expect(hungUpAfter).toBeGreaterThanOrEqual(1900)
    expect(hungUpAfter).toBeLessThan(2000 + 3000)
  })

  it.concurrent('an answer that is not XML at all: exit 76 or 75, within --timeout', async () => {
    // ltx is lenient: "<item jid='a' <<" is not an error to it, just an unfinished tag. Either way
    // the run must end, with one line, within the timeout.
    const s = await hostile({
      onIq: (iq, c) =>
        c.send(`<iq type='result' id='${iq.attrs.id}'><query xmlns='${NS.discoItems}'><item jid='a' <<</iq>`),
    })
    const r = await run(s, ['commands'], {timeout: 2})
    expect([75, 76], r.stderr).toContain(r.exitCode)
    expectOneLineError(r, /malformed XML|no answer/)
    expect(r.ms).toBeLessThan(2000 + 10_000) // generous: CLI start-up on a loaded machine
  })

  it.concurrent('mismatched closing tags: exit 76', async () => {
    const s = await hostile({
      onIq: (iq, c) =>
        c.send(`<iq type='result' id='${iq.attrs.id}'><query xmlns='${NS.discoItems}'></iq></query>`),
    })
    const r = await run(s, ['commands'])
    expect(r.exitCode, r.stderr).toBe(76)
    expectOneLineError(r, /malformed XML/)
  })

  it.concurrent('an undefined entity and an illegal character reference: exit 76', async () => {
    for (const bad of ['&bogus;', '&#0;']) {
      const s = await hostile({
        onIq: (iq, c) =>
          c.send(
            `<iq type='result' id='${iq.attrs.id}'><query xmlns='${NS.discoItems}'><item ` +
              `jid='a${bad}' node='n'/></query></iq>`,
          ),
      })
      const r = await run(s, ['commands'])
      expect(r.exitCode, `${bad}: ${r.stderr}`).toBe(76)
      expectOneLineError(r, /malformed XML/)
    }
  })

  it.concurrent(
    'a 20 MiB stanza that never ends, --timeout 3: ends within the timeout (75 or 76), no hang',
    async () => {
      const s = await hostile({
        onIq: (iq, c) => {
          void c.sendLarge(
            `<iq type='result' id='${iq.attrs.id}'><query xmlns='${NS.discoItems}'><item jid='`,
            'A'.repeat(1024),
            20 * 1024 * 1024,
          )
        },
      })
      const r = await run(s, ['commands'], {timeout: 3})
      expect([75, 76], r.stderr).toContain(r.exitCode)
      expectOneLineError(r, /larger than 16777216 bytes|no answer/)
      expect(r.ms).toBeLessThan(3000 + 10_000)
    },
  )

  it.concurrent(
    'a 20 MiB text node that never ends, --timeout 30: the 16 MiB limit itself ends it promptly (exit 76)',
    async () => {
      // 16 MiB over loopback TLS arrives in well under a second; the guard must fire about then,
      // not after the client has spent many seconds of CPU on the unfinished stanza.
      let sent = 0
      let startedAt = 0
      const s = await hostile({
        onIq: (iq, c) => {
          startedAt = Date.now()
          void c
            .sendLarge(
              `<iq type='result' id='${iq.attrs.id}'><query xmlns='${NS.discoItems}'>`,
              'x'.repeat(4096),
              20 * 1024 * 1024,
            )
            .then((n) => (sent = n))
        },
      })
      const r = await run(s, ['commands'], {timeout: 30})
      expect(r.exitCode, r.stderr).toBe(76)
      expectOneLineError(r, /sent a stanza larger than 16777216 bytes/)
      // (How much the server managed to write says nothing: loopback socket buffers can take the
      // rest after the client hung up. The time to hang up, below, is what counts.)
      void sent
      // Measured at the server: from the first byte of the stanza to the client hanging up.
      const hungUpAfter = (await s.connections[0].closed) - startedAt
      expect(hungUpAfter, 'ms to enforce the 16 MiB stanza limit').toBeLessThan(5000)
    },
  )

  it.concurrent('the stream closes in the middle of a multi-stage command: exit 75', async () => {
    const s = await hostile({onIq: stagedIq})
    const r = await run(s, ['command', 'run', MULTI, '--field', 'a=1', '--field', 'b=2'])
    expect(r.exitCode, r.stderr).toBe(75)
    expectOneLineError(r, /closed/)
    expect(s.received).toMatch(/sessionid="stage-2"/) // it was in stage 2 when the server left
    expect(r.ms).toBeLessThan(3000 + 10_000)
  })

  it.concurrent(
    'a stream error in the middle of a command: exit 75 for system-shutdown, with the condition',
    async () => {
      const s = await hostile({
        onIq: (iq, c) => {
          if (!iq.getChild('command', NS.commands)) return c.result(iq)
          c.send(
            `<stream:error><system-shutdown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/><text ` +
              `xmlns='urn:ietf:params:xml:ns:xmpp-streams'>going down</text></stream:error></stream:stream>`,
          )
        },
      })
      const r = await run(s, ['command', 'run', MULTI])
      expect(r.exitCode, r.stderr).toBe(75)
      expectOneLineError(r, /system-shutdown.*going down/)
    },
  )

  it.concurrent('the TCP connection is reset in the middle of a command: exit 75', async () => {
    const s = await hostile({
      onIq: (iq, c) => {
        if (!iq.getChild('command', NS.commands)) return c.result(iq)
        c.destroy()
      },
    })
    const r = await run(s, ['command', 'run', MULTI])
    expect(r.exitCode, r.stderr).toBe(75)
    expectOneLineError(r, /closed|reset|lost/)
  })

  it.concurrent('a command answer without <command/>, or with an unknown status: exit 76', async () => {
    const noCommand = await hostile({onIq: (iq, c) => c.result(iq)})
    const a = await run(noCommand, ['command', 'run', MULTI])
    expect(a.exitCode, a.stderr).toBe(76)
    expectOneLineError(a, /no <command\/>/)
    const badStatus = await hostile({
      onIq: (iq, c) => c.result(iq, xml('command', {xmlns: NS.commands, node: MULTI, status: 'exploded'})),
    })
    const b = await run(badStatus, ['command', 'run', MULTI])
    expect(b.exitCode, b.stderr).toBe(76)
    expectOneLineError(b, /unknown status/)
  })

  it.concurrent(
    'a command that never completes (always executing) is canceled after a bounded number of stages: exit 76',
    async () => {
      let n = 0
      let canceled = false
      const s = await hostile({
        onIq: (iq, c) => {
          const cmd = iq.getChild('command', NS.commands)
          if (cmd?.attrs.action === 'cancel') {
            canceled = true
            return c.result(iq, commandEl(MULTI, 'canceled', cmd.attrs.sessionid))
          }
          c.result(
            iq,
            commandEl(MULTI, 'executing', `s${++n}`, xml('actions', {execute: 'next'}, xml('next'))),
          )
        },
      })
      const r = await run(s, ['command', 'run', MULTI])
      expect(r.exitCode, r.stderr).toBe(76)
      expectOneLineError(r, /still executing/)
      expect(canceled).toBe(true)
      expect(n).toBeLessThanOrEqual(25)
    },
  )

  it.concurrent(
    'a result nested 50 000 levels deep: a protocol error or a result, never an internal error ' +
      '(text, --json, --debug)',
    async () => {
      const depth = 50_000
      const s = await hostile({
        onIq: (iq, c) => {
          if (!iq.getChild('command', NS.commands)) return c.result(iq)
          c.send(
            `<iq type='result' id='${iq.attrs.id}' from='localhost'><command xmlns='${NS.commands}' ` +
              `node='${MULTI}' ` +
              `status='completed'>${'<a>'.repeat(depth)}x${'</a>'.repeat(depth)}</command></iq>`,
          )
        },
      })
      for (const extra of [[], ['--json'], ['--debug']]) {
        const r = await run(s, ['command', 'run', MULTI, ...extra])
        expectNoStack(r)
        expect(
          r.exitCode,
          `${extra.join(' ') || 'text'}: ${r.stderr.slice(-300)}${r.stdout.slice(0, 300)}`,
        ).not.toBe(1)
        expect([0, 76], `${extra.join(' ') || 'text'}: ${r.stderr.slice(-300)}`).toContain(r.exitCode)
      }
    },
  )

  it.concurrent(
    'an IQ result from another JID with the id of a pending request is not taken as the answer',
    async () => {
      // Any entity that knows (or guesses) the session's full JID can send it IQ results; the ids
      // xmppadm uses are sequential. Only an answer from the JID the request went to may count.
      const s = await hostile({
        onIq: (iq, c) => {
          if (!iq.getChild('query', NS.discoItems)) return c.error(iq, 'service-unavailable')
          const items = (node: string) =>
            xml(
              'query',
              {xmlns: NS.discoItems, node: NS.commands},
              xml('item', {jid: 'localhost', node, name: node}),
            )
          c.send(
            xml(
              'iq',
              {
                type: 'result',
                id: iq.attrs.id,
                from: 'mallory@evil.example/x',
                to: 'admin@localhost/hostile',
              },
              items('urn:evil#backdoor'),
            ).toString(),
          )
          setTimeout(
            () =>
              c.send(
                xml(
                  'iq',
                  {type: 'result', id: iq.attrs.id, from: 'localhost', to: 'admin@localhost/hostile'},
                  items('urn:real#ok'),
                ).toString(),
              ),
            100,
          )
        },
      })
      const r = await run(s, ['commands', '--json'])
      expect(r.exitCode, r.stderr).toBe(0)
      const nodes = r.json.result.commands.map((c: {node: string}) => c.node)
      expect(nodes, 'the answer came from mallory@evil.example').not.toContain('urn:evil#backdoor')
      expect(nodes).toContain('urn:real#ok')
    },
  )

  it.concurrent('a text-private value the server sends back is not in the --debug trace', async () => {
    const secret = 'Srv-Token-8c1f0a6e55'
    const s = await hostile({
      onIq: (iq, c) => {
        if (!iq.getChild('command', NS.commands)) return c.result(iq)
        c.result(
          iq,
          commandEl(
            MULTI,
            'completed',
            'x',
            xml(
              'x',
              {xmlns: NS.data, type: 'result'},
              xml('field', {var: 'token', type: 'text-private'}, xml('value', {}, secret)),
            ),
          ),
        )
      },
    })
    const r = await run(s, ['command', 'run', MULTI, '--debug'])
    expect(r.exitCode, r.stderr).toBe(0)
    expect(r.stderr).toMatch(/RECV .*text-private/)
    expect(r.stderr).not.toContain(secret)
  })
})
