import AssignmentIcon from '@mui/icons-material/Assignment'
import { lazyPage } from '../components/Lazy'
import type { Task } from '../types'
import { TaskList } from './TaskList'

/** Human tasks: "Mes tâches", the team's, and each task's form (loaded when opened). */
export default {
  list: TaskList,
  show: lazyPage(() => import('./TaskShow')),
  edit: undefined,
  icon: AssignmentIcon,
  recordRepresentation: (t: Task) => `${t.caseReference ?? t.caseId} · ${t.kind}`,
}
