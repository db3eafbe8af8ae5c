import { fetchUtils, HttpError } from 'react-admin'

/** Base path of the API, on the origin that serves the console. */
export const API_URL = '/api'

const CSRF_KEY = 'rsu-csrf'

/**
 * The CSRF token received at sign-in, sent as `X-CSRF-Token` on every write. Kept for the tab's
 * life only (sessionStorage): a new tab signs in again rather than keep it around.
 */
export const csrf = {
  get: (): string | null => sessionStorage.getItem(CSRF_KEY),
  set: (token: string) => sessionStorage.setItem(CSRF_KEY, token),
  clear: () => sessionStorage.removeItem(CSRF_KEY),
}

/** The API's one error shape. */
export interface ApiErrorBody {
  error: { code: string; message: string; details?: { path: string; message: string }[] }
}

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS'])

/**
 * fetch with the session cookie and, on writes, the CSRF token; an error answer becomes an
 * HttpError whose message is the stable code (the console translates `errors.<CODE>`) and whose
 * body keeps the details.
 */
export async function httpClient(url: string, options: fetchUtils.Options = {}) {
  const headers = new Headers(options.headers ?? { Accept: 'application/json' })
  const method = (options.method ?? 'GET').toUpperCase()
  const token = csrf.get()
  if (!SAFE.has(method) && token) headers.set('X-CSRF-Token', token)
  if (options.body && !headers.has('Content-Type')) headers.set('Content-Type', 'application/json')
  try {
    return await fetchUtils.fetchJson(url, { ...options, headers, credentials: 'include' })
  } catch (error) {
    if (error instanceof HttpError) {
      const body = error.body as Partial<ApiErrorBody> | undefined
      const code = body?.error?.code
      if (code) throw new HttpError(`errors.${code}`, error.status, body)
    }
    throw error
  }
}

/** POSTs a JSON body and answers the parsed JSON. */
export async function postJson<T>(path: string, body: unknown): Promise<T> {
  const { json } = await httpClient(`${API_URL}${path}`, {
    method: 'POST',
    body: JSON.stringify(body ?? {}),
  })
  return json as T
}

/** GETs a JSON document. */
export async function getJson<T>(path: string): Promise<T> {
  const { json } = await httpClient(`${API_URL}${path}`)
  return json as T
}
