// @vitest-environment happy-dom
import { cleanup, screen, waitFor } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { http, HttpResponse } from 'msw'
import { setupServer } from 'msw/node'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { taskForms } from '../../../workflows/forms'
import { renderConsole, TEST_CSRF } from '../test-utils'
import { TaskForm } from './TaskForm'

// Each task form validates with the workflow's own schema and submits what the workflow expects;
// the API is the only thing mocked (msw), the form, data provider and catalogue are the real ones.

type Completion = { taskId: string; body: { data: Record<string, unknown> }; csrf: string | null }
const completions: Completion[] = []
let refusal: { status: number; code: string } | null = null

const server = setupServer(
  http.post('*/api/tasks/:id/complete', async ({ request, params }) => {
    const body = (await request.json()) as Completion['body']
    completions.push({
      taskId: String(params.id),
      body,
      csrf: request.headers.get('x-csrf-token'),
    })
    if (refusal) {
      return HttpResponse.json(
        { error: { code: refusal.code, message: 'refused' } },
        { status: refusal.status },
      )
    }
    return HttpResponse.json({ task: { id: params.id, status: 'completed' }, result: null })
  }),
)

beforeAll(() => server.listen({ onUnhandledRequest: 'error' }))
afterEach(() => {
  cleanup()
  completions.length = 0
  refusal = null
})
afterAll(() => server.close())

const user = () => userEvent.setup()

async function choose(label: string, option: string) {
  await user().click(await screen.findByRole('combobox', { name: label }))
  await user().click(await screen.findByRole('option', { name: option }))
}

const submit = async () =>
  user().click(await screen.findByRole('button', { name: 'Terminer la tâche' }))

/** The one completion sent, once it arrives. */
async function sent(): Promise<Completion> {
  await waitFor(() => expect(completions).toHaveLength(1))
  return completions[0]!
}

describe('the triage form', () => {
  it('submits the category, priority and sensitivity the workflow expects', async () => {
    const done = vi.fn()
    renderConsole(<TaskForm task={{ id: 'G-1a2b3c4d-T1', kind: 'triage' }} onDone={done} />)
    await choose('Catégorie', 'Paiement non reçu')
    await choose('Priorité', 'Haute')
    await user().click(screen.getByRole('switch', { name: /Cas sensible/ }))
    await submit()
    const completion = await sent()
    expect(completion.taskId).toBe('G-1a2b3c4d-T1')
    expect(completion.body.data).toEqual({
      category: 'payment_not_received',
      priority: 'high',
      sensitive: true,
    })
    expect(taskForms.triage.safeParse(completion.body.data).success).toBe(true)
    expect(completion.csrf).toBe(TEST_CSRF)
    await waitFor(() => expect(done).toHaveBeenCalled())
    expect(await screen.findByText('Tâche terminée')).toBeTruthy()
  })

  it('refuses to send a triage without a category', async () => {
    renderConsole(<TaskForm task={{ id: 'G-1a2b3c4d-T1', kind: 'triage' }} />)
    await submit()
    expect(await screen.findByText('Ce champ est requis')).toBeTruthy()
    expect(completions).toHaveLength(0)
  })
})

describe('the investigation form', () => {
  it('submits the findings and the proposed resolution', async () => {
    renderConsole(<TaskForm task={{ id: 'G-1a2b3c4d-T2', kind: 'investigation' }} />)
    await user().type(
      screen.getByRole('textbox', { name: "Constats de l'enquête" }),
      'Le ménage figure bien sur la liste de paiement de mars.',
    )
    await choose('Résolution proposée', 'Fondée')
    await user().type(screen.getByRole('textbox', { name: /Ménage concerné/ }), 'HH-KATI-0042')
    await user().click(screen.getByRole('switch', { name: /Change l'éligibilité/ }))
    await submit()
    expect((await sent()).body.data).toEqual({
      findings: 'Le ménage figure bien sur la liste de paiement de mars.',
      proposedResolution: 'upheld',
      householdId: 'HH-KATI-0042',
      changesEligibilityOrPayment: true,
    })
  })

  it('refuses findings shorter than the workflow accepts', async () => {
    renderConsole(<TaskForm task={{ id: 'G-1a2b3c4d-T2', kind: 'investigation' }} />)
    await user().type(screen.getByRole('textbox', { name: "Constats de l'enquête" }), 'Vu.')
    await choose('Résolution proposée', 'Fondée')
    await submit()
    expect(await screen.findByText('Minimum 10 caractères')).toBeTruthy()
    expect(completions).toHaveLength(0)
  })
})

describe('the approval form', () => {
  it('approves without a reason', async () => {
    renderConsole(<TaskForm task={{ id: 'G-1a2b3c4d-T3', kind: 'approval' }} />)
    await user().click(screen.getByRole('radio', { name: 'Approuver' }))
    await submit()
    expect((await sent()).body.data).toEqual({ decision: 'approve' })
  })

  it('needs a reason to reject, then sends it', async () => {
    renderConsole(<TaskForm task={{ id: 'G-1a2b3c4d-T3', kind: 'approval' }} />)
    await user().click(screen.getByRole('radio', { name: 'Rejeter (renvoyer)' }))
    await submit()
    expect(await screen.findByText('Ce champ est requis')).toBeTruthy()
    expect(completions).toHaveLength(0)
    await user().type(
      screen.getByRole('textbox', { name: /Motif/ }),
      'Pièces justificatives manquantes',
    )
    await submit()
    expect((await sent()).body.data).toEqual({
      decision: 'reject',
      reason: 'Pièces justificatives manquantes',
    })
  })

  it("shows the workflow's refusal in French (four eyes)", async () => {
    refusal = { status: 409, code: 'FOUR_EYES' }
    const done = vi.fn()
    renderConsole(<TaskForm task={{ id: 'G-1a2b3c4d-T3', kind: 'approval' }} onDone={done} />)
    await user().click(screen.getByRole('radio', { name: 'Approuver' }))
    await submit()
    expect(await screen.findByText(/quatre yeux/)).toBeTruthy()
    expect(done).not.toHaveBeenCalled()
  })
})

describe('the escalation form', () => {
  it('submits the action taken, and the note only when one is written', async () => {
    renderConsole(<TaskForm task={{ id: 'G-1a2b3c4d-T4', kind: 'escalation' }} />)
    await choose('Suite donnée', 'Réattribué')
    await submit()
    expect((await sent()).body.data).toEqual({ action: 'reassigned' })
  })
})

it('says so for a task kind without a form, and sends nothing', async () => {
  renderConsole(<TaskForm task={{ id: 'R-1-T1', kind: 'home_visit' }} />)
  expect(await screen.findByText(/pas de formulaire/)).toBeTruthy()
  expect(screen.queryByRole('button', { name: 'Terminer la tâche' })).toBeNull()
})
