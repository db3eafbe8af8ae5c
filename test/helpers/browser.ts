import { existsSync, mkdirSync } from 'node:fs'
import path from 'node:path'
import type { Client } from '@temporalio/client'
import { chromium, type Browser, type Page } from 'playwright-core'
import { inject } from 'vitest'
import { createLogger } from '../../activities/infra/logger'
import { ensureUiBuilt, type UiAppName } from '../../activities/infra/ui-build'
import { createApp } from '../../api/app'
import { serveApi, type ApiServer } from '../../api/server'
import { startCaseStack, stopCaseStack, type CaseStack } from './case-stack'
import { repoRoot } from './processes'
import type { TestDatabase } from './db'
import type { RunningWorker } from './temporal'

/** Debian's Chromium (CI installs it with apt-get); playwright-core drives it, no download. */
export const CHROMIUM = '/usr/bin/chromium'

export interface BrowserStack extends CaseStack {
  /** Where the app listens, e.g. http://127.0.0.1:41234 */
  url: string
  browser: Browser
  stop(): Promise<void>
}

/**
 * The whole system as a browser sees it: the front ends built when their sources changed, a fresh
 * database with the demo users and policies in seconds, a real worker and Temporal, the real HTTP
 * app on a free loopback port, and a headless Chromium.
 */
export async function startBrowserStack(uis: UiAppName[]): Promise<BrowserStack> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)`)
  }
  const log = createLogger('warn', false)
  await ensureUiBuilt(log, { only: uis })
  let stack: Partial<CaseStack> = {}
  let server: ApiServer | undefined
  let browser: Browser | undefined
  const stop = async () => {
    await browser?.close()
    await server?.close()
    await stopCaseStack(stack)
  }
  try {
    stack = await startCaseStack()
    const { tdb, client, worker } = stack as CaseStack
    server = await serveApi(
      createApp({
        db: tdb.db,
        temporal: client,
        log: createLogger('silent', false),
        taskQueue: worker.taskQueue,
      }),
      '127.0.0.1',
      0,
    )
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        // The browser's own words (date fields) in French, as on the users' machines.
        '--lang=fr-FR',
      ],
    })
    return {
      tdb: tdb as TestDatabase,
      client: client as Client,
      worker: worker as RunningWorker,
      url: server.url,
      browser,
      stop,
    }
  } catch (error) {
    await stop()
    throw error
  }
}

/**
 * Where the browser tests save their screenshots: `test-results/screenshots/` (ignored by git), so
 * that `npm test` leaves the clone as it found it. `npm run screenshots` runs the browser tests
 * with `screenshotDir` provided as `docs/screenshots` (the ones the README shows), on purpose.
 */
export function screenshotDir(): string {
  return path.resolve(repoRoot, inject('screenshotDir') ?? path.join('test-results', 'screenshots'))
}

/** Saves the page as <screenshotDir>/<name>.png, replacing the last one. */
export async function screenshot(page: Page, name: string): Promise<void> {
  const dir = screenshotDir()
  mkdirSync(dir, { recursive: true })
  await page.screenshot({
    path: path.join(dir, `${name}.png`),
    fullPage: true,
    animations: 'disabled',
    caret: 'hide',
  })
}

const openPages = new Set<Page>()
const pageErrors: string[] = []
const cspViolations: string[] = []

/**
 * What the Content-Security-Policy blocked on watched pages since the last call (Chromium reports
 * each refusal on the console): for `afterEach`, so that a page needing inline script fails.
 */
export function takeCspViolations(): string[] {
  return cspViolations.splice(0)
}

/**
 * Remembers a page so that a failing test leaves a picture of it and the errors its scripts
 * threw (see `shootOnFailure`).
 */
export function watchPage(page: Page): Page {
  openPages.add(page)
  page.on('close', () => openPages.delete(page))
  page.on('pageerror', (error) => pageErrors.push(`${page.url()}: ${error.stack ?? error.message}`))
  page.on('console', (message) => {
    if (message.type() === 'error') pageErrors.push(`${page.url()}: ${message.text()}`)
    if (/Content Security Policy/i.test(message.text())) {
      cspViolations.push(`${page.url()}: ${message.text()}`)
    }
  })
  return page
}

/**
 * For `afterEach`: when the test failed, saves every watched page still open to
 * test-results/<test name>-<n>.png (not committed), to see what the browser showed.
 */
export async function shootOnFailure(context: {
  task: { name: string; result?: { state?: string } }
}): Promise<void> {
  const errors = pageErrors.splice(0)
  if (context.task.result?.state !== 'fail') return
  if (errors.length) console.error(`errors in the browser:\n${errors.join('\n')}`)
  const dir = path.join(repoRoot, 'test-results')
  mkdirSync(dir, { recursive: true })
  let n = 0
  for (const page of openPages) {
    const name = `${context.task.name.replace(/[^\w-]+/g, '-').slice(0, 80)}-${++n}.png`
    await page.screenshot({ path: path.join(dir, name), fullPage: true }).catch(() => undefined)
  }
}
