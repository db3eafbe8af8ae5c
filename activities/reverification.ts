import { reverificationWorkflow } from '../workflows/kinds/reverification/workflow'
import { createHash } from 'node:crypto'
import { Context, ApplicationFailure } from '@temporalio/activity'
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client'
import { sql } from 'kysely'
import { caseWorkflowId, type Actor } from '../workflows/messages'
import type { PmtFormula } from '../workflows/kinds/reverification/pmt'
import {
  ReverificationErrorCode,
  type OpenReverificationInput,
  type RecertificationSweepInput,
  type RegistryWriteRequest,
  type ReverificationPolicy,
} from '../workflows/kinds/reverification/messages'
import { CaseAreaKey, CaseKindKey } from '../workflows/search-attributes'
import type { Db } from './db/db'
import type { Logger } from './infra/logger'
import {
  RegistryRejectedError,
  type RegistryClient,
  type RegistryHousehold,
} from './registry/client'

export interface ReverificationDeps {
  db: Db
  registry: RegistryClient
  /** Starts re-verifications for campaigns and schedules; absent, those activities refuse. */
  temporal?: { client: Client; taskQueue: string }
  log?: Logger
}

const DEFAULT_POLICY: ReverificationPolicy = {
  maxVisitAttempts: 3,
  revisitDelayMs: 2 * 24 * 3600 * 1000,
}

/** Case id of a campaign line: derived from campaign and household, so a retry starts nothing new. */
export function campaignCaseId(campaignId: string, householdId: string): string {
  const digest = createHash('sha256').update(`${campaignId}\n${householdId}`).digest('hex')
  return `RV-${digest.slice(0, 16)}`
}

/** Case id of a scheduled recertification: one per household per period. */
export function recertificationCaseId(householdId: string, period: number): string {
  const digest = createHash('sha256').update(`recertify\n${period}\n${householdId}`).digest('hex')
  return `RV-${digest.slice(0, 16)}`
}

/** Starts one re-verification; an id already started is the same case, not an error. */
export async function startReverification(
  client: Client,
  taskQueue: string,
  input: OpenReverificationInput,
): Promise<'started' | 'already_started'> {
  try {
    await client.workflow.start(reverificationWorkflow, {
      workflowId: caseWorkflowId(input.caseId),
      taskQueue,
      args: [input],
      typedSearchAttributes: [
        { key: CaseKindKey, value: 'reverification' },
        ...(input.areaCode ? [{ key: CaseAreaKey, value: input.areaCode }] : []),
      ],
    })
    return 'started'
  } catch (error) {
    if (error instanceof WorkflowExecutionAlreadyStartedError) return 'already_started'
    throw error
  }
}

/** Runs `work` on every item with at most `limit` at a time. */
async function eachLimited<T>(items: T[], limit: number, work: (item: T) => Promise<void>) {
  let next = 0
  const runners = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await work(items[next++]!)
  })
  await Promise.all(runners)
}

/**
 * Activities of household re-verification: the registry read (cached locally with the time it was
 * fetched), the policy and PMT formula in force, the scores, the registry write (idempotent:
 * recorded before and after the call under a key per case and decision), and the starting of
 * campaigns and scheduled recertifications in batches.
 */
export function createReverificationActivities(deps: ReverificationDeps) {
  const { db, registry } = deps

  const requireTemporal = () => {
    if (!deps.temporal) {
      throw ApplicationFailure.nonRetryable(
        'this worker has no Temporal client to start re-verifications',
        'NO_TEMPORAL_CLIENT',
      )
    }
    return deps.temporal
  }

  return {
    /** The household from the registry, cached in `households`; null when the registry has none. */
    async fetchHousehold(householdId: string): Promise<RegistryHousehold | null> {
      let household: RegistryHousehold | null
      try {
        household = await registry.getHousehold(householdId)
      } catch (error) {
        if (error instanceof RegistryRejectedError) {
          deps.log?.warn({ code: error.code }, 'the registry refused a household read')
          return null
        }
        throw error // unavailable: retried until the registry answers
      }
      if (!household) return null
      const area = await db
        .selectFrom('adminAreas')
        .select('code')
        .where('code', '=', household.areaCode)
        .executeTakeFirst()
      if (!area) {
        deps.log?.warn(
          { code: 'UNKNOWN_AREA' },
          'the registry placed a household in an unknown area',
        )
        return null
      }
      if (registry.kind !== 'database') {
        const row = {
          id: household.id,
          areaCode: household.areaCode,
          members: household.members,
          pmtScore: household.pmtScore,
          programmes: household.programmes,
          eligible: household.eligible,
          fetchedAt: new Date(),
        }
        await db
          .insertInto('households')
          .values(row)
          .onConflict((oc) =>
            oc.column('id').doUpdateSet({
              areaCode: row.areaCode,
              members: row.members,
              pmtScore: row.pmtScore,
              programmes: row.programmes,
              eligible: row.eligible,
              fetchedAt: row.fetchedAt,
            }),
          )
          .execute()
      }
      return household
    },

    async loadReverificationPolicy(): Promise<ReverificationPolicy> {
      const row = await db
        .selectFrom('appSettings')
        .select('value')
        .where('key', '=', 'reverification_policy')
        .executeTakeFirst()
      const value = (row?.value ?? {}) as {
        maxVisitAttempts?: unknown
        revisitDelaySeconds?: unknown
      }
      return {
        maxVisitAttempts:
          typeof value.maxVisitAttempts === 'number' && value.maxVisitAttempts >= 1
            ? Math.floor(value.maxVisitAttempts)
            : DEFAULT_POLICY.maxVisitAttempts,
        revisitDelayMs:
          typeof value.revisitDelaySeconds === 'number' && value.revisitDelaySeconds >= 0
            ? value.revisitDelaySeconds * 1000
            : DEFAULT_POLICY.revisitDelayMs,
      }
    },

    /** The formula in force; none active is an administrator's fix, so the activity retries. */
    async loadActivePmtFormula(): Promise<PmtFormula> {
      const row = await db
        .selectFrom('pmtFormulas')
        // As text: the plugin would camelCase the variable codes inside the JSON.
        .select(['version', sql<string>`coefficients::text`.as('coefficients'), 'threshold'])
        .where('active', '=', true)
        .executeTakeFirst()
      if (!row) throw new Error('no active PMT formula')
      const coefficients = JSON.parse(row.coefficients) as {
        intercept: number
        weights: Record<string, number>
      }
      return {
        version: row.version,
        intercept: Number(coefficients.intercept),
        weights: coefficients.weights,
        threshold: Number(row.threshold),
      }
    },

    async recordHouseholdScore(score: {
      caseId: string
      visitNo: number
      householdId: string
      score: number
      formulaVersion: string
      eligible: boolean
      scoredAt: string
    }): Promise<void> {
      await db
        .insertInto('householdScores')
        .values(score)
        .onConflict((oc) => oc.columns(['caseId', 'visitNo']).doNothing())
        .execute()
    },

    /** The spawning case's contact (sealed as stored) reaches the household for the outcome. */
    async copyParentContact(input: { caseId: string; parentCaseId: string }): Promise<void> {
      await sql`
        insert into complainant_contacts (case_id, email, phone, locale)
        select ${input.caseId}, email, phone, locale from complainant_contacts
        where case_id = ${input.parentCaseId}
        on conflict (case_id) do nothing`.execute(db)
    },

    /**
     * Writes an approved eligibility change to the registry, exactly once: the row keyed by the
     * idempotency key is written before the call and completed after it; a write already sent
     * answers from the row; the registry gets the same key on every attempt (a crash between its
     * answer and our record repeats the same transaction, which the registry answers once). A
     * registry that is down makes the attempt fail and Temporal retry; a refusal is final.
     */
    async writeRegistryEligibility(
      request: RegistryWriteRequest,
    ): Promise<{ reference: string | null }> {
      await db
        .insertInto('registryWrites')
        .values({
          idempotencyKey: request.idempotencyKey,
          caseId: request.caseId,
          householdId: request.householdId,
          payload: request,
        })
        .onConflict((oc) => oc.column('idempotencyKey').doNothing())
        .execute()
      const row = await db
        .selectFrom('registryWrites')
        .select(['status', 'response'])
        .where('idempotencyKey', '=', request.idempotencyKey)
        .executeTakeFirstOrThrow()
      if (row.status === 'sent') {
        return {
          reference: (row.response as { reference?: string | null } | null)?.reference ?? null,
        }
      }
      if (row.status === 'rejected') {
        throw ApplicationFailure.nonRetryable(
          'the registry rejected this change',
          ReverificationErrorCode.REGISTRY_REJECTED,
        )
      }
      await db
        .updateTable('registryWrites')
        .set((eb) => ({ attempts: eb('attempts', '+', 1) }))
        .where('idempotencyKey', '=', request.idempotencyKey)
        .execute()
      try {
        const receipt = await registry.updateEligibility(
          {
            householdId: request.householdId,
            caseId: request.caseId,
            score: request.score,
            formulaVersion: request.formulaVersion,
            eligible: request.eligible,
            members: request.members,
            decidedAt: request.decidedAt,
          },
          request.idempotencyKey,
        )
        await db.transaction().execute(async (trx) => {
          await trx
            .updateTable('registryWrites')
            .set({ status: 'sent', response: receipt, sentAt: new Date(), lastError: null })
            .where('idempotencyKey', '=', request.idempotencyKey)
            .execute()
          // The local copy follows the registry.
          await trx
            .updateTable('households')
            .set({
              pmtScore: request.score,
              eligible: request.eligible,
              pmtFormulaVersion: request.formulaVersion,
              members: request.members,
              fetchedAt: new Date(),
            })
            .where('id', '=', request.householdId)
            .execute()
        })
        return receipt
      } catch (error) {
        const message = (error as Error).message.slice(0, 500)
        if (error instanceof RegistryRejectedError) {
          await db
            .updateTable('registryWrites')
            .set({ status: 'rejected', lastError: `${error.code}: ${message}` })
            .where('idempotencyKey', '=', request.idempotencyKey)
            .execute()
          throw ApplicationFailure.nonRetryable(message, ReverificationErrorCode.REGISTRY_REJECTED)
        }
        await db
          .updateTable('registryWrites')
          .set({ lastError: message })
          .where('idempotencyKey', '=', request.idempotencyKey)
          .execute()
        throw error
      }
    },

    /**
     * Starts the pending lines of a campaign, 500 lines per batch and 64 starts at a time, marking
     * each batch started and heartbeating the progress. Workflow ids come from campaign and
     * household: a retried batch (a worker crash) meets its own workflows, and starts none twice.
     */
    async startCampaignLines(campaignId: string): Promise<{ started: number }> {
      const { client } = requireTemporal()
      const campaign = await db
        .selectFrom('campaigns')
        .select(['taskQueue', 'createdBy'])
        .where('id', '=', campaignId)
        .executeTakeFirstOrThrow()
      const openedBy: Actor = { userId: campaign.createdBy, role: 'programme_manager' }
      let started = 0
      for (;;) {
        const lines = await db
          .selectFrom('campaignLines')
          .select(['lineNo', 'householdId', 'areaCode', 'caseId'])
          .where('campaignId', '=', campaignId)
          .where('status', '=', 'pending')
          .orderBy('lineNo')
          .limit(500)
          .execute()
        if (lines.length === 0) break
        // 64 starts in flight: the server's latency, not our CPU, bounds the rate.
        await eachLimited(lines, 64, async (line) => {
          // Heartbeats are throttled by the SDK: one per start costs nothing.
          Context.current().heartbeat({ started })
          await startReverification(client, campaign.taskQueue, {
            caseId: line.caseId!,
            householdId: line.householdId!,
            areaCode: line.areaCode ?? undefined,
            trigger: 'campaign',
            campaignId,
            openedBy,
          })
        })
        await db
          .updateTable('campaignLines')
          .set({ status: 'started' })
          .where('campaignId', '=', campaignId)
          .where(
            'lineNo',
            'in',
            lines.map((l) => l.lineNo),
          )
          .execute()
        started += lines.length
        Context.current().heartbeat({ started })
      }
      await db
        .updateTable('campaigns')
        .set({ status: 'started', finishedAt: new Date() })
        .where('id', '=', campaignId)
        .where('status', '=', 'starting')
        .execute()
      return { started }
    },

    /**
     * The recertification sweep: households whose last score is older than `maxAgeMs` (or never
     * scored here) and with no re-verification open get one, `limit` per sweep. One case id per
     * household per period, so two sweeps of the same period start nothing twice.
     */
    async startDueRecertifications(input: RecertificationSweepInput): Promise<{ started: number }> {
      const temporal = requireTemporal()
      const since = new Date(Date.now() - input.maxAgeMs)
      const due = await db
        .selectFrom('households as h')
        .select(['h.id', 'h.areaCode'])
        .where(({ not, exists, selectFrom }) =>
          not(
            exists(
              selectFrom('householdScores as sc')
                .select('sc.caseId')
                .whereRef('sc.householdId', '=', 'h.id')
                .where('sc.scoredAt', '>', since),
            ),
          ),
        )
        .where(({ not, exists, selectFrom }) =>
          not(
            exists(
              selectFrom('cases as c')
                .select('c.id')
                .whereRef('c.householdId', '=', 'h.id')
                .where('c.kind', '=', 'reverification')
                .where('c.status', '=', 'open'),
            ),
          ),
        )
        .orderBy('h.id')
        .limit(input.limit)
        .execute()
      const period = Math.floor(Date.now() / Math.max(1, input.maxAgeMs))
      let started = 0
      await eachLimited(due, 8, async (h) => {
        const outcome = await startReverification(
          temporal.client,
          input.taskQueue ?? temporal.taskQueue,
          {
            caseId: recertificationCaseId(h.id, period),
            householdId: h.id,
            areaCode: h.areaCode,
            trigger: 'schedule',
            openedBy: { userId: null, role: 'system' },
          },
        )
        if (outcome === 'started') started += 1
      })
      return { started }
    },
  }
}
