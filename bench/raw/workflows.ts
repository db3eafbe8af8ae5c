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

/** A human step of the raw case: one Update, answered with the steps taken so far. */
export const stepUpdate = defineUpdate<number, []>('step')

export interface RawCaseSteps {
  /** Human steps after the start (task completions, decisions): one Update each. */
  updates: number
  /** Waiting windows after them (the appeal window): one durable timer each. */
  timers: number
  timerMs: number
}

/**
 * A case as Temporal alone runs it: started, one Update per human step, one timer per waiting
 * window, no activity at all. The baseline of the Temporal work per command and per lifecycle
 * (S7) and of the CPU per lifecycle (S6).
 */
export async function rawCaseWorkflow(steps: RawCaseSteps): Promise<number> {
  let taken = 0
  setHandler(stepUpdate, () => ++taken)
  await condition(() => taken >= steps.updates)
  for (let i = 0; i < steps.timers; i++) await sleep(steps.timerMs)
  return taken
}

/** Sleeps until `untilMs` (epoch ms), then answers how late it woke: the timer storm baseline. */
export async function sleeperWorkflow(untilMs: number): Promise<number> {
  await sleep(Math.max(1, untilMs - Date.now()))
  return Date.now() - untilMs
}
