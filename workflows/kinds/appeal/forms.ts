import type { ZodType } from 'zod'
import { appealReviewForm, implementationForm } from './messages'
import { approvalForm } from '../../forms'

/** Forms of the appeal's human tasks. */
export const appealForms: Record<string, ZodType<Record<string, unknown>>> = {
  appeal_review: appealReviewForm,
  approval: approvalForm,
  implementation: implementationForm,
}
/** Reasons and notes are free text: in the history and the live current(), never in PostgreSQL. */
export const appealFreeText = {
  appeal_review: ['reasons'],
  approval: ['reason'],
  implementation: ['note'],
}
