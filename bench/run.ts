import { execFile } from 'node:child_process'
import { cpus, totalmem } from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { sql } from 'kysely'
import { loadConfig } from '../activities/config'
import { createLogger } from '../activities/infra/logger'
import { resolveTemporalBinary } from '../activities/infra/temporal-binary'
import { startBench, type Bench } from './lib/harness'
import { load1 } from './lib/proc'
import { runScenario, writeResults, type ScenarioContext, type ScenarioResult } from './lib/report'
import { summarizeProfiles } from './lib/profile'
import { FULL, QUICK, rawStarts, rawUpdates, type Sizes } from './scenarios/common'
import { s1Intake } from './scenarios/s1-intake'
import { s2Open, storage } from './scenarios/s2-open'
import { s3Tasks } from './scenarios/s3-tasks'
import { s4Storm } from './scenarios/s4-storm'
import { s5Lists } from './scenarios/s5-lists'
import { s6Cost } from './scenarios/s6-cost'
import { s7Work } from './scenarios/s7-work'
import { s8Campaign } from './scenarios/s8-campaign'
import type { HttpGetResult } from './lib/generator'
import type { DriveResult } from './lib/drive'
import { repoRoot } from './lib/children'

/**
 * `npm run bench` (quick, a few minutes) or `npm run bench -- --full` (the issue's sizes where
 * they fit), `--only S1,S3` to pick scenarios, `--profile` to record CPU profiles of the worker
 * and the API. Starts its own embedded stack in a temporary directory, measures every baseline
 * in the same run, prints a table per scenario and writes bench/results/<time>.json and
 * bench/results/latest.json.
 */
const args = process.argv.slice(2)
const full = args.includes('--full')
const profile = args.includes('--profile')
const onlyArg = args.find((a) => a.startsWith('--only'))
const only = onlyArg
  ? new Set(
      (onlyArg.includes('=') ? onlyArg.split('=')[1]! : args[args.indexOf(onlyArg) + 1]!)
        .toUpperCase()
        .split(',')
        .filter(Boolean),
    )
  : undefined
const sizes: Sizes = full ? FULL : QUICK
const wanted = (id: string) => !only || only.has(id)
const say = (line: string) => process.stdout.write(`${line}\n`)

async function versions(b: Bench) {
  const config = loadConfig({}, { inherit: true })
  const binary = await resolveTemporalBinary({
    cliPath: config.temporal.cliPath,
    searchPath: config.temporal.searchPath,
    cacheDir: config.cacheDir,
    log: createLogger('silent', false),
  })
  let temporalCli = 'unknown'
  if (binary.kind === 'binary') {
    const { stdout } = await promisify(execFile)(binary.path, ['--version'])
    temporalCli = stdout.trim()
  }
  const pg = await sql<{ version: string }>`select version() as version`.execute(b.db)
  return {
    node: process.version,
    temporalCli,
    postgres: pg.rows[0]!.version,
    temporalSdk: '1.24.0',
  }
}

/** B0: the raw baselines, once, at the scenarios' concurrency. */
async function baselines(b: Bench, ctx: ScenarioContext) {
  const starts = await rawStarts(b, sizes.intake, sizes.concurrency, 'b0')
  const updates = await rawUpdates(b, sizes.tasks, sizes.concurrency, 'b0')
  const hono = await b.gen.run<HttpGetResult>({
    type: 'http-get',
    url: b.rawHonoUrl,
    headers: {},
    connections: sizes.concurrency,
    durationSec: sizes.listSec,
  })
  const pg = await b.gen.run<DriveResult>({
    type: 'sql',
    url: b.stack.databaseUrl,
    statements: [{ sql: 'select id, status from cases where id = $1', params: ['none'] }],
    connections: sizes.concurrency,
    durationSec: sizes.listSec,
  })
  Object.assign(ctx.details, { starts, updates, hono, pg })
  const figure = (name: string, value: number) => ({ name, value, unit: '/s', met: null })
  ctx.figures.push(
    figure('raw Temporal starts/s (noop workflow)', starts.ratePerSec),
    figure('raw Temporal Update round trips/s', updates.ratePerSec),
    figure('raw Hono requests/s (constant)', hono.ratePerSec),
    figure('raw PostgreSQL point queries/s', pg.ratePerSec),
  )
  ctx.notes.push(
    `concurrency ${sizes.concurrency}; each scenario measures its own baseline again right before it (the numbers beside its figures)`,
  )
}

async function main() {
  const startedAt = new Date()
  say(
    `RSU Casework benchmarks (${full ? 'full' : 'quick'}${only ? `, only ${[...only].join(',')}` : ''}); starting the stack in a temporary directory…`,
  )
  const profileDir = profile ? path.join(repoRoot, 'bench', 'results', 'profiles') : undefined
  const running: { bench?: Bench } = {}
  let stopping = false
  const stop = async () => {
    if (stopping) return
    stopping = true
    await running.bench?.stop()
  }
  // Ctrl-C (or a SIGTERM) stops everything; before the stack is up, exiting runs the handlers
  // that kill what was started so far.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      say('\ninterrupted: stopping everything…')
      void stop().finally(() => process.exit(130))
    })
  }
  const b = await startBench({ profileDir })
  running.bench = b
  const results: ScenarioResult[] = []
  const machine = {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    memoryGb: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    loadAvgAtStart: load1(),
  }
  let meta: Record<string, unknown> | undefined
  const save = (profiles?: unknown) =>
    writeResults(
      {
        startedAt: startedAt.toISOString(),
        finishedAt: new Date().toISOString(),
        mode: full ? 'full' : 'quick',
        command: `npm run bench${args.length ? ` -- ${args.join(' ')}` : ''}`,
        machine: { ...machine, loadAvgAtEnd: load1() },
        versions: meta,
        sizes,
        scenarios: results,
        profiles,
      },
      startedAt,
    )
  const scenario = async (...params: Parameters<typeof runScenario>) => {
    const r = await runScenario(...params)
    results.push(r)
    await save()
    return r
  }
  try {
    meta = await versions(b)
    say(`machine: ${JSON.stringify(machine)}; versions: ${JSON.stringify(meta)}`)
    const initialStorage = await storage(b)
    const pids = b.pids()

    const b0 = await scenario(
      'B0',
      'baselines (raw Temporal, raw Hono, raw PostgreSQL)',
      pids,
      (ctx) => baselines(b, ctx),
    )
    let s1Rate: number | undefined
    if (wanted('S1')) {
      const r = await scenario('S1', 'intake', pids, (ctx) => s1Intake(b, sizes, ctx))
      s1Rate = r.details.s1Rate as number | undefined
    }
    if (wanted('S3')) await scenario('S3', 'task completion', pids, (ctx) => s3Tasks(b, sizes, ctx))
    if (wanted('S6')) await scenario('S6', 'cost per case', pids, (ctx) => s6Cost(b, sizes, ctx))
    if (wanted('S7'))
      await scenario('S7', 'Temporal work per command', pids, (ctx) => s7Work(b, ctx))
    const rawStartRate = (b0.details.starts as DriveResult | undefined)?.ratePerSec ?? 10
    if (wanted('S4'))
      await scenario('S4', 'timer storm', pids, (ctx) => s4Storm(b, sizes, ctx, rawStartRate))
    if (wanted('S2'))
      await scenario('S2', 'open cases', pids, (ctx) =>
        s2Open(b, sizes, ctx, s1Rate, initialStorage),
      )
    if (wanted('S5'))
      await scenario('S5', 'lists and dashboard', pids, (ctx) => s5Lists(b, sizes, ctx, say))
    // Last: the campaign's cases keep the worker busy after the measured part.
    if (wanted('S8'))
      await scenario('S8', 're-verification campaign', pids, (ctx) =>
        s8Campaign(b, sizes, ctx, rawStartRate),
      )
  } finally {
    await stop()
  }
  const profiles = profileDir ? await summarizeProfiles(profileDir) : undefined
  if (profiles) say(`\nCPU profiles (self time by package):\n${JSON.stringify(profiles, null, 2)}`)
  const file = await save(profiles)
  say(`\nresults written to ${path.relative(repoRoot, file)} and bench/results/latest.json`)
  const failed = results.filter((r) => r.error)
  if (failed.length) {
    say(`scenarios that failed to run: ${failed.map((r) => r.id).join(', ')}`)
    process.exitCode = 1
  }
}

main().catch((error: unknown) => {
  process.stderr.write(
    `${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  )
  process.exit(1)
})
