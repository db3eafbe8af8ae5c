import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { gunzipSync } from 'node:zlib'
import { Hono } from 'hono'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { consoleStaticRoutes } from '../../api/routes/console-static'

// The console's build as the API serves it: a client route reloads the page, hashed files are
// cached for good, index.html never, and everything goes compressed over slow connections.

let dir: string
const appFor = (dist: string) => new Hono().route('/admin', consoleStaticRoutes(dist))
const script = `console.log(${JSON.stringify('x'.repeat(4000))})`

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'rsu-console-'))
  mkdirSync(path.join(dir, 'dist', 'assets'), { recursive: true })
  writeFileSync(
    path.join(dir, 'dist', 'index.html'),
    '<!doctype html><html lang="fr"><script src="/admin/assets/index-abc123.js"></script></html>',
  )
  writeFileSync(path.join(dir, 'dist', 'assets', 'index-abc123.js'), script)
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('the built console at /admin/', () => {
  it('answers index.html, not cached, for the root and for any client route', async () => {
    const app = appFor(path.join(dir, 'dist'))
    for (const url of ['/admin/', '/admin/tasks/G-1a2b-T1/show', '/admin/login']) {
      const res = await app.request(url)
      expect(res.status, url).toBe(200)
      expect(res.headers.get('cache-control')).toBe('no-cache')
      expect(await res.text()).toContain('/admin/assets/index-abc123.js')
    }
  })

  it('serves hashed assets cached for a year, and a missing one as a 404', async () => {
    const app = appFor(path.join(dir, 'dist'))
    const res = await app.request('/admin/assets/index-abc123.js')
    expect(res.status).toBe(200)
    expect(res.headers.get('cache-control')).toContain('immutable')
    expect(res.headers.get('content-type')).toContain('javascript')
    expect(await res.text()).toBe(script)
    const missing = await app.request('/admin/assets/index-old999.js')
    expect(missing.status).toBe(404)
    expect(await missing.text()).not.toContain('<html')
  })

  it('compresses what it sends when the browser accepts gzip', async () => {
    const app = appFor(path.join(dir, 'dist'))
    const res = await app.request('/admin/assets/index-abc123.js', {
      headers: { 'accept-encoding': 'gzip' },
    })
    expect(res.headers.get('content-encoding')).toBe('gzip')
    const body = Buffer.from(await res.arrayBuffer())
    expect(body.length).toBeLessThan(script.length / 4)
    expect(gunzipSync(body).toString()).toBe(script)
  })

  it('says in French how to build the console when it was never built', async () => {
    const app = appFor(path.join(dir, 'nowhere'))
    for (const url of ['/admin/', '/admin/assets/index-abc123.js']) {
      const res = await app.request(url)
      const page = await res.text()
      expect(page).toContain('lang="fr"')
      expect(page).toContain('npm run build:console')
      expect(res.headers.get('cache-control')).toBe('no-store')
    }
  })
})
