// XEP-0004 data forms: parse what servers send (tolerating missing field types and result forms
// typed "form"), and build submissions.
import {type Element, xml} from '@xmpp/xml'
import {dataError} from '../errors.js'
import {parseJid} from '../xmpp/jid.js'

export const NS_DATA = 'jabber:x:data'

export const FIELD_TYPES = [
  'boolean',
  'fixed',
  'hidden',
  'jid-multi',
  'jid-single',
  'list-multi',
  'list-single',
  'text-multi',
  'text-private',
  'text-single',
] as const
export type FieldType = (typeof FIELD_TYPES)[number]

export interface FieldOption {
  label?: string
  value: string
}

export interface FormField {
  var?: string
  type: FieldType
  /** True when the server sent no type attribute (we assume text-single, per XEP-0004). */
  untyped?: boolean
  label?: string
  desc?: string
  required: boolean
  values: string[]
  options: FieldOption[]
}

export interface DataForm {
  type: string
  title?: string
  instructions: string[]
  fields: FormField[]
  /** Table forms: column definitions and rows. */
  reported?: FormField[]
  items: FormField[][]
  /**
   * Other elements the form carries next to its fields: XEP-0133's get-user-roster puts the roster
   * (<query xmlns='jabber:iq:roster'/>) here.
   */
  payload: Element[]
}

const FORM_PARTS = new Set(['title', 'instructions', 'field', 'reported', 'item'])

function parseField(el: Element): FormField {
  const rawType = el.attrs.type
  const type: FieldType = (FIELD_TYPES as readonly string[]).includes(rawType)
    ? (rawType as FieldType)
    : 'text-single'
  return {
    var: el.attrs.var || undefined,
    type,
    untyped: rawType ? undefined : true,
    label: el.attrs.label || undefined,
    desc: el.getChildText('desc') || undefined,
    required: Boolean(el.getChild('required')),
    values: el.getChildren('value').map((v) => v.getText()),
    options: el
      .getChildren('option')
      .map((o) => ({label: o.attrs.label || undefined, value: o.getChildText('value') ?? ''})),
  }
}

export function parseForm(x: Element): DataForm {
  const reportedEl = x.getChild('reported')
  return {
    type: x.attrs.type ?? 'form',
    title: x.getChildText('title') || undefined,
    instructions: x.getChildren('instructions').map((i) => i.getText()),
    fields: x.getChildren('field').map(parseField),
    reported: reportedEl ? reportedEl.getChildren('field').map(parseField) : undefined,
    items: x.getChildren('item').map((item) => item.getChildren('field').map(parseField)),
    payload: x.getChildElements().filter((c) => !FORM_PARTS.has(c.name)),
  }
}

export const isMulti = (t: FieldType) => t === 'jid-multi' || t === 'list-multi' || t === 'text-multi'

export function formType(form: DataForm): string | undefined {
  return (
    form.fields.find((f) => f.var === 'FORM_TYPE' && f.type === 'hidden')?.values[0] ??
    form.fields.find((f) => f.var === 'FORM_TYPE')?.values[0]
  )
}

/** A field's value as JSON: arrays for multi fields, booleans for boolean fields. */
export function fieldValue(f: FormField): string | string[] | boolean | null {
  if (f.type === 'boolean')
    return f.values.length ? ['1', 'true'].includes(f.values[0].trim().toLowerCase()) : null
  if (isMulti(f.type)) return f.values
  // tolerate servers that send lists untyped
  if (f.type === 'text-single' && f.values.length > 1) return f.values
  return f.values.length ? f.values[0] : null
}

/** Named values of a result form (hidden and fixed fields left out). */
export function formValues(form: DataForm): Record<string, string | string[] | boolean | null> {
  // No prototype: a field named "__proto__" is data, not a prototype change.
  const out: Record<string, string | string[] | boolean | null> = Object.create(null)
  for (const f of form.fields) {
    if (!f.var || f.type === 'fixed' || f.var === 'FORM_TYPE') continue
    out[f.var] = fieldValue(f)
  }
  return out
}

/** Rows of a reported/item table as objects keyed by column var. */
export function formRows(form: DataForm): Array<Record<string, string | string[] | boolean | null>> {
  return form.items.map((item) => {
    const row: Record<string, string | string[] | boolean | null> = Object.create(null)
    for (const f of item)
      if (f.var)
        row[f.var] = fieldValue({...f, type: form.reported?.find((r) => r.var === f.var)?.type ?? f.type})
    return row
  })
}

/** Checks and normalises user-supplied values for a field; throws a data error naming the field. */
export function normaliseValues(field: FormField, values: string[]): string[] {
  const name = field.var ?? '(unnamed)'
  let vals = values
  if (isMulti(field.type))
    vals = values.flatMap((v) => v.split('\n')).filter((v, i, all) => v !== '' || all.length === 1)
  else if (values.length > 1)
    throw dataError(`field ${name} (${field.type}) takes one value, got ${values.length}`)
  switch (field.type) {
    case 'boolean': {
      const v = (vals[0] ?? '').trim().toLowerCase()
      if (['1', 'true', 'yes', 'on'].includes(v)) return ['1']
      if (['0', 'false', 'no', 'off'].includes(v)) return ['0']
      throw dataError(`field ${name} is boolean: use true or false, not ${JSON.stringify(vals[0])}`)
    }
    case 'jid-single':
    case 'jid-multi':
      for (const v of vals) if (v) parseJid(v, `field ${name}`)
      return vals
    case 'list-single':
    case 'list-multi':
      if (field.options.length) {
        for (const v of vals) {
          if (!field.options.some((o) => o.value === v)) {
            throw dataError(
              `field ${name}: ${JSON.stringify(v)} is not one of ` +
                `${field.options.map((o) => o.value).join(', ')}`,
            )
          }
        }
      }
      return vals
    default:
      return vals
  }
}

// XML 1.0 Char, minus CR (XML turns a raw CR into LF, silently changing a value such as a password).
const NOT_SENDABLE = /[^\t\n\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u

function checkSendable(name: string, value: string, what: string): void {
  // Unpaired surrogates fail the /u class above only when they stand alone; check explicitly.
  if (NOT_SENDABLE.test(value) || /[\uD800-\uDFFF]/u.test(value)) {
    throw dataError(
      `${what} ${JSON.stringify(name)} contains a character XML cannot carry (control character, CR, ` +
        `or an unpaired surrogate)`,
    )
  }
}

/** A submit form: hidden fields echoed, then the given values (each var once). */
export function buildSubmit(form: DataForm | undefined, values: Map<string, string[]>): Element {
  for (const [name, vals] of values) {
    checkSendable(name, name, 'field name')
    if (/\s/.test(name)) throw dataError(`field name ${JSON.stringify(name)} contains white space`)
    for (const v of vals) checkSendable(name, v, 'value of field')
  }
  const x = xml('x', {xmlns: NS_DATA, type: 'submit'})
  const seen = new Set<string>()
  for (const f of form?.fields ?? []) {
    // Some servers list a var twice (ejabberd mod_adhoc_api's user/host); submitting both is an error there.
    if (!f.var || seen.has(f.var) || f.type === 'fixed') continue
    seen.add(f.var)
    const vals = values.get(f.var) ?? (f.type === 'hidden' || f.values.length ? f.values : undefined)
    if (vals === undefined) continue
    const field = x.c('field', {var: f.var, type: f.untyped ? undefined : f.type})
    for (const v of vals) field.c('value').t(v)
  }
  for (const [name, vals] of values) {
    if (seen.has(name)) continue
    seen.add(name)
    const field = x.c('field', {var: name})
    for (const v of vals) field.c('value').t(v)
  }
  return x
}

/** JSON shape of a form, for --json output. */
export function formToJson(form: DataForm) {
  return {
    type: form.type,
    title: form.title,
    instructions: form.instructions.length ? form.instructions : undefined,
    fields: form.fields
      .filter((f) => f.type !== 'hidden')
      .map((f) => ({
        var: f.var,
        type: f.type,
        label: f.label,
        required: f.required || undefined,
        value: fieldValue(f),
        options: f.options.length ? f.options : undefined,
      })),
    values: formValues(form),
    columns: form.reported?.map((r) => ({var: r.var, label: r.label})),
    rows: form.reported || form.items.length ? formRows(form) : undefined,
  }
}
