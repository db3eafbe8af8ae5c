import type { MiddlewareHandler } from 'hono'
import { getCookie } from 'hono/cookie'
import { SESSION_COOKIE } from './auth/middleware'

const policy = (directives: Record<string, string>) =>
  Object.entries(directives)
    .map(([name, value]) => `${name} ${value}`)
    .join('; ')

/** Shared by every page: no plugin, no framing, no `<base>` trick, forms post to us only. */
const everyPage = {
  'object-src': "'none'",
  'base-uri': "'none'",
  'frame-ancestors': "'none'",
  'form-action': "'self'",
}

/**
 * Content-Security-Policy by part of the site. None allows inline script or `eval`: an injected
 * `<script>` or `onerror=` never runs, and scripts load only from this origin.
 * - the console (react-admin: Material UI injects its `<style>` elements at run time, hence
 *   inline styles, never inline script);
 * - the public pages (plain DOM, no inline style either);
 * - /api/docs (server-rendered, no script at all, one `<style>` element);
 * - every other API answer (JSON or CSV: nothing to render, nothing to load).
 */
export const CSP = {
  console: policy({
    'default-src': "'self'",
    'script-src': "'self'",
    'style-src': "'self' 'unsafe-inline'",
    'img-src': "'self' data: blob:",
    'font-src': "'self' data:",
    'connect-src': "'self'",
    'worker-src': "'self'",
    'manifest-src': "'self'",
    ...everyPage,
  }),
  public: policy({
    'default-src': "'self'",
    'script-src': "'self'",
    'style-src': "'self'",
    'img-src': "'self' data:",
    'connect-src': "'self'",
    ...everyPage,
  }),
  docs: policy({
    'default-src': "'none'",
    'style-src': "'unsafe-inline'",
    'img-src': "'self' data:",
    ...everyPage,
    'form-action': "'none'",
  }),
  api: policy({ 'default-src': "'none'", 'frame-ancestors': "'none'", 'base-uri': "'none'" }),
} as const

const cspFor = (path: string) =>
  path === '/api/docs' || path.startsWith('/api/docs/')
    ? CSP.docs
    : path.startsWith('/api/')
      ? CSP.api
      : path === '/admin' || path.startsWith('/admin/')
        ? CSP.console
        : CSP.public

/**
 * Sets the Content-Security-Policy of every answer, and `Cache-Control: no-store` on every API
 * answer to a request that carried credentials (a session cookie or a bearer token): what a
 * signed-in user reads (cases, tasks, `me`, households) must stay in no browser or proxy cache.
 * API answers that set no caching of their own are `no-store` too.
 */
export const securityHeaders: MiddlewareHandler = async (c, next) => {
  await next()
  c.res.headers.set('Content-Security-Policy', cspFor(c.req.path))
  if (!c.req.path.startsWith('/api/')) return
  const credentials =
    c.req.header('authorization') !== undefined || getCookie(c, SESSION_COOKIE) !== undefined
  if (credentials || !c.res.headers.has('Cache-Control')) {
    c.res.headers.set('Cache-Control', 'no-store')
  }
}
