// @vitest-environment happy-dom
import { cleanup, screen, waitFor } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { http, HttpResponse } from 'msw'
import { setupServer } from 'msw/node'
import { ResourceContextProvider } from 'react-admin'
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest'
import { renderConsole } from '../test-utils'
import CaseCreate from './CaseCreate'

// Intake by the hotline or in person: the agent registers a grievance in a commune, and reads
// back the reference and the PIN shown once. Only the API is mocked.

const intakes: Record<string, unknown>[] = []
const server = setupServer(
  http.get('*/api/areas', () =>
    HttpResponse.json(
      [
        {
          id: 'ML-2-KATI-KATI',
          code: 'ML-2-KATI-KATI',
          name: 'Kati',
          level: 'commune',
          parentCode: 'ML-2-KATI',
        },
      ],
      { headers: { 'Content-Range': 'areas 0-0/1' } },
    ),
  ),
  http.post('*/api/cases', async ({ request }) => {
    intakes.push((await request.json()) as Record<string, unknown>)
    return HttpResponse.json(
      { id: 'G-2026-NEW', caseId: 'G-2026-NEW', reference: 'PL-2026-K38AY3', pin: '274101' },
      { status: 201 },
    )
  }),
)
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }))
afterEach(() => {
  cleanup()
  intakes.length = 0
})
afterAll(() => server.close())

const renderIntake = () =>
  renderConsole(
    <ResourceContextProvider value="cases">
      <CaseCreate />
    </ResourceContextProvider>,
  )

async function fillCommuneAndNarrative(narrative: string) {
  await userEvent.type(await screen.findByRole('combobox', { name: /Commune/ }), 'Kati')
  await userEvent.click(await screen.findByRole('option', { name: 'Kati' }))
  await userEvent.type(screen.getByRole('textbox', { name: /Récit du plaignant/ }), narrative)
}

it('registers an anonymous hotline grievance and shows the reference and the PIN once', async () => {
  renderIntake()
  await fillCommuneAndNarrative("Je n'ai pas reçu le paiement de septembre.")
  await userEvent.click(screen.getByRole('switch', { name: 'Plaignant anonyme' }))
  expect(screen.queryByRole('textbox', { name: 'Courriel du plaignant' })).toBeNull()
  await userEvent.click(screen.getByTestId('intake-submit'))
  await waitFor(() => expect(intakes).toHaveLength(1))
  expect(intakes[0]).toEqual({
    channel: 'hotline',
    communeCode: 'ML-2-KATI-KATI',
    narrative: "Je n'ai pas reçu le paiement de septembre.",
    anonymous: true,
    locale: 'fr',
  })
  const receipt = await screen.findByTestId('intake-receipt')
  expect(receipt.textContent).toContain('PL-2026-K38AY3')
  expect(screen.getByTestId('intake-pin').textContent).toBe('274101')
})

it('sends the contact given for an in-person complainant, and refuses a short account', async () => {
  renderIntake()
  await userEvent.click(await screen.findByRole('combobox', { name: /Canal/ }))
  await userEvent.click(await screen.findByRole('option', { name: 'En personne' }))
  await fillCommuneAndNarrative('Perdue')
  await userEvent.type(
    screen.getByRole('textbox', { name: 'Téléphone du plaignant' }),
    '+223 70 00 00 00',
  )
  await userEvent.click(screen.getByTestId('intake-submit'))
  expect(await screen.findByText('Minimum 10 caractères')).toBeTruthy()
  expect(intakes).toHaveLength(0)
  await userEvent.type(
    screen.getByRole('textbox', { name: /Récit du plaignant/ }),
    ' : ma carte a été perdue.',
  )
  await userEvent.click(screen.getByTestId('intake-submit'))
  await waitFor(() => expect(intakes).toHaveLength(1))
  expect(intakes[0]).toMatchObject({
    channel: 'in_person',
    contact: { phone: '+223 70 00 00 00' },
    anonymous: false,
  })
})
