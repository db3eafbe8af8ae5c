import type { z } from 'zod'

type Message = string | { message: string; args: Record<string, unknown> }

/** Form values without empty optional text (an empty field means "not given"). */
export const cleanValues = (values: Record<string, unknown>) =>
  Object.fromEntries(
    Object.entries(values).filter(
      ([, v]) => v !== undefined && v !== null && !(typeof v === 'string' && v.trim() === ''),
    ),
  )

/**
 * A react-admin form validator from the same zod schema the workflow checks a completion against:
 * what the console accepts is exactly what the case will accept. Messages are catalogue keys.
 */
export function zodValidate(schema: z.ZodType) {
  return (values: Record<string, unknown>): Record<string, Message> => {
    const parsed = schema.safeParse(cleanValues(values))
    if (parsed.success) return {}
    const errors: Record<string, Message> = {}
    for (const issue of parsed.error.issues) {
      const field = String(issue.path[0] ?? '')
      if (!field || errors[field]) continue
      const given = cleanValues(values)[field] !== undefined
      if (!given) errors[field] = 'ra.validation.required'
      else if (issue.code === 'too_small')
        errors[field] = { message: 'ra.validation.minLength', args: { min: issue.minimum } }
      else if (issue.code === 'too_big')
        errors[field] = { message: 'ra.validation.maxLength', args: { max: issue.maximum } }
      else errors[field] = 'rsu.validation.invalid'
    }
    return errors
  }
}
