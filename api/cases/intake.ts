import { randomBytes, randomInt } from 'node:crypto'
import { hash } from '@node-rs/argon2'
import type { Client } from '@temporalio/client'
import type { Db } from '../../activities/db/db'
import { caseWorkflowId, type OpenCaseInput } from '../../workflows/messages'
import { grievanceWorkflow } from '../../workflows/kinds/grievance/workflow'
import {
  CaseAreaKey,
  CaseKindKey,
  CasePriorityKey,
  CaseSlaStateKey,
  CaseStageKey,
} from '../../workflows/search-attributes'
import { openCase } from './commands'
import { ApiError } from '../errors'
import { ARGON2ID } from './tracking'

const ALPHABET = '23456789ABCDEFGHJKLMNPQRSTUVWXYZ'
const code = (length: number) =>
  Array.from(randomBytes(length), (b) => ALPHABET[b % ALPHABET.length]).join('')

export interface GrievanceIntake {
  communeCode: string
  channel: NonNullable<OpenCaseInput['channel']>
  category?: OpenCaseInput['category']
  priority?: OpenCaseInput['priority']
  narrative: string
  anonymous: boolean
  contact?: { email?: string; phone?: string }
  locale: 'fr' | 'en'
  openedBy: OpenCaseInput['openedBy']
}

/**
 * Registers a grievance from any channel: a public reference and a 6-digit PIN (stored only as
 * an argon2id hash, returned once), then the case's workflow. An anonymous complainant leaves no
 * contact behind. Shared by the public form and the staff intake (hotline, in person).
 */
export async function registerGrievance(
  deps: { db: Db; temporal: Client; taskQueue: string },
  intake: GrievanceIntake,
): Promise<{ caseId: string; reference: string; pin: string }> {
  const commune = await deps.db
    .selectFrom('adminAreas')
    .select('code')
    .where('code', '=', intake.communeCode)
    .where('level', '=', 'commune')
    .executeTakeFirst()
  if (!commune) {
    throw new ApiError(400, 'VALIDATION_FAILED', 'Unknown commune', [
      { path: 'communeCode', message: 'unknown commune' },
    ])
  }
  const year = new Date().getUTCFullYear()
  const reference = `PL-${year}-${code(6)}`
  const caseId = `G-${year}-${code(10)}`
  const pin = String(randomInt(0, 1_000_000)).padStart(6, '0')
  await deps.db
    .insertInto('caseTracking')
    .values({
      reference,
      caseId,
      pinHash: await hash(pin, { algorithm: ARGON2ID }),
      locale: intake.locale,
    })
    .execute()
  const anonymous = intake.anonymous || !intake.contact
  const input: OpenCaseInput = {
    caseId,
    reference,
    kind: 'grievance',
    areaCode: commune.code,
    category: intake.category,
    channel: intake.channel,
    priority: intake.priority ?? 'normal',
    sensitive: false,
    openedBy: intake.openedBy,
    narrative: intake.narrative,
    anonymous,
    // An anonymous complainant leaves no contact behind.
    contact: anonymous ? undefined : { ...intake.contact, locale: intake.locale },
  }
  // Answered once the opening is projected: the case page exists when the reference is shown.
  await openCase(deps.temporal, grievanceWorkflow, {
    workflowId: caseWorkflowId(caseId),
    taskQueue: deps.taskQueue,
    args: [input],
    typedSearchAttributes: [
      { key: CaseKindKey, value: 'grievance' },
      { key: CaseAreaKey, value: input.areaCode },
      { key: CasePriorityKey, value: input.priority },
      { key: CaseStageKey, value: 'uptake' },
      { key: CaseSlaStateKey, value: 'on_track' },
    ],
  })
  return { caseId, reference, pin }
}
