import { lazy } from 'react'
import { Navigate } from 'react-router-dom'
import { Loading, usePermissions } from 'react-admin'
import { Lazy } from '../components/Lazy'
import { holds } from '../roles'

const Dashboard = lazy(() => import('../dashboard/Dashboard'))

/** The first page after sign-in: what the user's main role works on. */
export function Home() {
  const { permissions, isPending } = usePermissions()
  if (isPending) return <Loading />
  if (holds(permissions, 'programme_manager')) return <Lazy component={Dashboard} />
  if (holds(permissions, 'case_worker', 'supervisor')) {
    const filter = encodeURIComponent(JSON.stringify({ mine: true, status: ['open', 'claimed'] }))
    return <Navigate to={`/tasks?filter=${filter}`} replace />
  }
  if (holds(permissions, 'partner')) return <Navigate to="/referrals" replace />
  if (holds(permissions, 'administrator')) return <Navigate to="/users" replace />
  return <Navigate to="/login" replace />
}
