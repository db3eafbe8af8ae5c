import { setHandler } from '@temporalio/workflow'
import { refuseUnless, type Kernel } from '../../kernel/case'
import {
  ErrorCode,
  markDuplicateUpdate,
  recordSatisfactionUpdate,
  type GrievanceState,
} from '../../messages'

const SATISFACTION = ['satisfied', 'partly_satisfied', 'not_satisfied', 'not_reached']

/** A grievance's own commands: marked as a duplicate of another case, the satisfaction. */
export function registerGrievanceHandlers(k: Kernel<GrievanceState>) {
  const s = () => k.state()
  setHandler(
    markDuplicateUpdate,
    async (c) => {
      s().duplicateOf = c.duplicateOf
      k.close('duplicate', c.actor, { links: [{ toCaseId: c.duplicateOf, kind: 'duplicate_of' }] })
      return { ...s(), projected: await k.rec.answer() }
    },
    {
      validator: (c) => {
        k.assertOpen()
        refuseUnless(
          c.duplicateOf !== s().caseId && /^[A-Za-z0-9-]{1,64}$/.test(c.duplicateOf ?? ''),
          ErrorCode.INVALID_COMMAND,
          'duplicateOf must be another case id',
        )
      },
    },
  )
  setHandler(
    recordSatisfactionUpdate,
    async (c) => {
      s().satisfaction = c.satisfaction
      k.emit('case.satisfaction_recorded', c.actor, null, { satisfaction: c.satisfaction })
      return { ...s(), projected: await k.rec.answer() }
    },
    {
      validator: (c) => {
        k.assertOpen()
        refuseUnless(
          ['outcome', 'appeal_window'].includes(s().stage),
          ErrorCode.WRONG_STAGE,
          'satisfaction is recorded once the outcome is communicated',
        )
        refuseUnless(
          SATISFACTION.includes(c.satisfaction),
          ErrorCode.INVALID_COMMAND,
          'unknown satisfaction level',
        )
      },
    },
  )
}
