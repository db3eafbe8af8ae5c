import { PRIORITIES } from './messages'
import { z } from 'zod'

/**
 * The forms of human tasks, by task kind. The console renders them and the API documents them;
 * the workflow validates every completion against them. Fields listed in `freeText` stay in the
 * (encrypted) workflow history and are never projected into PostgreSQL lists.
 */

export const categoryCodes = [
  'exclusion_error',
  'inclusion_error',
  'payment_not_received',
  'wrong_amount',
  'data_correction',
  'staff_misconduct',
  'sea_gbv',
  'information_request',
  'other',
] as const

export const triageForm = z.object({
  category: z.enum(categoryCodes),
  sensitive: z.boolean(),
  priority: z.enum(PRIORITIES),
})

export const investigationForm = z.object({
  findings: z.string().trim().min(10).max(5000),
  proposedResolution: z.enum(['upheld', 'rejected', 'partly_upheld', 'information_given']),
  /** A resolution that changes eligibility or payment needs a supervisor's approval. */
  changesEligibilityOrPayment: z.boolean(),
  /** The registry household concerned: an upheld exclusion grievance re-verifies it. */
  householdId: z
    .string()
    .regex(/^[A-Za-z0-9-]{3,64}$/)
    .optional(),
})

export const approvalForm = z
  .object({
    decision: z.enum(['approve', 'reject']),
    reason: z.string().trim().min(3).max(2000).optional(),
  })
  .refine((f) => f.decision === 'approve' || f.reason, {
    message: 'a rejection needs a reason',
    path: ['reason'],
  })

export const escalationForm = z.object({
  action: z.enum(['acknowledged', 'reassigned', 'resolved_with_team']),
  note: z.string().trim().max(2000).optional(),
})

export const taskForms = {
  triage: triageForm,
  investigation: investigationForm,
  approval: approvalForm,
  escalation: escalationForm,
} as const

/** Free-text fields by task kind: kept out of PostgreSQL. */
const freeTextFields: Record<string, string[]> = {
  investigation: ['findings'],
  approval: ['reason'],
  escalation: ['note'],
}

export type TaskKind = keyof typeof taskForms
export type TriageForm = z.infer<typeof triageForm>
export type InvestigationForm = z.infer<typeof investigationForm>
export type ApprovalForm = z.infer<typeof approvalForm>

/** The codes of a completed form, without its free text: what PostgreSQL may hold. */
export function projectableResult(
  kind: string,
  result: Record<string, unknown> | undefined,
): Record<string, unknown> | null {
  if (!result) return null
  const freeText = freeTextFields[kind] ?? []
  return Object.fromEntries(Object.entries(result).filter(([key]) => !freeText.includes(key)))
}
