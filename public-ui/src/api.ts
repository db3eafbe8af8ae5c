import type { Lang, MessageKey, Translate } from './i18n'

/** What `GET /api/public/options` answers: reference data for the form. */
export interface PublicOptions {
  communes: { code: string; name: string; cercle: string; region: string }[]
  categories: { code: string; labelFr: string; labelEn: string }[]
}

export interface Submission {
  communeCode: string
  category?: string
  narrative: string
  anonymous: boolean
  contact?: { email?: string; phone?: string }
  locale: Lang
}

export interface Receipt {
  reference: string
  pin: string
  message: string
}

export type PublicStatus = 'received' | 'in_progress' | 'resolved' | 'closed'

export interface Progress {
  reference: string
  status: PublicStatus
  message: string
  submittedAt: string
  updatedAt: string | null
}

/** A refusal from the API (its stable error code), or no answer at all (`NETWORK`). */
export class ApiProblem extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly details: { path: string; message: string }[] = [],
    readonly retryAfterSeconds?: number,
  ) {
    super(code)
  }
}

async function call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  let response: Response
  try {
    response = await fetch(`/api/public${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
  } catch {
    throw new ApiProblem(0, 'NETWORK')
  }
  if (response.ok) return (await response.json()) as T
  const retryAfter = Number(response.headers.get('retry-after'))
  let error: { code?: string; details?: { path: string; message: string }[] } = {}
  try {
    error = ((await response.json()) as { error?: typeof error }).error ?? {}
  } catch {
    // Not our JSON (a proxy's page): the status alone tells what happened.
  }
  throw new ApiProblem(
    response.status,
    error.code ?? `HTTP_${response.status}`,
    error.details ?? [],
    Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : undefined,
  )
}

export const getOptions = () => call<PublicOptions>('GET', '/options')
export const submitGrievance = (body: Submission) => call<Receipt>('POST', '/grievances', body)
export const trackGrievance = (body: { reference: string; pin: string; locale: Lang }) =>
  call<Progress>('POST', '/track', body)

/** The sentence a member of the public reads for a refusal, by the API's stable error code. */
export function problemMessage(problem: unknown, t: Translate): string {
  if (!(problem instanceof ApiProblem)) return t('error.unexpected', { code: 'CLIENT' })
  const byCode: Record<string, MessageKey> = {
    NETWORK: 'error.network',
    NOT_FOUND: 'error.notFound',
    VALIDATION_FAILED: 'error.invalid',
    SERVICE_UNAVAILABLE: 'error.unavailable',
  }
  if (problem.code === 'TOO_MANY_REQUESTS' || problem.status === 429) {
    return t('error.tooMany', {
      minutes: Math.max(1, Math.ceil((problem.retryAfterSeconds ?? 60) / 60)),
    })
  }
  const key = byCode[problem.code] ?? (problem.status === 503 ? 'error.unavailable' : undefined)
  return key ? t(key) : t('error.unexpected', { code: problem.code })
}
