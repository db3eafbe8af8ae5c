import type { MiddlewareHandler } from 'hono'
import { ApiError } from './errors'

/**
 * C0 controls but tab, line feed and carriage return (a narrative or a CSV has lines), DEL and
 * the C1 controls. NUL above all: PostgreSQL text cannot hold it, and it answered a 500.
 */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/

/** The path (`contact.email`, `roles.0.areaCode`) of the first string or key holding one. */
export function controlCharacterAt(value: unknown, path: string[] = []): string | null {
  if (typeof value === 'string') return CONTROL.test(value) ? path.join('.') : null
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) {
      const found = controlCharacterAt(item, [...path, String(i)])
      if (found !== null) return found
    }
    return null
  }
  if (value && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      if (CONTROL.test(key)) return [...path, key].join('.')
      const found = controlCharacterAt(item, [...path, key])
      if (found !== null) return found
    }
  }
  return null
}

const refuse = (path: string) => {
  const message = 'must not contain control characters'
  return new ApiError(400, 'VALIDATION_FAILED', `${path || 'body'}: ${message}`, [
    { path, message },
  ])
}

/**
 * Refuses, at the edge and for every route (public ones included), a body with a control
 * character in any field or key: 400 `VALIDATION_FAILED` naming the field, before any handler,
 * authentication or SQL sees it. JSON bodies field by field; forms (`multipart/form-data`,
 * urlencoded) field by field, uploaded files included; CSV and plain text as a whole (`body`).
 * A body that does not parse is left to the route's own validation. Parsed bodies are cached by
 * Hono, so routes do not read them twice.
 */
export const refuseControlCharacters: MiddlewareHandler = async (c, next) => {
  if (['GET', 'HEAD', 'OPTIONS'].includes(c.req.method)) return next()
  const type = c.req.header('content-type') ?? ''
  if (/^application\/([\w.-]+\+)?json\b/i.test(type)) {
    let body: unknown
    try {
      body = await c.req.json()
    } catch {
      return next()
    }
    const path = controlCharacterAt(body)
    if (path !== null) throw refuse(path)
  } else if (/^(multipart\/form-data|application\/x-www-form-urlencoded)\b/i.test(type)) {
    let form: Record<string, string | File | (string | File)[]>
    try {
      form = await c.req.parseBody({ all: true })
    } catch {
      return next()
    }
    for (const [key, value] of Object.entries(form)) {
      if (CONTROL.test(key)) throw refuse(key)
      for (const item of Array.isArray(value) ? value : [value]) {
        const text = typeof item === 'string' ? item : await item.text()
        if (CONTROL.test(text)) throw refuse(key)
      }
    }
  } else if (/^text\//i.test(type)) {
    if (CONTROL.test(await c.req.text())) throw refuse('')
  }
  await next()
}
