// @vitest-environment happy-dom
import { cleanup, screen, waitFor, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { http, HttpResponse } from 'msw'
import { setupServer } from 'msw/node'
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest'
import { renderConsole } from '../test-utils'
import type { Task } from '../types'
import ApprovalsPage from './ApprovalsPage'

// The supervisor's approvals queue: approve, or reject with a reason (which sends the
// investigation back). Only the API is mocked.

const task = (id: string, reference: string): Task => ({
  id,
  caseId: id.replace(/-T\d+$/, ''),
  kind: 'approval',
  status: 'open',
  candidateRole: 'supervisor',
  areaCode: 'ML-2-KATI',
  assigneeId: null,
  dueAt: '2026-12-01T10:00:00.000Z',
  createdAt: '2026-11-29T08:00:00.000Z',
  completedAt: null,
  completedBy: null,
  result: null,
  escalationLevel: null,
  caseReference: reference,
  caseStage: 'approval',
  casePriority: 'high',
  sensitive: false,
})
const decisions: { id: string; data: unknown }[] = []
let listQuery: URLSearchParams | undefined

const server = setupServer(
  http.get('*/api/tasks', ({ request }) => {
    listQuery = new URL(request.url).searchParams
    return HttpResponse.json([task('G-1-T3', 'PL-2026-AAAAAA'), task('G-2-T3', 'PL-2026-BBBBBB')], {
      headers: { 'Content-Range': 'tasks 0-1/2' },
    })
  }),
  http.post('*/api/tasks/:id/complete', async ({ request, params }) => {
    const { data } = (await request.json()) as { data: unknown }
    decisions.push({ id: String(params.id), data })
    return HttpResponse.json({ task: { id: params.id, status: 'completed' }, result: null })
  }),
)
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }))
afterEach(() => {
  cleanup()
  decisions.length = 0
})
afterAll(() => server.close())

it('lists the open approval tasks, most urgent first', async () => {
  renderConsole(<ApprovalsPage />, ['supervisor'])
  expect(await screen.findAllByTestId('approval-row')).toHaveLength(2)
  expect(JSON.parse(listQuery!.get('filter')!)).toEqual({
    kind: 'approval',
    status: ['open', 'claimed'],
  })
  expect(JSON.parse(listQuery!.get('sort')!)).toEqual(['dueAt', 'ASC'])
})

it('approves a resolution', async () => {
  renderConsole(<ApprovalsPage />, ['supervisor'])
  const [first] = await screen.findAllByTestId('approval-row')
  await userEvent.click(within(first!).getByTestId('approval-approve'))
  await waitFor(() => expect(decisions).toEqual([{ id: 'G-1-T3', data: { decision: 'approve' } }]))
  expect(await screen.findByText('Résolution approuvée')).toBeTruthy()
})

it('rejects only with a reason, and sends the reason back', async () => {
  renderConsole(<ApprovalsPage />, ['supervisor'])
  const row = (await screen.findAllByTestId('approval-row'))[1]!
  const reject = within(row).getByTestId('approval-reject') as HTMLButtonElement
  expect(reject.disabled).toBe(true)
  await userEvent.type(within(row).getByTestId('approval-reason'), 'Montant non justifié')
  expect(reject.disabled).toBe(false)
  await userEvent.click(reject)
  await waitFor(() =>
    expect(decisions).toEqual([
      { id: 'G-2-T3', data: { decision: 'reject', reason: 'Montant non justifié' } },
    ]),
  )
  expect(await screen.findByText("Renvoyée à l'agent")).toBeTruthy()
})
