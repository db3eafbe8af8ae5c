import { describe, expect, it } from 'vitest'
import { loadConfig } from '../../activities/config'
import { maxCachedWorkflowsFor, WORKER_BASE_MB } from '../../activities/worker-cache'

const load = (env: Record<string, string>) => loadConfig(env, { inherit: false })

describe("the worker's workflow cache", () => {
  it('holds what the budget leaves after the base use, one cached case per 1,200 KB by default', () => {
    const { worker } = load({})
    expect(worker).toEqual({ memoryMb: 1024, cachedWorkflowKb: 1200 })
    // (1,024 − 300) MB × 1,024 / 1,200 KB
    expect(maxCachedWorkflowsFor(worker)).toBe(617)
  })

  it('grows with the budget and shrinks with the size of a case', () => {
    const at = (memoryMb: number, cachedWorkflowKb = 1200) =>
      maxCachedWorkflowsFor({ memoryMb, cachedWorkflowKb })
    expect(at(4096)).toBe(3239)
    expect(at(4096, 2400)).toBe(1619)
    expect(at(2048)).toBeGreaterThan(at(1024))
  })

  it('never goes below the SDK minimum of 2, even with a budget at the base use', () => {
    expect(maxCachedWorkflowsFor({ memoryMb: WORKER_BASE_MB, cachedWorkflowKb: 1200 })).toBe(2)
    expect(maxCachedWorkflowsFor({ memoryMb: 301, cachedWorkflowKb: 1200 })).toBe(2)
  })

  it('is configured by WORKER_MEMORY_MB and WORKER_CACHED_WORKFLOW_KB', () => {
    const { worker } = load({ WORKER_MEMORY_MB: '2048', WORKER_CACHED_WORKFLOW_KB: '800' })
    expect(maxCachedWorkflowsFor(worker)).toBe(2237)
  })

  it('refuses a budget a worker cannot run in, in one line naming the variable', () => {
    expect(() => load({ WORKER_MEMORY_MB: '256' })).toThrow(
      /WORKER_MEMORY_MB must be at least 400 \(MB\)/,
    )
    expect(() => load({ WORKER_CACHED_WORKFLOW_KB: 'lots' })).toThrow(/WORKER_CACHED_WORKFLOW_KB/)
  })
})
