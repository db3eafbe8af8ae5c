/**
 * The code lists the console shows, each translated under `<prefix>.<code>` in both catalogues
 * (the i18n test checks every one). Codes from the API outside these lists (a new stage, a new
 * event type) fall back to the code itself rather than break the page.
 */
export const enums = {
  'rsu.sla.state': ['on_track', 'at_risk', 'breached', 'paused', 'met'],
  'rsu.task_kind': ['triage', 'investigation', 'approval', 'escalation'],
  'rsu.task_status': ['open', 'claimed', 'completed', 'cancelled'],
  // The codes of workflows/forms.ts (the i18n test checks they agree), written out so that zod
  // stays out of the first load.
  'rsu.category': [
    'exclusion_error',
    'inclusion_error',
    'payment_not_received',
    'wrong_amount',
    'data_correction',
    'staff_misconduct',
    'sea_gbv',
    'information_request',
    'other',
  ],
  'rsu.priority': ['low', 'normal', 'high', 'urgent'],
  'rsu.channel': ['hotline', 'sms', 'web', 'in_person', 'community_committee', 'email'],
  'rsu.resolution': ['upheld', 'rejected', 'partly_upheld', 'information_given'],
  'rsu.decision': ['approve', 'reject'],
  'rsu.escalation_action': ['acknowledged', 'reassigned', 'resolved_with_team'],
  'rsu.pause_reason': ['waiting_complainant', 'waiting_partner', 'access_impossible', 'other'],
  'rsu.case_kind': ['grievance', 'reverification', 'referral', 'appeal'],
  'rsu.case_status': ['open', 'closed'],
  'rsu.stage': [
    'uptake',
    'triage',
    'investigation',
    'approval',
    'outcome',
    'appeal_window',
    'closed',
    'routing',
    'awaiting_partner',
    'in_service',
    'follow_up',
    'supervision',
  ],
  'rsu.role': ['case_worker', 'supervisor', 'programme_manager', 'administrator', 'partner'],
  'rsu.area_level': ['national', 'region', 'cercle', 'commune', 'village'],
  'rsu.partner_kind': ['government', 'un_agency', 'ngo', 'health', 'other'],
  'rsu.decline_reason': [
    'no_capacity',
    'not_eligible',
    'out_of_area',
    'household_unreachable',
    'other',
  ],
  'rsu.referral_outcome': ['delivered', 'not_delivered'],
  'rsu.partner_status': [
    'awaiting_response',
    'accepted',
    'delivered',
    'not_delivered',
    'unrouted',
    'closed',
  ],
  'rsu.link_kind': ['related', 'spawned', 'appeal_of', 'duplicate_of'],
  'rsu.age_bucket': ['0-7', '8-30', '31-90', '91+'],
  'rsu.event': [
    'approval.decided',
    'case.anonymised',
    'case.closed',
    'case.escalated',
    'case.linked',
    'case.note_added',
    'case.opened',
    'case.reopened',
    'case.resolved',
    'case.satisfaction_recorded',
    'case.triaged',
    'referral.accepted',
    'referral.declined',
    'referral.lapsed',
    'referral.reported',
    'referral.routed',
    'referral.unrouted',
    'sla.at_risk',
    'sla.extended',
    'sla.paused',
    'sla.resumed',
    'task.claimed',
    'task.completed',
    'task.created',
    'task.reassigned',
    'task.unclaimed',
  ],
} as const satisfies Record<string, readonly string[]>

export type EnumName = keyof typeof enums

/** Choices for a SelectInput / RadioButtonGroupInput: the code and its catalogue key. */
export const choices = (name: EnumName, only?: readonly string[]) =>
  (enums[name] as readonly string[])
    .filter((id) => !only || only.includes(id))
    .map((id) => ({ id, name: `${name}.${id}` }))

/** The catalogue key of a code (with the code itself as the fallback text). */
export const enumKey = (name: EnumName, code: string | null | undefined) =>
  [`${name}.${code ?? ''}`, { _: code ?? '—' }] as const
