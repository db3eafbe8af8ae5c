import AssignmentIcon from '@mui/icons-material/Assignment'
import BarChartIcon from '@mui/icons-material/BarChart'
import FolderIcon from '@mui/icons-material/Folder'
import GavelIcon from '@mui/icons-material/Gavel'
import GroupsIcon from '@mui/icons-material/Groups'
import NewReleasesIcon from '@mui/icons-material/NewReleases'
import PhoneIcon from '@mui/icons-material/Phone'
import TrendingUpIcon from '@mui/icons-material/TrendingUp'
import { Menu, usePermissions } from 'react-admin'
import { holds } from '../roles'
import areas from '../areas'
import categories from '../categories'
import holidays from '../holidays'
import partners from '../partners'
import referrals from '../referrals'
import services from '../services'
import slaPolicies from '../sla-policies'
import users from '../users'

const filterQuery = (filter: Record<string, unknown>, sort?: [string, 'ASC' | 'DESC']) =>
  `?${new URLSearchParams({
    filter: JSON.stringify(filter),
    ...(sort ? { sort: sort[0], order: sort[1] } : {}),
  }).toString()}`

/**
 * The menu follows the roles the user holds: each entry has a stable `data-testid`
 * (`menu-<name>`) for the browser tests.
 */
export function RsuMenu() {
  const { permissions } = usePermissions()
  const worker = holds(permissions, 'case_worker', 'supervisor')
  const supervisor = holds(permissions, 'supervisor')
  const manager = holds(permissions, 'programme_manager', 'supervisor')
  const admin = holds(permissions, 'administrator')
  return (
    <Menu>
      {manager && (
        <Menu.Item
          to="/dashboard"
          primaryText="rsu.menu.dashboard"
          leftIcon={<BarChartIcon />}
          data-testid="menu-dashboard"
        />
      )}
      {worker && (
        <Menu.Item
          to={`/tasks${filterQuery({ mine: true, status: ['open', 'claimed'] })}`}
          primaryText="rsu.menu.my_tasks"
          leftIcon={<AssignmentIcon />}
          data-testid="menu-my-tasks"
        />
      )}
      {worker && (
        <Menu.Item
          to={`/tasks${filterQuery({ team: true, status: ['open', 'claimed'] })}`}
          primaryText="rsu.menu.team_tasks"
          leftIcon={<GroupsIcon />}
          data-testid="menu-team-tasks"
        />
      )}
      {holds(permissions, 'case_worker', 'supervisor', 'programme_manager') && (
        <Menu.Item
          to="/cases"
          primaryText="rsu.menu.cases"
          leftIcon={<FolderIcon />}
          data-testid="menu-cases"
        />
      )}
      {worker && (
        <Menu.Item
          to="/cases/create"
          primaryText="rsu.menu.intake"
          leftIcon={<PhoneIcon />}
          data-testid="menu-intake"
        />
      )}
      {supervisor && (
        <Menu.Item
          to="/approvals"
          primaryText="rsu.menu.approvals"
          leftIcon={<GavelIcon />}
          data-testid="menu-approvals"
        />
      )}
      {supervisor && (
        <Menu.Item
          to={`/cases${filterQuery({ status: 'open', slaState: 'breached' }, ['escalationLevel', 'DESC'])}`}
          primaryText="rsu.menu.breached"
          leftIcon={<NewReleasesIcon />}
          data-testid="menu-breached"
        />
      )}
      {supervisor && (
        <Menu.Item
          to={`/cases${filterQuery({ status: 'open' }, ['escalationLevel', 'DESC'])}`}
          primaryText="rsu.menu.escalated"
          leftIcon={<TrendingUpIcon />}
          data-testid="menu-escalated"
        />
      )}
      {supervisor && (
        <Menu.Item
          to="/workload"
          primaryText="rsu.menu.workload"
          leftIcon={<GroupsIcon />}
          data-testid="menu-workload"
        />
      )}
      {holds(permissions, 'partner', 'supervisor') && (
        <Menu.Item
          to="/referrals"
          primaryText="rsu.menu.referrals"
          leftIcon={<referrals.icon />}
          data-testid="menu-referrals"
        />
      )}
      {holds(permissions, 'administrator', 'supervisor') && (
        <Menu.Item
          to="/users"
          primaryText="rsu.menu.users"
          leftIcon={<users.icon />}
          data-testid="menu-users"
        />
      )}
      {admin &&
        (
          [
            ['areas', areas.icon, 'rsu.menu.areas'],
            ['categories', categories.icon, 'rsu.menu.categories'],
            ['sla-policies', slaPolicies.icon, 'rsu.menu.sla_policies'],
            ['holidays', holidays.icon, 'rsu.menu.holidays'],
            ['partners', partners.icon, 'rsu.menu.partners'],
            ['services', services.icon, 'rsu.menu.services'],
          ] as const
        ).map(([name, Icon, label]) => (
          <Menu.Item
            key={name}
            to={`/${name}`}
            primaryText={label}
            leftIcon={<Icon />}
            data-testid={`menu-${name}`}
          />
        ))}
    </Menu>
  )
}
