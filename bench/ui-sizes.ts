import { existsSync } from 'node:fs'
import path from 'node:path'
import { createLogger } from '../activities/infra/logger'
import { ensureUiBuilt, uiDistDir, type UiAppName } from '../activities/infra/ui-build'
import { kib, measurePage, PUBLIC_PAGE_BUDGET_BYTES, type PageSize } from '../public-ui/size-report'

/**
 * What a browser downloads on the first load of each page, compressed as the API sends it: the
 * public pages (budget 300 KB) and the console. Builds what is stale first.
 * `node --import tsx bench/ui-sizes.ts [--json]`
 */
const front: { name: UiAppName; base: string; pages: string[] }[] = [
  { name: 'public', base: '/', pages: ['index.html', 'plainte/index.html', 'suivi/index.html'] },
  { name: 'console', base: '/admin/', pages: ['index.html'] },
]

const log = createLogger('warn', true)
const rows: (PageSize & { app: UiAppName })[] = []
for (const app of front) {
  try {
    await ensureUiBuilt(log, { only: [app.name] })
  } catch (error) {
    console.error(`the ${app.name} front end does not build: ${(error as Error).message}`)
  }
  const dir = uiDistDir(app.name)
  for (const page of app.pages) {
    if (!existsSync(path.join(dir, page))) continue
    rows.push({ app: app.name, ...measurePage(dir, page, app.base) })
  }
}

if (process.argv.includes('--json')) {
  console.log(JSON.stringify({ budgetBytes: PUBLIC_PAGE_BUDGET_BYTES, pages: rows }, null, 2))
} else {
  console.log('first load of each page (HTML + scripts + styles), as sent over the network')
  console.log(
    `${'page'.padEnd(12)} ${'gzip'.padStart(10)} ${'brotli'.padStart(10)} ${'raw'.padStart(10)}  files`,
  )
  for (const r of rows) {
    console.log(
      `${r.page.padEnd(12)} ${kib(r.gzipBytes).padStart(10)} ${kib(r.brotliBytes).padStart(10)} ${kib(r.bytes).padStart(10)}  ${r.files.length}`,
    )
  }
  console.log(`public pages budget: ${PUBLIC_PAGE_BUDGET_BYTES / 1000} KB compressed (gzip), each`)
}
const over = rows.filter((r) => r.app === 'public' && r.gzipBytes > PUBLIC_PAGE_BUDGET_BYTES)
if (over.length) process.exitCode = 1
