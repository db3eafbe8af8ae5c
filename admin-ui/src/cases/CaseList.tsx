import {
  Datagrid,
  FunctionField,
  List,
  SelectArrayInput,
  TextField,
  TextInput,
  useTranslate,
} from 'react-admin'
import { LocalDate } from '../components/dates'
import { SlaBadge } from '../components/sla'
import { choices, enumKey } from '../labels'
import type { Case } from '../types'

const filters = [
  <TextInput key="q" source="q" label="rsu.cases.search" alwaysOn />,
  <SelectArrayInput
    key="status"
    source="status"
    label="resources.cases.fields.status"
    choices={choices('rsu.case_status')}
  />,
  <SelectArrayInput
    key="kind"
    source="kind"
    label="resources.cases.fields.kind"
    choices={choices('rsu.case_kind')}
  />,
  <SelectArrayInput
    key="slaState"
    source="slaState"
    label="resources.cases.fields.slaState"
    choices={choices('rsu.sla.state')}
  />,
  <SelectArrayInput
    key="category"
    source="category"
    label="resources.cases.fields.category"
    choices={choices('rsu.category')}
  />,
  <SelectArrayInput
    key="priority"
    source="priority"
    label="resources.cases.fields.priority"
    choices={choices('rsu.priority')}
  />,
  <TextInput key="areaCode" source="areaCode" label="resources.cases.fields.areaCode" />,
]

/**
 * The cases the user may see; the dashboard's charts and the supervisor's menu open it filtered
 * (breached, escalated, a region, a category).
 */
export function CaseList() {
  const translate = useTranslate()
  return (
    <List
      exporter={false}
      title="rsu.cases.title"
      sort={{ field: 'openedAt', order: 'DESC' }}
      filters={filters}
    >
      <Datagrid rowClick="show" bulkActionButtons={false}>
        <FunctionField
          source="id"
          render={(c: Case) => (
            <span data-testid="case-row" data-case-id={c.id}>
              {c.reference ?? c.id}
            </span>
          )}
        />
        <FunctionField
          source="kind"
          render={(c: Case) => translate(...enumKey('rsu.case_kind', c.kind))}
        />
        <FunctionField
          source="stage"
          render={(c: Case) => translate(...enumKey('rsu.stage', c.stage))}
        />
        <FunctionField
          source="category"
          render={(c: Case) =>
            c.category ? translate(...enumKey('rsu.category', c.category)) : '—'
          }
        />
        <FunctionField
          source="priority"
          render={(c: Case) => translate(...enumKey('rsu.priority', c.priority))}
        />
        <TextField source="areaCode" />
        <FunctionField source="slaState" render={(c: Case) => <SlaBadge state={c.slaState} />} />
        <TextField source="escalationLevel" />
        <LocalDate source="resolveDueAt" showTime />
        <LocalDate source="openedAt" />
      </Datagrid>
    </List>
  )
}
