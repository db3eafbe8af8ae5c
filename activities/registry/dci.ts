import { randomUUID } from 'node:crypto'
import { z } from 'zod'
import {
  isTransientStatus,
  registryFetch,
  RegistryRejectedError,
  RegistryUnavailableError,
  type EligibilityUpdate,
  type RegistryClient,
  type RegistryHousehold,
  type RegistryWriteReceipt,
} from './client'

/**
 * The DCI (Digital Convergence Initiative) social-registry API: every message is an envelope of a
 * `header` (version, message id and time, action, sender and receiver, status on answers) and a
 * `message` (a `transaction_id` and a list of requests or responses, each with its own
 * `reference_id` and status). Search is `POST /registry/sync/search` with `search_criteria`
 * (`reg_type`, `query_type: idtype-value`, `query`); the answer (`on-search`) carries
 * `data.reg_records`. Writes use the same envelope on `POST /registry/sync/update` (action
 * `update`, answered by `on-update`), with the idempotency key as `transaction_id` and as an
 * `Idempotency-Key` header. The household record is the registry's group record; the fields
 * read here are the ones a re-verification needs (identifier, area, size, score, enrolments).
 */

const DCI_VERSION = '1.0.0'
const REG_TYPE = 'ns:org:RegistryType:Social'
const RECORD_TYPE = 'ns:org:RegistryRecordType:Group'
const HOUSEHOLD_ID_TYPE = 'HOUSEHOLD_ID'

const status = z.enum(['rcvd', 'pdng', 'succ', 'rjct'])

export const dciHeaderSchema = z.object({
  version: z.string(),
  message_id: z.string(),
  message_ts: z.string(),
  action: z.string(),
  sender_id: z.string(),
  receiver_id: z.string().optional(),
  total_count: z.number().int().optional(),
  completed_count: z.number().int().optional(),
  status: status.optional(),
  status_reason_code: z.string().optional(),
  status_reason_message: z.string().optional(),
  is_msg_encrypted: z.boolean().optional(),
})

export const dciSearchRequestSchema = z.object({
  signature: z.string().optional(),
  header: dciHeaderSchema,
  message: z.object({
    transaction_id: z.string(),
    search_request: z
      .array(
        z.object({
          reference_id: z.string(),
          timestamp: z.string(),
          search_criteria: z.object({
            version: z.string().optional(),
            reg_type: z.string(),
            reg_sub_type: z.string().optional(),
            query_type: z.enum(['idtype-value', 'expression', 'predicate']),
            query: z.unknown(),
            sort: z
              .array(z.object({ attribute_name: z.string(), sort_order: z.enum(['asc', 'desc']) }))
              .optional(),
            pagination: z
              .object({ page_size: z.number().int(), page_number: z.number().int().optional() })
              .optional(),
          }),
          locale: z.string().optional(),
        }),
      )
      .min(1),
  }),
})
export type DciSearchRequest = z.infer<typeof dciSearchRequestSchema>

/** The group (household) record this client reads and writes. */
export const dciHouseholdRecordSchema = z.looseObject({
  group_identifier: z.array(
    z.object({ identifier_type: z.string(), identifier_value: z.string() }),
  ),
  admin_area: z.object({ code: z.string() }),
  group_size: z.number().int().positive(),
  poverty_score: z.number().nullable().optional(),
  eligibility_status: z.enum(['eligible', 'not_eligible']).nullable().optional(),
  pmt_formula_version: z.string().optional(),
  programme_enrolments: z.array(z.object({ programme_code: z.string() })).optional(),
})
export type DciHouseholdRecord = z.infer<typeof dciHouseholdRecordSchema>

export const dciSearchResponseSchema = z.object({
  signature: z.string().optional(),
  header: dciHeaderSchema,
  message: z.object({
    transaction_id: z.string(),
    correlation_id: z.string().optional(),
    search_response: z.array(
      z.object({
        reference_id: z.string(),
        timestamp: z.string(),
        status,
        status_reason_code: z.string().optional(),
        status_reason_message: z.string().optional(),
        data: z
          .object({
            version: z.string().optional(),
            reg_type: z.string().optional(),
            reg_record_type: z.string().optional(),
            reg_records: z.array(z.unknown()),
          })
          .optional(),
        pagination: z.unknown().optional(),
        locale: z.string().optional(),
      }),
    ),
  }),
})
export type DciSearchResponse = z.infer<typeof dciSearchResponseSchema>

export const dciUpdateRequestSchema = z.object({
  signature: z.string().optional(),
  header: dciHeaderSchema,
  message: z.object({
    transaction_id: z.string(),
    update_request: z
      .array(
        z.object({
          reference_id: z.string(),
          timestamp: z.string(),
          data: z.object({
            reg_type: z.string(),
            reg_record_type: z.string(),
            reg_records: z.array(
              dciHouseholdRecordSchema.partial().required({ group_identifier: true }),
            ),
            /** Why: the case that decided the change. */
            reason: z.object({ case_id: z.string(), decided_at: z.string() }),
          }),
        }),
      )
      .min(1),
  }),
})
export type DciUpdateRequest = z.infer<typeof dciUpdateRequestSchema>

export const dciUpdateResponseSchema = z.object({
  signature: z.string().optional(),
  header: dciHeaderSchema,
  message: z.object({
    transaction_id: z.string(),
    correlation_id: z.string().optional(),
    update_response: z.array(
      z.object({
        reference_id: z.string(),
        timestamp: z.string().optional(),
        status,
        status_reason_code: z.string().optional(),
        status_reason_message: z.string().optional(),
      }),
    ),
  }),
})
export type DciUpdateResponse = z.infer<typeof dciUpdateResponseSchema>

function header(action: string, messageId: string): DciSearchRequest['header'] {
  return {
    version: DCI_VERSION,
    message_id: messageId,
    message_ts: new Date().toISOString(),
    action,
    sender_id: 'rsu-casework',
    receiver_id: 'social-registry',
    total_count: 1,
    is_msg_encrypted: false,
  }
}

/** Turns a DCI group record into our household, or says which field is missing. */
export function householdFromDci(record: unknown, householdId: string): RegistryHousehold {
  const parsed = dciHouseholdRecordSchema.safeParse(record)
  if (!parsed.success) {
    throw new RegistryRejectedError(
      'REGISTRY_BAD_RECORD',
      `the registry's record for the household is not a DCI group record: ${parsed.error.issues
        .map((i) => i.path.join('.'))
        .join(', ')}`,
    )
  }
  const r = parsed.data
  return {
    id: householdId,
    areaCode: r.admin_area.code,
    members: r.group_size,
    pmtScore: r.poverty_score ?? null,
    eligible: r.eligibility_status == null ? null : r.eligibility_status === 'eligible',
    programmes: (r.programme_enrolments ?? []).map((p) => p.programme_code),
  }
}

/** A DCI answer we cannot read is the registry misbehaving: retry, do not decide. */
async function readJson<T>(response: Response, schema: z.ZodType<T>, what: string): Promise<T> {
  const body: unknown = await response.json().catch(() => undefined)
  const parsed = schema.safeParse(body)
  if (!parsed.success) {
    throw new RegistryUnavailableError(`the registry's ${what} answer is not a DCI envelope`)
  }
  return parsed.data
}

export function createDciRegistry(options: { baseUrl: string; token?: string }): RegistryClient {
  const base = options.baseUrl.replace(/\/+$/, '')
  const headers = (extra: Record<string, string> = {}) => ({
    'content-type': 'application/json',
    accept: 'application/json',
    ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
    ...extra,
  })
  const checkStatus = (response: Response, what: string) => {
    if (response.ok) return
    if (isTransientStatus(response.status)) {
      throw new RegistryUnavailableError(`the registry answered ${response.status} to ${what}`)
    }
    throw new RegistryRejectedError(
      `REGISTRY_HTTP_${response.status}`,
      `the registry refused ${what} (${response.status})`,
    )
  }

  return {
    kind: 'dci',
    async getHousehold(householdId) {
      const id = randomUUID()
      const request: DciSearchRequest = {
        header: header('search', id),
        message: {
          transaction_id: id,
          search_request: [
            {
              reference_id: `${id}-1`,
              timestamp: new Date().toISOString(),
              search_criteria: {
                version: DCI_VERSION,
                reg_type: REG_TYPE,
                query_type: 'idtype-value',
                query: { type: HOUSEHOLD_ID_TYPE, value: householdId },
                pagination: { page_size: 1, page_number: 1 },
              },
              locale: 'fr',
            },
          ],
        },
      }
      const response = await registryFetch(`${base}/registry/sync/search`, {
        method: 'POST',
        headers: headers(),
        body: JSON.stringify(request),
      })
      checkStatus(response, 'a search')
      const answer = await readJson(response, dciSearchResponseSchema, 'search')
      const first = answer.message.search_response[0]
      if (!first || first.status === 'rjct') {
        // DCI answers an unknown identifier with a rejected search (or no records): not found.
        return null
      }
      if (first.status !== 'succ') {
        throw new RegistryUnavailableError(`the registry's search is ${first.status}, not done`)
      }
      const record = first.data?.reg_records[0]
      return record === undefined ? null : householdFromDci(record, householdId)
    },

    async updateEligibility(update: EligibilityUpdate, idempotencyKey: string) {
      const request: DciUpdateRequest = {
        header: header('update', idempotencyKey),
        message: {
          // The key names the case's decision: a repeated write is the same transaction.
          transaction_id: idempotencyKey,
          update_request: [
            {
              reference_id: `${idempotencyKey}-1`,
              timestamp: update.decidedAt,
              data: {
                reg_type: REG_TYPE,
                reg_record_type: RECORD_TYPE,
                reg_records: [
                  {
                    group_identifier: [
                      { identifier_type: HOUSEHOLD_ID_TYPE, identifier_value: update.householdId },
                    ],
                    group_size: update.members,
                    poverty_score: update.score,
                    pmt_formula_version: update.formulaVersion,
                    eligibility_status: update.eligible ? 'eligible' : 'not_eligible',
                  },
                ],
                reason: { case_id: update.caseId, decided_at: update.decidedAt },
              },
            },
          ],
        },
      }
      const response = await registryFetch(`${base}/registry/sync/update`, {
        method: 'POST',
        headers: headers({ 'idempotency-key': idempotencyKey }),
        body: JSON.stringify(request),
      })
      checkStatus(response, 'an update')
      const answer = await readJson(response, dciUpdateResponseSchema, 'update')
      const first = answer.message.update_response[0]
      if (!first) throw new RegistryUnavailableError('the registry answered an update with nothing')
      if (first.status === 'rjct') {
        throw new RegistryRejectedError(
          first.status_reason_code ?? 'REGISTRY_REJECTED',
          `the registry rejected the update (${first.status_reason_code ?? 'no reason given'})`,
        )
      }
      return {
        reference: answer.message.correlation_id ?? first.reference_id,
      } satisfies RegistryWriteReceipt
    },
  }
}
