import { readFileSync } from 'node:fs'
import path from 'node:path'
import { brotliCompressSync, constants, gzipSync } from 'node:zlib'

/** The public pages' budget: what a phone downloads on a page's first load, compressed. */
export const PUBLIC_PAGE_BUDGET_BYTES = 300_000

export interface FileSize {
  file: string
  bytes: number
  gzipBytes: number
  brotliBytes: number
}

export interface PageSize {
  /** The page's address, e.g. `/plainte/`. */
  page: string
  files: FileSize[]
  bytes: number
  gzipBytes: number
  brotliBytes: number
}

export const gzip = (data: Buffer) => gzipSync(data, { level: 9 })
export const brotli = (data: Buffer) =>
  brotliCompressSync(data, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } })

export function fileSize(dir: string, file: string): FileSize {
  const data = readFileSync(path.join(dir, file))
  return {
    file,
    bytes: data.length,
    gzipBytes: gzip(data).length,
    brotliBytes: brotli(data).length,
  }
}

/**
 * What the browser fetches on a page's first load: the HTML and every script, module preload and
 * stylesheet it names (the build puts every static import there), each compressed as the server
 * sends it.
 */
export function measurePage(dir: string, htmlFile: string, base = '/'): PageSize {
  const html = readFileSync(path.join(dir, htmlFile), 'utf8')
  const named = [...html.matchAll(/<(?:script|link)\b[^>]*?\b(?:src|href)="([^"]+)"/g)]
    .map((m) => m[1]!)
    .filter((url) => url.startsWith(base) && /\.(js|css)$/.test(url))
    .map((url) => url.slice(base.length))
  const files = [htmlFile, ...new Set(named)].map((file) => fileSize(dir, file))
  const page = `${base}${htmlFile.replace(/index\.html$/, '')}`
  const sum = (key: 'bytes' | 'gzipBytes' | 'brotliBytes') => files.reduce((n, f) => n + f[key], 0)
  return {
    page,
    files,
    bytes: sum('bytes'),
    gzipBytes: sum('gzipBytes'),
    brotliBytes: sum('brotliBytes'),
  }
}

export const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`
