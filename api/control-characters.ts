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

/**
 * Refuses, at the edge and for every route (public ones included), a JSON body with a control
 * character in any field or key: 400 `VALIDATION_FAILED` naming the field, before any handler,
 * authentication or SQL sees it. A body that is not JSON is left to the route's own validation
 * (the parsed body is cached, so routes do not parse it twice).
 */
export const refuseControlCharacters: MiddlewareHandler = async (c, next) => {
  if (['GET', 'HEAD', 'OPTIONS'].includes(c.req.method)) return next()
  if (!/^application\/([\w.-]+\+)?json\b/i.test(c.req.header('content-type') ?? '')) return next()
  let body: unknown
  try {
    body = await c.req.json()
  } catch {
    return next()
  }
  const path = controlCharacterAt(body)
  if (path !== null) {
    const message = 'must not contain control characters'
    throw new ApiError(400, 'VALIDATION_FAILED', `${path || 'body'}: ${message}`, [
      { path, message },
    ])
  }
  await next()
}
