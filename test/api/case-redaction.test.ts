import { describe, expect, it } from 'vitest'
import { candidateIds, redactIds, redactTimeline } from '../../api/case-redaction'

const hidden = new Set(['G-gbv'])

describe('case id redaction', () => {
  it('drops links to a hidden case, nulls any other field naming it, keeps the rest', () => {
    const answer = {
      id: 'G-seen',
      parentCaseId: 'G-gbv',
      live: {
        links: [
          { toCaseId: 'G-gbv', kind: 'related' },
          { toCaseId: 'G-other', kind: 'spawned' },
        ],
        duplicateOf: 'G-gbv',
        tasks: [{ id: 'T1', result: { spawned: ['G-gbv', 'G-other'] } }],
      },
      contestedCaseId: 'G-gbv',
    }
    expect(redactIds(answer, hidden)).toEqual({
      id: 'G-seen',
      parentCaseId: null,
      live: {
        links: [{ toCaseId: 'G-other', kind: 'spawned' }],
        duplicateOf: null,
        tasks: [{ id: 'T1', result: { spawned: ['G-other'] } }],
      },
      contestedCaseId: null,
    })
    expect(answer.parentCaseId).toBe('G-gbv')
  })

  it('drops the timeline events that only say a hidden case was linked or spawned', () => {
    const events = [
      { type: 'case.opened', after: { status: 'open' } },
      { type: 'case.linked', after: { toCaseId: 'G-gbv', kind: 'related' } },
      { type: 'case.spawned', after: { toCaseId: 'RV-1', kind: 'reverification' } },
      { type: 'appeal.implementation_started', after: { reverificationCaseId: 'G-gbv' } },
    ]
    expect(redactTimeline(events, hidden)).toEqual([
      { type: 'case.opened', after: { status: 'open' } },
      { type: 'case.spawned', after: { toCaseId: 'RV-1', kind: 'reverification' } },
      { type: 'appeal.implementation_started', after: { reverificationCaseId: null } },
    ])
  })

  it('looks up only strings shaped like ids', () => {
    expect([
      ...candidateIds({ a: 'G-1', b: 'une note, avec des espaces', c: [3, 'RV-G-1'] }),
    ]).toEqual(['G-1', 'RV-G-1'])
  })
})
