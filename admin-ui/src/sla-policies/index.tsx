import TimerIcon from '@mui/icons-material/Timer'
import {
  BooleanField,
  BooleanInput,
  Create,
  Datagrid,
  Edit,
  FunctionField,
  List,
  NumberField,
  NumberInput,
  SelectInput,
  SimpleForm,
  TextField,
  required,
  useTranslate,
} from 'react-admin'
import { choices, enumKey } from '../labels'

// Targets are stored in working seconds; people think of them in working hours.
const toHours = (seconds: number | null | undefined) =>
  seconds === null || seconds === undefined ? '' : seconds / 3600
const toSeconds = (hours: string | number | null) =>
  hours === null || hours === '' ? null : Math.round(Number(hours) * 3600)

function PolicyFields({ creating }: { creating?: boolean }) {
  return (
    <>
      {creating && (
        <SelectInput source="caseKind" choices={choices('rsu.case_kind')} validate={required()} />
      )}
      {creating && (
        <SelectInput source="category" choices={choices('rsu.category')} emptyValue={null} />
      )}
      {creating && (
        <SelectInput source="priority" choices={choices('rsu.priority')} emptyValue={null} />
      )}
      <NumberInput
        source="targets.acknowledge"
        format={toHours}
        parse={toSeconds}
        validate={required()}
      />
      <NumberInput
        source="targets.triage"
        format={toHours}
        parse={toSeconds}
        validate={required()}
      />
      <NumberInput
        source="targets.investigation"
        format={toHours}
        parse={toSeconds}
        validate={required()}
      />
      <NumberInput
        source="targets.approval"
        format={toHours}
        parse={toSeconds}
        validate={required()}
      />
      <NumberInput
        source="targets.resolve"
        format={toHours}
        parse={toSeconds}
        validate={required()}
      />
      <NumberInput
        source="targets.escalationRepeat"
        format={toHours}
        parse={toSeconds}
        validate={required()}
      />
      <NumberInput
        source="targets.appealWindow"
        format={toHours}
        parse={toSeconds}
        validate={required()}
      />
      <NumberInput source="atRiskRatio" min={0.05} max={0.95} step={0.05} />
      <BooleanInput source="active" />
    </>
  )
}

function PolicyList() {
  const translate = useTranslate()
  return (
    <List exporter={false} sort={{ field: 'id', order: 'ASC' }}>
      <Datagrid rowClick="edit" bulkActionButtons={false}>
        <TextField source="id" />
        <FunctionField
          source="caseKind"
          render={(p: { caseKind: string }) => translate(...enumKey('rsu.case_kind', p.caseKind))}
        />
        <TextField source="category" emptyText="rsu.common.any" />
        <TextField source="priority" emptyText="rsu.common.any" />
        <FunctionField
          source="targets.resolve"
          render={(p: { targets: { resolve?: number } }) => toHours(p.targets.resolve)}
        />
        <NumberField source="atRiskRatio" />
        <BooleanField source="active" />
      </Datagrid>
    </List>
  )
}

/** SLA targets per case kind × category × priority, in working hours; snapshotted by each case. */
export default {
  list: PolicyList,
  show: undefined,
  edit: () => (
    <Edit mutationMode="pessimistic">
      <SimpleForm>
        <PolicyFields />
      </SimpleForm>
    </Edit>
  ),
  create: () => (
    <Create>
      <SimpleForm
        defaultValues={{ atRiskRatio: 0.75, active: true, category: null, priority: null }}
      >
        <PolicyFields creating />
      </SimpleForm>
    </Create>
  ),
  icon: TimerIcon,
  recordRepresentation: (p: { id: number; caseKind: string }) => `#${p.id} ${p.caseKind}`,
}
