import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { defineConfig, type Plugin } from 'vite'
import { brotli, gzip, kib, measurePage, PUBLIC_PAGE_BUDGET_BYTES } from './size-report.ts'

const root = path.dirname(fileURLToPath(import.meta.url))
const outDir = path.join(root, 'dist')
const pages = ['index.html', 'plainte/index.html', 'suivi/index.html']

/**
 * Writes each file also gzip- and brotli-compressed (the API serves those to browsers that accept
 * them), then measures each page's first load as sent (HTML + scripts + stylesheets) into
 * `dist/size.json`, and fails the build when a page goes over the budget: the public pages must
 * stay light on a slow mobile connection.
 */
function compressAndMeasure(): Plugin {
  return {
    name: 'rsu-public-size',
    apply: 'build',
    writeBundle() {
      const files = readdirSync(outDir, { recursive: true, withFileTypes: true })
        .filter((e) => e.isFile() && /\.(html|js|css|json|svg)$/.test(e.name))
        .map((e) => path.join(e.parentPath, e.name))
      for (const file of files) {
        const data = readFileSync(file)
        writeFileSync(`${file}.gz`, gzip(data))
        writeFileSync(`${file}.br`, brotli(data))
      }
      const measured = pages.map((p) => measurePage(outDir, p))
      const report = { budgetBytes: PUBLIC_PAGE_BUDGET_BYTES, pages: measured }
      writeFileSync(path.join(outDir, 'size.json'), `${JSON.stringify(report, null, 2)}\n`)
      for (const p of measured) {
        this.info(
          `public page ${p.page}: ${kib(p.gzipBytes)} gzip, ${kib(p.brotliBytes)} brotli (${kib(p.bytes)} raw) in ${p.files.length} files`,
        )
      }
      const over = measured.filter((p) => p.gzipBytes > PUBLIC_PAGE_BUDGET_BYTES)
      if (over.length) {
        this.error(
          `public pages over the ${PUBLIC_PAGE_BUDGET_BYTES / 1000} KB budget: ${over.map((p) => `${p.page} ${kib(p.gzipBytes)}`).join(', ')}`,
        )
      }
    },
  }
}

/** The public pages (submit and follow a grievance), served by the API at /. */
export default defineConfig({
  root,
  base: '/',
  plugins: [compressAndMeasure()],
  build: {
    outDir,
    emptyOutDir: true,
    // No inline data URLs: every byte is counted in the files the pages name.
    assetsInlineLimit: 0,
    rollupOptions: {
      input: Object.fromEntries(
        pages.map((p) => [p.replace(/\/?index\.html$/, '') || 'home', path.join(root, p)]),
      ),
    },
  },
})
