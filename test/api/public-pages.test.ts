import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { brotliCompressSync, gzipSync } from 'node:zlib'
import { afterAll, describe, expect, it } from 'vitest'
import { publicPages } from '../../api/routes/public-static'

const dist = mkdtempSync(path.join(tmpdir(), 'rsu-public-dist-'))
afterAll(() => rmSync(dist, { recursive: true, force: true }))

function write(file: string, text: string) {
  mkdirSync(path.dirname(path.join(dist, file)), { recursive: true })
  writeFileSync(path.join(dist, file), text)
  writeFileSync(path.join(dist, `${file}.br`), brotliCompressSync(text))
  writeFileSync(path.join(dist, `${file}.gz`), gzipSync(text))
}

describe('the public pages as the API serves them', () => {
  it('says how to build them before they are built', async () => {
    const res = await publicPages(path.join(dist, 'nothing-here')).request('/')
    expect(res.status).toBe(503)
    expect(await res.text()).toContain('npm run build:public')
  })

  it('serves each page compressed as the browser accepts, always revalidated', async () => {
    write('index.html', '<!doctype html><title>Accueil</title>')
    write('plainte/index.html', '<!doctype html><title>Déposer une plainte</title>')
    write('assets/page-abc123.js', 'console.log("page")')
    const app = publicPages(dist)

    const home = await app.request('/', { headers: { 'accept-encoding': 'gzip, br' } })
    expect(home.status).toBe(200)
    expect(home.headers.get('content-encoding')).toBe('br')
    expect(home.headers.get('cache-control')).toBe('no-cache')
    expect(home.headers.get('content-type')).toMatch(/^text\/html/)

    const plain = await app.request('/plainte/')
    expect(plain.headers.get('content-encoding')).toBeNull()
    expect(await plain.text()).toContain('Déposer une plainte')

    const script = await app.request('/assets/page-abc123.js', {
      headers: { 'accept-encoding': 'gzip' },
    })
    expect(script.headers.get('content-encoding')).toBe('gzip')
    expect(script.headers.get('cache-control')).toBe('public, max-age=31536000, immutable')
    expect((await app.request('/assets/missing.js')).status).toBe(404)
  })

  it('adds the final slash people leave out, keeping the language', async () => {
    const res = await publicPages(dist).request('/suivi?lang=en&ref=PL-2026-ABCDEF')
    expect(res.status).toBe(301)
    expect(res.headers.get('location')).toBe('/suivi/?lang=en&ref=PL-2026-ABCDEF')
  })
})
