import { z } from 'zod'
import {
  isTransientStatus,
  registryFetch,
  RegistryRejectedError,
  RegistryUnavailableError,
  type RegistryClient,
} from './client'

/**
 * A plain REST registry: `GET /households/{id}` (404 when unknown) and
 * `PUT /households/{id}/eligibility` with an `Idempotency-Key` header.
 */
const householdSchema = z.object({
  id: z.string(),
  areaCode: z.string(),
  members: z.number().int().positive(),
  pmtScore: z.number().nullable(),
  eligible: z.boolean().nullable().default(null),
  programmes: z.array(z.string()).default([]),
})

export function createRestRegistry(options: { baseUrl: string; token?: string }): RegistryClient {
  const base = options.baseUrl.replace(/\/+$/, '')
  const headers = (extra: Record<string, string> = {}) => ({
    accept: 'application/json',
    ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
    ...extra,
  })
  const fail = (status: number, what: string): never => {
    if (isTransientStatus(status)) {
      throw new RegistryUnavailableError(`the registry answered ${status} to ${what}`)
    }
    throw new RegistryRejectedError(`REGISTRY_HTTP_${status}`, `the registry refused ${what}`)
  }
  return {
    kind: 'rest',
    async getHousehold(householdId) {
      const response = await registryFetch(
        `${base}/households/${encodeURIComponent(householdId)}`,
        { headers: headers() },
      )
      if (response.status === 404) return null
      if (!response.ok) fail(response.status, 'a household read')
      const parsed = householdSchema.safeParse(await response.json().catch(() => undefined))
      if (!parsed.success) throw new RegistryUnavailableError('the registry sent a bad household')
      return { ...parsed.data, id: householdId }
    },
    async updateEligibility(update, idempotencyKey) {
      const response = await registryFetch(
        `${base}/households/${encodeURIComponent(update.householdId)}/eligibility`,
        {
          method: 'PUT',
          headers: headers({
            'content-type': 'application/json',
            'idempotency-key': idempotencyKey,
          }),
          body: JSON.stringify({
            caseId: update.caseId,
            score: update.score,
            formulaVersion: update.formulaVersion,
            eligible: update.eligible,
            members: update.members,
            decidedAt: update.decidedAt,
          }),
        },
      )
      if (!response.ok) fail(response.status, 'an eligibility update')
      const body = (await response.json().catch(() => ({}))) as { reference?: unknown }
      return { reference: typeof body.reference === 'string' ? body.reference : null }
    },
  }
}
