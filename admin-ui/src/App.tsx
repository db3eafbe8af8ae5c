import { lazy } from 'react'
import { Route } from 'react-router-dom'
import { Admin, CustomRoutes, Resource } from 'react-admin'
import { authProvider } from './authProvider'
import { dataProvider } from './dataProvider'
import { createI18nProvider } from './i18n'
import { RsuLayout } from './layout/Layout'
import { SignInPage } from './layout/SignInPage'
import { Home } from './layout/Home'
import { Lazy } from './components/Lazy'
import { holds } from './roles'
import tasks from './tasks'
import cases from './cases'
import referrals from './referrals'
import users from './users'
import areas from './areas'
import categories from './categories'
import slaPolicies from './sla-policies'
import holidays from './holidays'
import partners from './partners'
import services from './services'

const ApprovalsPage = lazy(() => import('./approvals/ApprovalsPage'))
const WorkloadPage = lazy(() => import('./workload/WorkloadPage'))
const Dashboard = lazy(() => import('./dashboard/Dashboard'))

const i18nProvider = createI18nProvider()

/**
 * The console: one resource per folder, shown according to the roles the user holds. A case
 * worker gets their tasks and cases, a supervisor the approvals, breaches and workload too, a
 * programme manager the dashboard, an administrator the reference data, a partner its referrals.
 */
export function App() {
  return (
    <Admin
      title="RSU Casework"
      dataProvider={dataProvider}
      authProvider={authProvider}
      i18nProvider={i18nProvider}
      loginPage={SignInPage}
      layout={RsuLayout}
      dashboard={Home}
      requireAuth
      disableTelemetry
    >
      {(permissions: unknown) => (
        <>
          {holds(permissions, 'case_worker', 'supervisor') && <Resource name="tasks" {...tasks} />}
          {holds(permissions, 'case_worker', 'supervisor', 'programme_manager') && (
            <Resource name="cases" {...cases} />
          )}
          {holds(permissions, 'partner', 'supervisor') && (
            <Resource name="referrals" {...referrals} />
          )}
          {holds(permissions, 'administrator', 'supervisor') && (
            <Resource name="users" {...users} />
          )}
          {holds(permissions, 'administrator') && (
            <>
              <Resource name="areas" {...areas} />
              <Resource name="categories" {...categories} />
              <Resource name="sla-policies" {...slaPolicies} />
              <Resource name="holidays" {...holidays} />
              <Resource name="partners" {...partners} />
              <Resource name="services" {...services} />
            </>
          )}
          <CustomRoutes>
            {holds(permissions, 'supervisor') && (
              <Route path="/approvals" element={<Lazy component={ApprovalsPage} />} />
            )}
            {holds(permissions, 'supervisor') && (
              <Route path="/workload" element={<Lazy component={WorkloadPage} />} />
            )}
            {holds(permissions, 'programme_manager', 'supervisor') && (
              <Route path="/dashboard" element={<Lazy component={Dashboard} />} />
            )}
          </CustomRoutes>
        </>
      )}
    </Admin>
  )
}
