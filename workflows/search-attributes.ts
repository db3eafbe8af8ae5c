import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common'

/**
 * Search attributes of a case workflow, so operators can find cases with `temporal workflow list`
 * and the Web UI. Codes only: never a name, a phone number or free text (they are not encrypted).
 */
export const CaseKindKey = defineSearchAttributeKey('CaseKind', SearchAttributeType.KEYWORD)
export const CaseStageKey = defineSearchAttributeKey('CaseStage', SearchAttributeType.KEYWORD)
export const CaseAreaKey = defineSearchAttributeKey('CaseAreaCode', SearchAttributeType.KEYWORD)
export const CasePriorityKey = defineSearchAttributeKey('CasePriority', SearchAttributeType.KEYWORD)
export const CaseSlaStateKey = defineSearchAttributeKey('CaseSlaState', SearchAttributeType.KEYWORD)

export const caseSearchAttributes = [
  CaseKindKey,
  CaseStageKey,
  CaseAreaKey,
  CasePriorityKey,
  CaseSlaStateKey,
]
