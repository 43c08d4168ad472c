// In-band registration (XEP-0077) as a stranger sees it, on a stream that is not logged in. The
// form alone proves nothing (ejabberd answers it whatever its access rule says), so where a form
// comes back, xmppadm asks to register the name of the account it audits with, which exists:
// an open server answers "conflict" (it got as far as the name), a closed one refuses first.
// No account can be created that way, and the password sent is random, never the admin's.
import {randomBytes} from 'node:crypto'
import {type Element, xml} from '@xmpp/xml'
import {registerSecret} from '../secrets.js'
import {parseStanzaError} from '../xmpp/stanza-error.js'
import {type CheckResult, check, errorText} from './check.js'
import {type ProbeEndpoint, type ProbeOptions, describeEndpoint, openTls, preAuthIq} from './probe.js'
import type {AuditSettings} from './settings.js'

const NS_REGISTER = 'jabber:iq:register'
const NS_FEATURE = 'http://jabber.org/features/iq-register'
const NS_DATA = 'jabber:x:data'
const NS_OOB = 'jabber:x:oob'

/** Conditions of a refused sign-up (closed), and of one refused only after the name was looked at. */
const CLOSED = new Set([
  'forbidden',
  'not-allowed',
  'not-authorized',
  'policy-violation',
  'registration-required',
  'service-unavailable',
  'feature-not-implemented',
])
const GOT_AS_FAR_AS_THE_NAME = new Set(['conflict', 'resource-constraint'])

export interface RegistrationSeen {
  advertised: boolean
  /** What the get answered: a form (its fields), a redirect, a CAPTCHA, or an error condition. */
  get: {form?: string[]; redirect?: string; captcha?: boolean; error?: string}
  /** What the set with an existing name answered (only when a form came back). */
  set?: {result?: true; error?: string; text?: string}
}

function formFields(query: Element): string[] {
  const x = query.getChild('x', NS_DATA)
  if (x)
    return x
      .getChildren('field')
      .map((f) => String(f.attrs.var ?? ''))
      .filter((v) => v && v !== 'FORM_TYPE')
  return query
    .getChildElements()
    .map((c) => c.name)
    .filter((n) => !['instructions', 'registered', 'x'].includes(n))
}

function isCaptcha(query: Element): boolean {
  const x = query.getChild('x', NS_DATA)
  const formType = x
    ?.getChildren('field')
    .find((f) => f.attrs.var === 'FORM_TYPE')
    ?.getChildText('value')
  return (
    formType === 'urn:xmpp:captcha' || Boolean(x?.getChildren('field').some((f) => f.attrs.var === 'ocr'))
  )
}

export function judgeRegistration(
  target: string,
  seen: RegistrationSeen,
  settings: AuditSettings,
): CheckResult {
  const advertised = seen.advertised ? 'advertised in the stream features' : 'not advertised'
  const verdictIfOpen = settings.registration === 'open' ? 'pass' : 'fail'
  const allowed = settings.registration === 'open' ? ', which the policy allows' : ''
  const hint =
    'close it (Prosody: allow_registration = false; ejabberd: mod_register access: none), or use invitations'
  if (seen.get.redirect)
    return check(
      'registration',
      'registration',
      target,
      'pass',
      `no in-band sign-up: the server points to ${seen.get.redirect} (${advertised})`,
    )
  if (seen.get.captcha)
    return check(
      'registration',
      'registration',
      target,
      settings.registration === 'open' ? 'pass' : 'warn',
      `sign-up is open behind a CAPTCHA (${advertised})${allowed}`,
    )
  if (!seen.get.form)
    return check(
      'registration',
      'registration',
      target,
      'pass',
      `closed: a registration request gets ${seen.get.error ?? 'no form'} (${advertised})`,
    )
  const fields = seen.get.form.join(', ')
  if (!seen.set)
    return check(
      'registration',
      'registration',
      target,
      'cannot-tell',
      `a registration form (${fields}) is offered (${advertised}); without an admin login ` +
        'xmppadm has no existing name to try it with',
    )
  const said = seen.set.text ? ` (${seen.set.text})` : ''
  if (seen.set.result)
    return check(
      'registration',
      'registration',
      target,
      'fail',
      'an unauthenticated request to register an existing name was accepted: the server may let ' +
        `anyone reset a password (${advertised})`,
    )
  if (seen.set.error && CLOSED.has(seen.set.error))
    return check(
      'registration',
      'registration',
      target,
      'pass',
      `closed: the form (${fields}) is shown, but signing up is refused: ${seen.set.error}${said}`,
    )
  if (seen.set.error && GOT_AS_FAR_AS_THE_NAME.has(seen.set.error))
    return check(
      'registration',
      'registration',
      target,
      verdictIfOpen,
      `open to anyone: an unauthenticated sign-up with an existing name got ${seen.set.error} ` +
        `(the name was checked, so a new one would be created; ${advertised})${allowed}`,
      verdictIfOpen === 'fail' ? hint : undefined,
    )
  return check(
    'registration',
    'registration',
    target,
    'cannot-tell',
    `a sign-up with an existing name got ${seen.set.error ?? 'no answer'}${said}`,
  )
}

/** The probe; `existingName` is the local part of the account xmppadm logged in with (if it did). */
export async function auditRegistration(
  endpoint: ProbeEndpoint,
  opts: ProbeOptions,
  settings: AuditSettings,
  existingName: Promise<string | undefined>,
): Promise<CheckResult> {
  const target = describeEndpoint(endpoint)
  let stream: Awaited<ReturnType<typeof openTls>>
  try {
    stream = await openTls(endpoint, opts)
  } catch (error) {
    return check('registration', 'registration', target, 'cannot-tell', errorText(error))
  }
  const {conn} = stream
  try {
    const features = await conn.openStream(opts.domain)
    const seen: RegistrationSeen = {advertised: Boolean(features.getChild('register', NS_FEATURE)), get: {}}
    const got = await preAuthIq(conn, 'get', xml('query', {xmlns: NS_REGISTER}))
    const query = got.getChild('query', NS_REGISTER)
    if (got.attrs.type === 'error' || !query) seen.get.error = parseStanzaError(got).condition
    else if (query.getChild('x', NS_OOB) && !query.getChild('x', NS_DATA) && !query.getChild('username'))
      seen.get.redirect = query.getChild('x', NS_OOB)?.getChildText('url') ?? 'a web page'
    else if (isCaptcha(query)) seen.get.captcha = true
    else seen.get.form = formFields(query)
    const name = seen.get.form ? await existingName : undefined
    if (name) {
      const password = randomBytes(24).toString('base64url')
      registerSecret(password)
      const answer = await preAuthIq(
        conn,
        'set',
        xml('query', {xmlns: NS_REGISTER}, xml('username', {}, name), xml('password', {}, password)),
      )
      if (answer.attrs.type === 'result') seen.set = {result: true}
      else {
        const e = parseStanzaError(answer)
        seen.set = {error: e.condition, ...(e.text ? {text: e.text} : {})}
      }
    }
    return judgeRegistration(target, seen, settings)
  } catch (error) {
    // A server may end an unauthenticated stream that asks anything: that is a closed door too.
    const text = errorText(error)
    if (/not-authorized|policy-violation|closed the stream/.test(text))
      return check('registration', 'registration', target, 'pass', `closed: ${text}`)
    return check('registration', 'registration', target, 'cannot-tell', text)
  } finally {
    conn.close()
  }
}
