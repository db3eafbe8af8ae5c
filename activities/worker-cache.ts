/**
 * How many case workflows one worker keeps in its cache, from a memory budget. A cached workflow
 * answers its next task without replaying its history, but holds its state and its V8 objects
 * until evicted: with the SDK's default (from the heap limit, about 2,300 on a 4 GB heap) a
 * worker's RSS grew from 861 MB to 3,778 MB as 2,500 more cases opened (BENCHMARKS.md, S2).
 */

/** RSS of a worker process with an empty cache: its bundle, pools and clients (B0: 320–430 MB). */
export const WORKER_BASE_MB = 300

/** The SDK's floor: a cache of 0 or 1 is refused or raised to 2. */
const MIN_CACHED = 2

export interface WorkerMemory {
  /** Memory the worker process may use, in MB (WORKER_MEMORY_MB). */
  memoryMb: number
  /** Memory one cached case workflow takes, in KB (WORKER_CACHED_WORKFLOW_KB). */
  cachedWorkflowKb: number
}

/**
 * `maxCachedWorkflows` for a budget: what is left of it after the process's base use, divided
 * by the size of one cached workflow, never below the SDK's minimum of 2.
 */
export function maxCachedWorkflowsFor({ memoryMb, cachedWorkflowKb }: WorkerMemory): number {
  const forCache = Math.max(0, memoryMb - WORKER_BASE_MB) * 1024
  return Math.max(MIN_CACHED, Math.floor(forCache / cachedWorkflowKb))
}
