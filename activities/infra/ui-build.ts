import { existsSync } from 'node:fs'
import { readdir, stat } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import lockfile from 'proper-lockfile'
import type { Logger } from './logger'

const root = fileURLToPath(new URL('../../', import.meta.url))

/** The two front ends: the console (react-admin, /admin) and the light public pages (/). */
export const uiApps = [
  { name: 'console', dir: path.join(root, 'admin-ui') },
  { name: 'public', dir: path.join(root, 'public-ui') },
] as const

export type UiAppName = (typeof uiApps)[number]['name']

/** Where a front end's build lands (served as static files by the API). */
export function uiDistDir(name: UiAppName): string {
  const app = uiApps.find((a) => a.name === name)
  if (!app) throw new Error(`unknown front end ${name}`)
  return path.join(app.dir, 'dist')
}

async function newestSourceTime(dir: string): Promise<number> {
  let newest = 0
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    const full = path.join(entry.parentPath, entry.name)
    if (!entry.isFile() || full.includes(`${path.sep}dist${path.sep}`)) continue
    if (full.includes(`${path.sep}node_modules${path.sep}`) || /\.test\.tsx?$/.test(entry.name))
      continue
    newest = Math.max(newest, (await stat(full)).mtimeMs)
  }
  return newest
}

async function isStale(dir: string): Promise<boolean> {
  const built = path.join(dir, 'dist', 'index.html')
  if (!existsSync(built)) return true
  return (await newestSourceTime(dir)) > (await stat(built)).mtimeMs
}

/**
 * Builds each front end whose sources are newer than its build (or that was never built), so that
 * `npm start` and the browser tests work right after `npm install`. A lock per front end keeps
 * two processes (a start and a test run) from writing the same dist/ at once. `only` limits it to
 * some front ends (a browser test of the public pages needs no console).
 */
export async function ensureUiBuilt(
  log: Logger,
  options: { force?: boolean; only?: UiAppName[] } = {},
): Promise<void> {
  for (const app of uiApps) {
    if (options.only && !options.only.includes(app.name)) continue
    if (!existsSync(path.join(app.dir, 'vite.config.ts'))) continue
    if (!options.force && !(await isStale(app.dir))) continue
    const release = await lockfile.lock(app.dir, {
      lockfilePath: path.join(app.dir, '.build.lock'),
      stale: 60_000,
      retries: { retries: 120, minTimeout: 1_000, maxTimeout: 1_000 },
    })
    try {
      if (!options.force && !(await isStale(app.dir))) continue
      log.info(`building the ${app.name} front end (vite)…`)
      const started = Date.now()
      const { build } = await import('vite')
      await build({
        configFile: path.join(app.dir, 'vite.config.ts'),
        logLevel: 'warn',
      })
      log.info(`${app.name} front end built in ${((Date.now() - started) / 1000).toFixed(1)} s`)
    } finally {
      await release()
    }
  }
}
