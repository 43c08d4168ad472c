// Interactive prompts on stderr (inquirer), loaded only when a prompt is really needed.
import type {DataForm, FormField} from '../protocol/dataform.js'

const ctx = {output: process.stderr}

export async function promptPassword(message: string): Promise<string> {
  const {password} = await import('@inquirer/prompts')
  return password({message, mask: '*'}, ctx)
}

export async function confirm(message: string): Promise<boolean> {
  const {confirm: ask} = await import('@inquirer/prompts')
  return ask({message, default: false}, ctx)
}

/** A prompt that fits the field type; undefined leaves an optional field out. */
export async function promptField(field: FormField, form: DataForm): Promise<string[] | undefined> {
  const p = await import('@inquirer/prompts')
  const label = field.label ?? field.var ?? 'value'
  const message = `${form.title ? `${form.title}: ` : ''}${label}${field.required ? '' : ' (optional)'}`
  const def = field.values[0]
  switch (field.type) {
    case 'text-private':
      return [await p.password({message, mask: '*'}, ctx)]
    case 'boolean':
      return [(await p.confirm({message, default: def === '1' || def === 'true'}, ctx)) ? '1' : '0']
    case 'list-single':
      if (field.options.length) {
        return [
          await p.select(
            {
              message,
              choices: field.options.map((o) => ({name: o.label ?? o.value, value: o.value})),
              default: def,
            },
            ctx,
          ),
        ]
      }
      return [await p.input({message, default: def}, ctx)]
    case 'list-multi':
      return p.checkbox(
        {
          message,
          choices: field.options.map((o) => ({
            name: o.label ?? o.value,
            value: o.value,
            checked: field.values.includes(o.value),
          })),
        },
        ctx,
      )
    case 'jid-multi':
    case 'text-multi': {
      const text = await p.input(
        {message: `${message} (comma-separated)`, default: field.values.join(', ')},
        ctx,
      )
      return text
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    }
    default: {
      const v = await p.input({message, default: def, required: field.required}, ctx)
      return v === '' && !field.required ? undefined : [v]
    }
  }
}
