// @vitest-environment happy-dom
import { cleanup, render, screen, waitFor } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { http, HttpResponse } from 'msw'
import { setupServer } from 'msw/node'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { App } from './App'
import { csrf } from './api'

// Sign-in as the browser does it (password, then the authenticator code where the role needs
// one), and a menu that follows the roles the user holds. Only the API is mocked (msw).

type Role = 'case_worker' | 'supervisor' | 'programme_manager' | 'administrator' | 'partner'
let roles: Role[] = []
let session: 'none' | 'pending' | 'open' = 'none'
const writes: { path: string; csrf: string | null }[] = []
const user = () => ({
  id: '00000000-0000-4000-8000-000000000002',
  username: 'demo',
  displayName: 'Moussa Diarra',
  locale: 'fr',
  clearance: false,
  roles: roles.map((role) => ({ role, areaCode: 'ML-2-KATI' })),
})
const needsCode = () => roles.some((r) => r !== 'case_worker' && r !== 'partner')
const empty = (resource: string) => () =>
  HttpResponse.json([], { headers: { 'Content-Range': `${resource} */0` } })

const server = setupServer(
  http.post('*/api/auth/sign-in', async ({ request }) => {
    const body = (await request.json()) as { password: string }
    if (body.password !== 'Demo-RSU-2026') {
      return HttpResponse.json(
        { error: { code: 'INVALID_CREDENTIALS', message: 'no' } },
        { status: 401 },
      )
    }
    session = needsCode() ? 'pending' : 'open'
    return HttpResponse.json({
      user: user(),
      csrfToken: 'token-from-sign-in',
      totp: needsCode() ? 'required' : 'not_required',
    })
  }),
  http.post('*/api/auth/totp', async ({ request }) => {
    writes.push({ path: 'totp', csrf: request.headers.get('x-csrf-token') })
    const { code } = (await request.json()) as { code: string }
    if (code !== '123456') {
      return HttpResponse.json(
        { error: { code: 'TOTP_CODE_INVALID', message: 'no' } },
        { status: 401 },
      )
    }
    session = 'open'
    // The server rotates the session once the code is accepted: a new CSRF token.
    return HttpResponse.json({ totp: 'passed', user: user(), csrfToken: 'token-after-code' })
  }),
  http.get('*/api/auth/me', () =>
    session === 'open'
      ? HttpResponse.json({ ...user(), via: 'session' })
      : HttpResponse.json({ error: { code: 'UNAUTHENTICATED', message: 'no' } }, { status: 401 }),
  ),
  http.get('*/api/tasks', empty('tasks')),
  http.get('*/api/holidays', empty('holidays')),
  http.get('*/api/users', empty('users')),
  http.get('*/api/reports/export-permission', () => HttpResponse.json({ canExport: false })),
  http.get('*/api/reports/cases', () => HttpResponse.json({ groupBy: 'x', minCell: 3, rows: [] })),
)
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }))
afterEach(() => {
  cleanup()
  csrf.clear()
  session = 'none'
  writes.length = 0
  window.location.hash = ''
})
afterAll(() => server.close())

async function signIn(password = 'Demo-RSU-2026') {
  render(<App />)
  await userEvent.type(await screen.findByTestId('sign-in-username'), 'demo')
  await userEvent.type(screen.getByTestId('sign-in-password'), password)
  await userEvent.click(screen.getByTestId('sign-in-submit'))
}

const menu = async () => {
  await screen.findByTestId('menu-cases', {}, { timeout: 5000 })
  return [...document.querySelectorAll('[data-testid^="menu-"]')].map((e) =>
    e.getAttribute('data-testid'),
  )
}

describe('signing in', () => {
  it('opens a case worker’s console on their tasks, in French, with no code asked', async () => {
    roles = ['case_worker']
    await signIn()
    expect(await menu()).toEqual(['menu-my-tasks', 'menu-team-tasks', 'menu-cases', 'menu-intake'])
    expect(screen.getAllByText('Mes tâches').length).toBeGreaterThan(0)
    expect(screen.queryByTestId('menu-approvals')).toBeNull()
  })

  it('asks a supervisor for the authenticator code, then shows the supervisor’s menu', async () => {
    roles = ['supervisor']
    await signIn()
    const code = await screen.findByTestId('sign-in-code')
    expect(screen.queryByTestId('menu-cases')).toBeNull()
    await userEvent.type(code, '000000')
    await userEvent.click(screen.getByTestId('sign-in-code-submit'))
    expect(await screen.findByText('Code incorrect ou expiré.')).toBeTruthy()
    await userEvent.clear(code)
    await userEvent.type(code, '123456')
    await userEvent.click(screen.getByTestId('sign-in-code-submit'))
    expect(await menu()).toEqual([
      'menu-dashboard',
      'menu-my-tasks',
      'menu-team-tasks',
      'menu-cases',
      'menu-intake',
      'menu-approvals',
      'menu-breached',
      'menu-escalated',
      'menu-workload',
      'menu-referrals',
      'menu-users',
    ])
    // The code was sent with the CSRF token received at sign-in; later writes carry the new one.
    expect(writes.every((w) => w.csrf === 'token-from-sign-in')).toBe(true)
    expect(csrf.get()).toBe('token-after-code')
  })

  it('refuses a wrong password with a French message and stays on the sign-in page', async () => {
    roles = ['case_worker']
    await signIn('wrong')
    expect(await screen.findByText('Identifiant ou mot de passe incorrect.')).toBeTruthy()
    await waitFor(() => expect(screen.getByTestId('sign-in-submit')).toBeTruthy())
    expect(screen.queryByTestId('menu-cases')).toBeNull()
  })
})
