import { ApplicationFailure } from '@temporalio/common'
import { describe, expect, it } from 'vitest'
import { closeCase, openCase } from '../../workflows/kernel/case-state'
import { ErrorCode } from '../../workflows/messages'
import { grievanceInput } from '../helpers/fixtures'

const supervisor = { userId: 'u-1', role: 'supervisor' }
const opened = openCase(
  grievanceInput({ caseId: 'G-1' }),
  'case-G-1',
  new Date('2026-11-02T09:00:00Z'),
)

describe('case transitions (pure)', () => {
  it('open a case at uptake with event 1', () => {
    expect(opened.state).toMatchObject({ status: 'open', stage: 'uptake', seq: 1 })
    expect(opened.event).toMatchObject({ type: 'case.opened', seq: 1, workflowId: 'case-G-1' })
  })

  it('close with a reason code, recording before and after', () => {
    const { state, event } = closeCase(
      opened.state,
      { reason: 'resolved', actor: supervisor },
      'case-G-1',
      new Date('2026-11-03T10:00:00Z'),
    )
    expect(state).toMatchObject({ status: 'closed', closedAt: '2026-11-03T10:00:00.000Z', seq: 2 })
    expect(event).toMatchObject({
      seq: 2,
      actor: supervisor,
      before: { status: 'open', stage: 'uptake' },
      after: { status: 'closed', closeReason: 'resolved' },
    })
  })

  it.each([
    [
      'a second close',
      () =>
        closeCase(
          closeCase(opened.state, { reason: 'resolved', actor: supervisor }, 'w', new Date()).state,
          { reason: 'resolved', actor: supervisor },
          'w',
          new Date(),
        ),
      ErrorCode.CASE_CLOSED,
    ],
    [
      'a free-text reason',
      () => closeCase(opened.state, { reason: 'Réglé !', actor: supervisor }, 'w', new Date()),
      ErrorCode.INVALID_COMMAND,
    ],
  ])('refuse %s with a typed code', (_name, attempt, code) => {
    let failure: unknown
    try {
      attempt()
    } catch (error) {
      failure = error
    }
    expect(failure).toBeInstanceOf(ApplicationFailure)
    expect((failure as ApplicationFailure).type).toBe(code)
    expect((failure as ApplicationFailure).nonRetryable).toBe(true)
  })
})
