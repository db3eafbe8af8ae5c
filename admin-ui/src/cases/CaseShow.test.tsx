// @vitest-environment happy-dom
import { cleanup, screen, waitFor, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { http, HttpResponse } from 'msw'
import { setupServer } from 'msw/node'
import { RecordContextProvider } from 'react-admin'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { renderConsole, TEST_CSRF } from '../test-utils'
import type { CaseDetail, SlaClock } from '../types'
import { CaseDetailView } from './CaseShow'

// The case page: the timeline read from the audit log, the SLA clock (paused, extended) and the
// supervisor's SLA commands, which reach the API with the CSRF token. Only the API is mocked.

const commands: { path: string; body: unknown; csrf: string | null }[] = []
const server = setupServer(
  http.post('*/api/cases/:id/:command', async ({ request, params }) => {
    commands.push({
      path: `${String(params.id)}/${String(params.command)}`,
      body: await request.json(),
      csrf: request.headers.get('x-csrf-token'),
    })
    return HttpResponse.json({ case: { id: params.id }, result: null })
  }),
  http.get('*/api/users', () =>
    HttpResponse.json([], { headers: { 'Content-Range': 'users */0' } }),
  ),
)
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }))
afterEach(() => {
  cleanup()
  commands.length = 0
})
afterAll(() => server.close())

const sla: SlaClock = {
  state: 'on_track',
  targetMs: 36_000_000,
  elapsedMs: 7_200_000,
  remainingMs: 28_800_000,
  dueAt: '2026-12-03T15:00:00.000Z',
  atRiskAt: null,
  paused: false,
  breachedAt: null,
}
const detail = (over: Partial<CaseDetail> = {}, slaOver: Partial<SlaClock> = {}): CaseDetail => ({
  id: 'G-2026-ABC',
  reference: 'PL-2026-K38AY3',
  kind: 'grievance',
  status: 'open',
  stage: 'investigation',
  areaCode: 'ML-2-KATI-KATI',
  category: 'payment_not_received',
  priority: 'normal',
  channel: 'hotline',
  sensitive: false,
  slaState: 'on_track',
  ackDueAt: null,
  resolveDueAt: '2026-12-03T15:00:00.000Z',
  escalationLevel: 0,
  parentCaseId: null,
  householdId: null,
  satisfaction: null,
  openedAt: '2026-11-29T08:00:00.000Z',
  closedAt: null,
  updatedAt: '2026-11-29T09:00:00.000Z',
  live: {
    status: 'open',
    stage: 'investigation',
    sla: { ...sla, ...slaOver },
    escalationLevel: 0,
    tasks: [
      {
        id: 'G-2026-ABC-T2',
        kind: 'investigation',
        status: 'claimed',
        candidateRole: 'case_worker',
        areaCode: 'ML-2-KATI-KATI',
        assigneeId: null,
        dueAt: '2026-12-01T15:00:00.000Z',
      },
    ],
    notes: [],
    links: [{ toCaseId: 'V-2026-XYZ', kind: 'spawned' }],
  },
  timeline: [
    {
      id: '1',
      seq: 1,
      type: 'case.opened',
      actorId: null,
      actorRole: 'case_worker',
      occurredAt: '2026-11-29T08:00:00.000Z',
      before: null,
      after: null,
    },
    {
      id: '2',
      seq: 2,
      type: 'case.triaged',
      actorId: null,
      actorRole: 'case_worker',
      occurredAt: '2026-11-29T08:30:00.000Z',
      before: null,
      after: null,
    },
    {
      id: '3',
      seq: 3,
      type: 'sla.paused',
      actorId: null,
      actorRole: 'supervisor',
      occurredAt: '2026-11-29T09:00:00.000Z',
      before: null,
      after: null,
    },
  ],
  ...over,
})

const show = (record: CaseDetail, roles: string[]) =>
  renderConsole(
    <RecordContextProvider value={record}>
      <CaseDetailView />
    </RecordContextProvider>,
    roles,
  )

describe('the case page', () => {
  it('shows the timeline from the audit log, the tasks and the linked cases, in French', async () => {
    show(detail(), ['case_worker'])
    const timeline = await screen.findByTestId('case-timeline')
    const events = within(timeline)
      .getAllByRole('listitem')
      .map((li) => li.textContent)
    expect(events[0]).toContain('Dossier ouvert')
    expect(events[1]).toContain('Dossier trié')
    expect(events[2]).toContain('Délai en pause')
    expect(events[2]).toContain('Superviseur')
    expect(screen.getByTestId('case-task').textContent).toContain('Enquête')
    expect(screen.getByRole('link', { name: 'V-2026-XYZ' })).toBeTruthy()
    // 8 working hours left on the resolve clock.
    expect(screen.getByTestId('case-sla').textContent).toContain('8 h 0 min ouvrées restantes')
  })

  it('shows the whole chain of linked cases, each with how it relates, this one unlinked', async () => {
    const c = (id: string, kind: string, reference: string, status = 'open') => ({
      id,
      kind,
      reference,
      status,
      stage: 'closed',
    })
    show(
      detail({
        id: 'RV-G1',
        reference: 'RV-G1',
        kind: 'reverification',
        chain: {
          cases: [
            c('G1', 'grievance', 'PL-2026-AAAAAA', 'closed'),
            c('RV-G1', 'reverification', 'RV-G1', 'closed'),
            c('AP1', 'appeal', 'RC-2026-BBBBBB'),
            c('RV-AP1', 'reverification', 'RV-AP1'),
          ],
          links: [
            { fromCaseId: 'G1', toCaseId: 'RV-G1', kind: 'spawned' },
            { fromCaseId: 'AP1', toCaseId: 'RV-G1', kind: 'appeal_of' },
            { fromCaseId: 'AP1', toCaseId: 'RV-AP1', kind: 'spawned' },
          ],
        },
      }),
      ['case_worker'],
    )
    const items = within(await screen.findByTestId('case-chain'))
      .getAllByRole('listitem')
      .map((li) => li.textContent)
    expect(items).toHaveLength(4)
    expect(items[0]).toContain('PL-2026-AAAAAA — Plainte')
    expect(items[0]).toContain('Clos')
    expect(items[2]).toContain('RC-2026-BBBBBB — Recours')
    expect(items[2]).toContain('Recours contre RV-G1')
    expect(screen.getByRole('link', { name: 'PL-2026-AAAAAA — Plainte' })).toBeTruthy()
    expect(screen.getByRole('link', { name: 'RV-AP1 — Revérification du ménage' })).toBeTruthy()
    // The case shown is in the chain, in bold, not as a link to itself.
    expect(screen.queryByRole('link', { name: /^RV-G1/ })).toBeNull()
  })

  it('renders the row a list already holds (no timeline yet) without failing', async () => {
    show(detail({ timeline: undefined, live: null }), ['case_worker'])
    expect(await screen.findByTestId('case-reference')).toBeTruthy()
    expect(within(screen.getByTestId('case-timeline')).queryAllByRole('listitem')).toHaveLength(0)
  })

  it('shows a paused clock with its reason, and resumes it', async () => {
    show(detail({}, { paused: true, pauseReason: 'waiting_partner' }), ['case_worker'])
    const clock = await screen.findByTestId('case-sla')
    expect(clock.textContent).toContain('En pause')
    expect(clock.textContent).toContain("En attente d'un partenaire")
    await userEvent.click(screen.getByTestId('sla-resume'))
    await waitFor(() => expect(commands).toHaveLength(1))
    expect(commands[0]).toEqual({ path: 'G-2026-ABC/resume-sla', body: {}, csrf: TEST_CSRF })
  })

  it('pauses the clock with the reason chosen', async () => {
    show(detail(), ['case_worker'])
    await userEvent.click(screen.getByRole('combobox', { name: 'Motif de pause' }))
    await userEvent.click(
      await screen.findByRole('option', { name: 'Accès impossible (sécurité)' }),
    )
    await userEvent.click(screen.getByTestId('sla-pause'))
    await waitFor(() => expect(commands).toHaveLength(1))
    expect(commands[0]!.path).toBe('G-2026-ABC/pause-sla')
    expect(commands[0]!.body).toEqual({ reason: 'access_impossible' })
  })

  it('lets a supervisor extend the deadline, in working hours with a reason', async () => {
    show(detail(), ['supervisor'])
    const extend = await screen.findByTestId('sla-extend')
    expect((extend as HTMLButtonElement).disabled).toBe(true)
    const hours = screen.getByRole('spinbutton', { name: 'Prolonger de (heures)' })
    await userEvent.clear(hours)
    await userEvent.type(hours, '4')
    await userEvent.type(
      screen.getByRole('textbox', { name: 'Motif de prolongation' }),
      'Visite reportée (pluies)',
    )
    await userEvent.click(extend)
    await waitFor(() => expect(commands).toHaveLength(1))
    expect(commands[0]!.body).toEqual({ byMs: 4 * 3_600_000, reason: 'Visite reportée (pluies)' })
  })

  it('offers no extension to a case worker, and no command on a closed case', async () => {
    show(detail(), ['case_worker'])
    await screen.findByTestId('case-sla')
    expect(screen.queryByTestId('sla-extend')).toBeNull()
    cleanup()
    show(detail({ status: 'closed' }), ['supervisor'])
    await screen.findByTestId('case-sla')
    expect(screen.queryByTestId('sla-pause')).toBeNull()
    expect(screen.queryByTestId('sla-extend')).toBeNull()
  })
})
