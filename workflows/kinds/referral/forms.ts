import { z } from 'zod'

/** Forms of the referral's human tasks. */
export const referralForms = {
  follow_up: z.object({
    outcome: z.enum(['needs_met', 'needs_partly_met', 'needs_not_met', 'household_unreachable']),
    note: z.string().trim().max(2000).optional(),
  }),
  supervision: z.object({
    /** `reroute`: every partner of the coverage may be tried again; `close`: left unserved. */
    action: z.enum(['reroute', 'close']),
    note: z.string().trim().max(2000).optional(),
  }),
}
export const referralFreeText = { follow_up: ['note'], supervision: ['note'] }
