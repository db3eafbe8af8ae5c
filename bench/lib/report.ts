import { mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { load1, watchProcesses, type ProcessUsage } from './proc'
import { repoRoot } from './children'

/** One measured figure, beside its baseline from the same run, and the issue's target. */
export interface Figure {
  name: string
  value: number | string
  unit?: string
  baseline?: { name: string; value: number; unit?: string }
  /** value / baseline (or as stated by the scenario). */
  ratio?: number
  target?: string
  /** null: informational, no target. */
  met?: boolean | null
}

export interface ScenarioResult {
  id: string
  title: string
  figures: Figure[]
  notes: string[]
  /** RSS (start / end / peak) and CPU seconds of every process during the scenario. */
  processes: Record<string, ProcessUsage>
  rssSamplesMb: Record<string, number[]>
  loadAvg: { start: number; end: number }
  durationSec: number
  details: Record<string, unknown>
  error?: string
}

export interface ScenarioContext {
  figures: Figure[]
  notes: string[]
  details: Record<string, unknown>
  /** The RSS samples of the processes so far. */
  rssSeries(): Record<string, number[]>
}

/** Runs one scenario, recording the load average and the processes' RSS and CPU around it. */
export async function runScenario(
  id: string,
  title: string,
  pids: Record<string, number>,
  body: (ctx: ScenarioContext) => Promise<void>,
): Promise<ScenarioResult> {
  const started = Date.now()
  const loadStart = load1()
  const watch = watchProcesses(pids)
  await watch.ready
  const ctx: ScenarioContext = { figures: [], notes: [], details: {}, rssSeries: watch.series }
  let error: string | undefined
  try {
    await body(ctx)
  } catch (e) {
    error = e instanceof Error ? (e.stack ?? e.message) : String(e)
  }
  const series = watch.series()
  const processes = await watch.stop()
  // RSS along the scenario, at most 60 samples per process (to see whether memory stays flat).
  const rssSamplesMb = Object.fromEntries(
    Object.entries(series).map(([name, values]) => {
      const step = Math.max(1, Math.ceil(values.length / 60))
      return [name, values.filter((_, i) => i % step === 0).map((v) => Math.round(v))]
    }),
  )
  const result: ScenarioResult = {
    id,
    title,
    figures: ctx.figures,
    notes: ctx.notes,
    processes,
    rssSamplesMb,
    loadAvg: { start: loadStart, end: load1() },
    durationSec: Math.round((Date.now() - started) / 1000),
    details: ctx.details,
    ...(error ? { error } : {}),
  }
  process.stdout.write(formatScenario(result) + '\n')
  return result
}

const show = (v: number | string | undefined, unit?: string) =>
  v === undefined ? '' : `${typeof v === 'number' ? +v.toFixed(2) : v}${unit ? ` ${unit}` : ''}`

/** A plain-text table: figure, value, baseline, ratio, target, met. */
export function formatScenario(r: ScenarioResult): string {
  const rows = [
    ['figure', 'value', 'baseline (same run)', 'ratio', 'target', 'met'],
    ...r.figures.map((f) => [
      f.name,
      show(f.value, f.unit),
      f.baseline ? `${f.baseline.name}: ${show(f.baseline.value, f.baseline.unit)}` : '',
      f.ratio === undefined ? '' : f.ratio.toFixed(2),
      f.target ?? '',
      f.met === undefined || f.met === null ? '' : f.met ? 'yes' : 'NO',
    ]),
  ]
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)))
  const line = (row: string[]) => row.map((c, i) => c.padEnd(widths[i]!)).join(' | ')
  const out = [
    '',
    `== ${r.id} ${r.title} (${r.durationSec} s, load average ${r.loadAvg.start} → ${r.loadAvg.end})`,
    line(rows[0]!),
    widths.map((w) => '-'.repeat(w)).join('-|-'),
    ...rows.slice(1).map(line),
  ]
  const procs = Object.entries(r.processes)
    .map(
      ([name, p]) =>
        `${name} RSS ${p.rssStartMb}→${p.rssEndMb} MB (peak ${p.rssPeakMb}), CPU ${p.cpuSeconds} s`,
    )
    .join('; ')
  out.push(`processes: ${procs}`)
  for (const n of r.notes) out.push(`note: ${n}`)
  if (r.error) out.push(`ERROR: ${r.error}`)
  return out.join('\n')
}

/**
 * Writes the run to bench/results/<start time>.json and bench/results/latest.json (again after
 * every scenario, so that an interrupted run keeps what it measured).
 */
export async function writeResults(run: unknown, startedAt: Date): Promise<string> {
  const dir = path.join(repoRoot, 'bench', 'results')
  await mkdir(dir, { recursive: true })
  const stamp = startedAt.toISOString().replace(/[:.]/g, '-')
  const file = path.join(dir, `${stamp}.json`)
  const text = JSON.stringify(run, null, 2) + '\n'
  await writeFile(file, text)
  await writeFile(path.join(dir, 'latest.json'), text)
  return file
}
