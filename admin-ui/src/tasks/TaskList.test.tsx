// @vitest-environment happy-dom
import { cleanup, screen, waitFor, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { http, HttpResponse } from 'msw'
import { setupServer } from 'msw/node'
import { ResourceContextProvider } from 'react-admin'
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest'
import { renderConsole } from '../test-utils'
import type { Task } from '../types'
import { TaskList } from './TaskList'

// "Mes tâches": sorted by SLA urgency by the API, each with its badge and working time left, and
// a claim button. Only the API is mocked.

const DAY = 86_400_000
const iso = (offsetDays: number) => new Date(Date.now() + offsetDays * DAY).toISOString()
const task = (
  id: string,
  createdDays: number,
  dueDays: number,
  assigneeId: string | null,
): Task => ({
  id,
  caseId: id.replace(/-T\d+$/, ''),
  kind: 'investigation',
  status: assigneeId ? 'claimed' : 'open',
  candidateRole: 'case_worker',
  areaCode: 'ML-2-KATI-KATI',
  assigneeId,
  dueAt: iso(dueDays),
  createdAt: iso(createdDays),
  completedAt: null,
  completedBy: null,
  result: null,
  escalationLevel: null,
  caseReference: `PL-${id}`,
  caseStage: 'investigation',
  casePriority: 'normal',
  sensitive: false,
})
const ME = '00000000-0000-4000-8000-000000000001'
const rows = [
  task('LATE-T2', -20, -10, ME),
  task('SOON-T2', -40, 3, null),
  task('FAR-T2', 0, 60, ME),
]
let listQuery: URLSearchParams | undefined
const claims: string[] = []

const server = setupServer(
  http.get('*/api/tasks', ({ request }) => {
    listQuery = new URL(request.url).searchParams
    return HttpResponse.json(rows, { headers: { 'Content-Range': 'tasks 0-2/3' } })
  }),
  http.get('*/api/holidays', () =>
    HttpResponse.json([], { headers: { 'Content-Range': 'holidays */0' } }),
  ),
  http.post('*/api/tasks/:id/claim', ({ params }) => {
    claims.push(String(params.id))
    return HttpResponse.json({ task: { ...rows[1], assigneeId: ME }, result: null })
  }),
)
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }))
afterEach(() => {
  cleanup()
  claims.length = 0
})
afterAll(() => server.close())

const renderList = () =>
  renderConsole(
    <ResourceContextProvider value="tasks">
      <TaskList />
    </ResourceContextProvider>,
  )

const rowOf = async (id: string) =>
  (await screen.findAllByTestId('task-row')).find((r) => r.dataset.taskId === id)!.closest('tr')!

it('asks for my open tasks due soonest first, and shows each one’s SLA badge', async () => {
  renderList()
  await screen.findAllByTestId('task-row')
  expect(JSON.parse(listQuery!.get('sort')!)).toEqual(['dueAt', 'ASC'])
  expect(JSON.parse(listQuery!.get('filter')!)).toEqual({
    mine: true,
    status: ['open', 'claimed'],
  })
  const badge = async (id: string) => within(await rowOf(id)).getByTestId('sla-badge').dataset.state
  expect(await badge('LATE-T2')).toBe('breached')
  expect(await badge('SOON-T2')).toBe('at_risk')
  expect(await badge('FAR-T2')).toBe('on_track')
  expect((await rowOf('LATE-T2')).textContent).toContain('Délai dépassé')
  expect((await rowOf('LATE-T2')).textContent).toMatch(/en retard de .* ouvrées/)
  expect((await rowOf('FAR-T2')).textContent).toMatch(/ouvrées restantes/)
})

it('claims an open task, and offers to give back the ones I hold', async () => {
  renderList()
  expect(await within(await rowOf('FAR-T2')).findByTestId('task-unclaim')).toBeTruthy()
  await userEvent.click(within(await rowOf('SOON-T2')).getByTestId('task-claim'))
  await waitFor(() => expect(claims).toEqual(['SOON-T2']))
  expect(await screen.findByText('Tâche prise en charge')).toBeTruthy()
})
