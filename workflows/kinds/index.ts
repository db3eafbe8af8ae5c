import type { ZodType } from 'zod'
import { escalationForm, taskForms } from '../forms'
import type { CaseKind } from '../messages'
import { appealForms, appealFreeText } from './appeal/forms'
import { referralForms, referralFreeText } from './referral/forms'
import { reverificationForms } from './reverification/forms'

type Form = ZodType<Record<string, unknown>>

/** What the API and the console read about a case kind: its workflow, stages and task forms. */
export interface CaseKindDefinition {
  kind: CaseKind
  /** The workflow type (the kind's workflow function's name, kept for running cases). */
  workflowType: string
  stages: readonly string[]
  /** The form of each task kind the case opens, validated by the workflow on completion. */
  forms: Record<string, Form>
  /** Free-text fields by task kind: in the encrypted history only, never in PostgreSQL. */
  freeText: Record<string, string[]>
}

/** Task forms every kind takes from the kernel (the escalation ladder's tasks). */
export const kernelForms: Record<string, Form> = { escalation: escalationForm as Form }
const kernelFreeText = { escalation: ['note'] }

/**
 * The registry of case kinds: one entry per folder of `workflows/kinds/`. The API derives its
 * list of kinds and the task forms it documents from here; the console renders these forms.
 */
export const caseKinds = {
  grievance: {
    kind: 'grievance',
    workflowType: 'grievanceWorkflow',
    stages: ['uptake', 'triage', 'investigation', 'approval', 'outcome', 'appeal_window', 'closed'],
    forms: taskForms as unknown as Record<string, Form>,
    freeText: { investigation: ['findings'], approval: ['reason'], ...kernelFreeText },
  },
  reverification: {
    kind: 'reverification',
    workflowType: 'reverificationWorkflow',
    stages: ['opening', 'visit', 'approval', 'registry_update', 'notification', 'review', 'closed'],
    forms: { ...reverificationForms, ...kernelForms },
    freeText: { approval: ['reason'], ...kernelFreeText },
  },
  referral: {
    kind: 'referral',
    workflowType: 'referralWorkflow',
    stages: ['routing', 'awaiting_partner', 'in_service', 'follow_up', 'supervision', 'closed'],
    forms: { ...referralForms, ...kernelForms } as Record<string, Form>,
    freeText: { ...referralFreeText, ...kernelFreeText },
  },
  appeal: {
    kind: 'appeal',
    workflowType: 'appealWorkflow',
    stages: ['review', 'committee', 'implementation', 'closed'],
    forms: { ...appealForms, ...kernelForms },
    freeText: { ...appealFreeText, ...kernelFreeText },
  },
} as const satisfies Record<CaseKind, CaseKindDefinition>
