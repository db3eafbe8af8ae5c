import { performance } from 'node:perf_hooks'
import * as hdr from 'hdr-histogram-js'

export interface LatencySummary {
  p50: number
  p95: number
  p99: number
  max: number
  mean: number
}

export interface DriveResult {
  count: number
  ok: number
  errors: number
  errorSamples: string[]
  durationMs: number
  /** Successful operations per second over the whole run. */
  ratePerSec: number
  latencyMs: LatencySummary
}

/** A histogram of microseconds, 3 significant digits. */
export const histogram = () =>
  hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 3_600_000_000,
    numberOfSignificantValueDigits: 3,
  })

export function summarize(h: hdr.Histogram): LatencySummary {
  const ms = (us: number) => Math.round(us / 10) / 100
  return {
    p50: ms(h.getValueAtPercentile(50)),
    p95: ms(h.getValueAtPercentile(95)),
    p99: ms(h.getValueAtPercentile(99)),
    max: ms(h.maxValue),
    mean: ms(h.mean),
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * Runs `op(i)` for i < count. Without `rate`: a closed loop of `concurrency` lanes (the maximum
 * rate). With `rate`: an open loop, one operation every 1/rate s at most `concurrency` in flight,
 * latency counted from the intended start (no coordinated omission). `durationMs` stops starting
 * new operations after that long.
 */
export async function drive(
  opts: { count: number; concurrency: number; rate?: number; durationMs?: number },
  op: (i: number, lane: number) => Promise<void>,
): Promise<DriveResult> {
  const h = histogram()
  let ok = 0
  let errors = 0
  const errorSamples: string[] = []
  const t0 = performance.now()
  const deadline = opts.durationMs === undefined ? Infinity : t0 + opts.durationMs
  let started = 0
  const one = async (i: number, lane: number, intended: number) => {
    try {
      await op(i, lane)
      ok += 1
    } catch (error) {
      errors += 1
      if (errorSamples.length < 5) errorSamples.push(String(error).slice(0, 300))
    } finally {
      h.recordValue(Math.max(1, Math.round((performance.now() - intended) * 1000)))
    }
  }
  if (!opts.rate) {
    let next = 0
    await Promise.all(
      Array.from({ length: opts.concurrency }, async (_, lane) => {
        while (next < opts.count && performance.now() < deadline) {
          const i = next++
          started += 1
          await one(i, lane, performance.now())
        }
      }),
    )
  } else {
    const inflight = new Set<Promise<void>>()
    for (let i = 0; i < opts.count && performance.now() < deadline; i++) {
      started += 1
      const intended = t0 + (i * 1000) / opts.rate
      const wait = intended - performance.now()
      if (wait > 0) await sleep(wait)
      while (inflight.size >= opts.concurrency) await Promise.race(inflight)
      const p: Promise<void> = one(i, i % opts.concurrency, intended).finally(() =>
        inflight.delete(p),
      )
      inflight.add(p)
    }
    await Promise.all(inflight)
  }
  const durationMs = performance.now() - t0
  return {
    count: started,
    ok,
    errors,
    errorSamples,
    durationMs: Math.round(durationMs),
    ratePerSec: Math.round((ok / (durationMs / 1000)) * 10) / 10,
    latencyMs: summarize(h),
  }
}
