import { render } from '@testing-library/react'
import type { ReactNode } from 'react'
import { AdminContext, Notification, type AuthProvider } from 'react-admin'
import { csrf } from './api'
import { dataProvider } from './dataProvider'
import { createI18nProvider } from './i18n'

/** The CSRF token component tests "received at sign-in": every write must carry it. */
export const TEST_CSRF = 'csrf-token-of-the-test-session'

const signedIn = (roles: string[]): AuthProvider => ({
  login: async () => {},
  logout: async () => {},
  checkAuth: async () => {},
  checkError: async () => {},
  getIdentity: async () => ({ id: '00000000-0000-4000-8000-000000000001', fullName: 'Awa Traoré' }),
  getPermissions: async () => roles,
})

/**
 * Renders console components as the app does: the real data provider (over fetch, which msw
 * intercepts), the French catalogue, notifications, a user holding `roles`.
 */
export function renderConsole(ui: ReactNode, roles: string[] = ['case_worker']) {
  csrf.set(TEST_CSRF)
  return render(
    <AdminContext
      dataProvider={dataProvider}
      authProvider={signedIn(roles)}
      i18nProvider={createI18nProvider('fr')}
    >
      {ui}
      <Notification />
    </AdminContext>,
  )
}
