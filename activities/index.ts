import type { Db } from './db/db'
import { createProjectionActivities } from './projection'

export interface ActivityDeps {
  db: Db
}

/** Every activity the worker registers, built from injected dependencies. */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createProjectionActivities(deps),
  }
}

/** The activity interface workflows proxy (`import type` only: no side effects in workflows). */
export type CaseActivities = ReturnType<typeof createActivities>
