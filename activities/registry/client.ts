/**
 * The social registry as the case workflows see it: read one household, write an eligibility
 * change. Adapters: DCI (the Digital Convergence Initiative social-registry API, as OpenSPP and
 * OpenG2P expose it), a plain REST registry, and the households table itself (the embedded
 * default when no REGISTRY_URL is set).
 */

/** A household as the registry knows it: identifiers, codes and numbers, never a name. */
export interface RegistryHousehold {
  id: string
  /** The commune (admin area code) the household lives in. */
  areaCode: string
  members: number
  pmtScore: number | null
  eligible: boolean | null
  programmes: string[]
}

/** An approved eligibility change, as the registry receives it. */
export interface EligibilityUpdate {
  householdId: string
  /** The case that decided it: the registry can trace every change back to a human decision. */
  caseId: string
  score: number
  formulaVersion: string
  eligible: boolean
  /** Members counted at the visit. */
  members: number
  decidedAt: string
}

export interface RegistryWriteReceipt {
  /** The registry's own reference for the write, when it gives one. */
  reference: string | null
}

export interface RegistryClient {
  readonly kind: 'dci' | 'rest' | 'database'
  /** The household, or null when the registry does not know it. */
  getHousehold(householdId: string): Promise<RegistryHousehold | null>
  /**
   * Writes the change. `idempotencyKey` is stable for one case's decision: the registry answers a
   * repeated key with the first result instead of applying the change twice.
   */
  updateEligibility(
    update: EligibilityUpdate,
    idempotencyKey: string,
  ): Promise<RegistryWriteReceipt>
}

/** The registry is down, slow or overloaded: retry later, nothing was decided. */
export class RegistryUnavailableError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'RegistryUnavailableError'
  }
}

/** The registry refused the request for good (unknown household, invalid change). */
export class RegistryRejectedError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message)
    this.name = 'RegistryRejectedError'
  }
}

/** Statuses worth retrying: the registry may well answer later. */
export function isTransientStatus(status: number): boolean {
  return status >= 500 || status === 408 || status === 429
}

/** fetch with a deadline; a network failure or a timeout means "unavailable", never "rejected". */
export async function registryFetch(
  url: string,
  init: RequestInit,
  timeoutMs = 10_000,
): Promise<Response> {
  try {
    return await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) })
  } catch (error) {
    throw new RegistryUnavailableError(
      `registry unreachable at ${new URL(url).origin}: ${(error as Error).message}`,
    )
  }
}
