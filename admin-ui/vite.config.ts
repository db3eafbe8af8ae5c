import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import react from '@vitejs/plugin-react'
import { defineConfig, type Plugin } from 'vite'

const root = path.dirname(fileURLToPath(import.meta.url))
const outDir = path.join(root, 'dist')

/**
 * Reports what a user's browser downloads on the console's first load, gzip-compressed: the HTML,
 * the entry chunk with every chunk it imports statically, and their CSS. Lazy pages (the dashboard
 * charts, the administration screens) are left out: they load when opened. Written to
 * `dist/size.json` and printed by every build, so a change that bloats the first load shows.
 */
function firstLoadSize(): Plugin {
  return {
    name: 'rsu-first-load-size',
    apply: 'build',
    writeBundle(_options, bundle) {
      const gzip = (file: string) => gzipSync(readFileSync(path.join(outDir, file)), { level: 9 })
      const files = new Set<string>(['index.html'])
      const visit = (name: string) => {
        const chunk = bundle[name]
        if (!chunk || files.has(name)) return
        files.add(name)
        if (chunk.type !== 'chunk') return
        chunk.viteMetadata?.importedCss.forEach((css) => files.add(css))
        chunk.imports.forEach(visit)
      }
      Object.values(bundle)
        .filter((c) => c.type === 'chunk' && c.isEntry)
        .forEach((c) => visit(c.fileName))
      const entries = [...files].sort().map((file) => ({
        file,
        bytes: readFileSync(path.join(outDir, file)).length,
        gzipBytes: gzip(file).length,
      }))
      const lazy = Object.keys(bundle).filter((f) => /\.(js|css)$/.test(f) && !files.has(f))
      const report = {
        firstLoad: {
          bytes: entries.reduce((n, e) => n + e.bytes, 0),
          gzipBytes: entries.reduce((n, e) => n + e.gzipBytes, 0),
        },
        files: entries,
        lazyChunks: lazy.length,
        lazyGzipBytes: lazy.reduce((n, f) => n + gzip(f).length, 0),
      }
      mkdirSync(outDir, { recursive: true })
      writeFileSync(path.join(outDir, 'size.json'), `${JSON.stringify(report, null, 2)}\n`)
      const kb = (n: number) => `${(n / 1024).toFixed(1)} KiB`
      this.info(
        `console first load: ${kb(report.firstLoad.gzipBytes)} gzip (${kb(report.firstLoad.bytes)} raw) in ${entries.length} files; ${lazy.length} lazy chunks (${kb(report.lazyGzipBytes)} gzip) load on demand`,
      )
    },
  }
}

/**
 * A build is always a production build, even when started from a process whose NODE_ENV is
 * something else (vitest sets `test`, which would otherwise ship React's development runtime,
 * twice the size): Vite reads NODE_ENV once this config is loaded. The caller's value is put back
 * when the bundle is written.
 */
function productionBuild(command: string): Plugin {
  const previous = process.env.NODE_ENV
  if (command === 'build') process.env.NODE_ENV = 'production'
  const restore = () => {
    if (previous === undefined) delete process.env.NODE_ENV
    else process.env.NODE_ENV = previous
  }
  return {
    name: 'rsu-production-build',
    apply: 'build',
    buildEnd: (error) => {
      if (error) restore()
    },
    closeBundle: restore,
  }
}

/** The console (react-admin), served by the API at /admin/. */
export default defineConfig(({ command }) => ({
  root,
  base: '/admin/',
  plugins: [productionBuild(command), react(), firstLoadSize()],
  build: {
    outDir,
    emptyOutDir: true,
    chunkSizeWarningLimit: 2048,
  },
}))
