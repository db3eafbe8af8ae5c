import { condition, defineUpdate, proxyActivities, setHandler, sleep } from '@temporalio/workflow'
import type { rawActivities } from './worker'

/**
 * The raw Temporal baselines: workflows that do nothing but what Temporal itself does, run by a
 * minimal worker against the same dev server as the cases.
 */

export const bumpUpdate = defineUpdate<number, [number]>('bump')
export const finishUpdate = defineUpdate<void, []>('finish')

const { nothing } = proxyActivities<typeof rawActivities>({ startToCloseTimeout: '1 minute' })

/** A workflow that does nothing: the baseline of starts per second. */
export async function noopWorkflow(): Promise<void> {}

/** Answers `bump` Updates until `finish`: the baseline of Update round trips per second. */
export async function updatableWorkflow(): Promise<void> {
  let total = 0
  let done = false
  setHandler(bumpUpdate, (by) => (total += by))
  setHandler(finishUpdate, () => {
    done = true
  })
  await condition(() => done)
}

export interface MimicShape {
  activities: number
  updates: number
  timers: number
}

/**
 * The same count of activities, Updates and timers as a grievance lifecycle, with nothing
 * inside: the baseline of the cost per case (S6).
 */
export async function mimicWorkflow(shape: MimicShape): Promise<void> {
  let updates = 0
  setHandler(bumpUpdate, (by) => (updates += by))
  for (let i = 0; i < shape.activities; i++) await nothing()
  await condition(() => updates >= shape.updates)
  for (let i = 0; i < shape.timers; i++) await sleep(1)
}

/** Sleeps until `untilMs` (epoch ms), then answers how late it woke: the timer storm baseline. */
export async function sleeperWorkflow(untilMs: number): Promise<number> {
  await sleep(Math.max(1, untilMs - Date.now()))
  return Date.now() - untilMs
}
