import type { ZodType } from 'zod'
import { approvalForm } from '../../forms'
import { registryReviewForm, unreachableReviewForm, visitForm } from './messages'

/** Forms of the re-verification's human tasks. */
export const reverificationForms: Record<string, ZodType<Record<string, unknown>>> = {
  visit: visitForm as unknown as ZodType<Record<string, unknown>>,
  approval: approvalForm as unknown as ZodType<Record<string, unknown>>,
  unreachable_review: unreachableReviewForm,
  registry_review: registryReviewForm,
}
