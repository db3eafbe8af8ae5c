import {
  BooleanInput,
  Datagrid,
  FunctionField,
  List,
  SelectArrayInput,
  TextField,
  useTranslate,
} from 'react-admin'
import { LocalDate } from '../components/dates'
import { SlaBadge, taskSla, useBusinessCalendar, useFormatWorkingTime } from '../components/sla'
import { choices, enumKey } from '../labels'
import type { Task } from '../types'
import { ClaimButton } from './ClaimButton'

const filters = [
  <BooleanInput key="mine" source="mine" label="rsu.tasks.filter_mine" alwaysOn />,
  <BooleanInput key="team" source="team" label="rsu.tasks.filter_team" alwaysOn />,
  <SelectArrayInput
    key="status"
    source="status"
    label="resources.tasks.fields.status"
    choices={choices('rsu.task_status')}
  />,
  <SelectArrayInput
    key="kind"
    source="kind"
    label="resources.tasks.fields.kind"
    choices={choices('rsu.task_kind')}
  />,
]

/**
 * "Mes tâches": the tasks of the cases I may see, the most urgent (due soonest in working time)
 * first, each with its SLA badge and the working time left, and a claim button.
 */
export function TaskList() {
  const translate = useTranslate()
  const calendar = useBusinessCalendar()
  const format = useFormatWorkingTime()
  const now = new Date()
  return (
    <List
      exporter={false}
      title="rsu.tasks.title"
      sort={{ field: 'dueAt', order: 'ASC' }}
      filters={filters}
      filterDefaultValues={{ mine: true, status: ['open', 'claimed'] }}
      perPage={25}
    >
      <Datagrid rowClick="show" bulkActionButtons={false}>
        <FunctionField
          source="caseReference"
          render={(t: Task) => (
            <span data-testid="task-row" data-task-id={t.id} data-task-kind={t.kind}>
              {t.caseReference ?? t.caseId}
            </span>
          )}
        />
        <FunctionField
          source="kind"
          render={(t: Task) => translate(...enumKey('rsu.task_kind', t.kind))}
        />
        <FunctionField
          source="status"
          render={(t: Task) => translate(...enumKey('rsu.task_status', t.status))}
        />
        <FunctionField
          source="casePriority"
          sortable={false}
          render={(t: Task) => translate(...enumKey('rsu.priority', t.casePriority))}
        />
        <LocalDate source="dueAt" showTime />
        <FunctionField
          label="resources.tasks.fields.sla"
          render={(t: Task) => <SlaBadge state={taskSla(t, now, calendar).state} />}
        />
        <FunctionField
          label="resources.tasks.fields.timeLeft"
          render={(t: Task) => {
            const { leftMs, state } = taskSla(t, now, calendar)
            return leftMs === null ? '—' : format(leftMs, state === 'breached')
          }}
        />
        <TextField source="areaCode" sortable={false} />
        <ClaimButton />
      </Datagrid>
    </List>
  )
}
