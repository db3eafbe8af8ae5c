import EventIcon from '@mui/icons-material/Event'
import {
  BooleanField,
  BooleanInput,
  Create,
  Datagrid,
  DateInput,
  Edit,
  List,
  NumberInput,
  SimpleForm,
  TextField,
  TextInput,
  required,
} from 'react-admin'

const filters = [<NumberInput key="year" source="year" alwaysOn />]

function HolidayFields({ creating }: { creating?: boolean }) {
  return (
    <>
      {creating && <DateInput source="date" validate={required()} />}
      <TextInput source="nameFr" validate={required()} fullWidth />
      <TextInput source="nameEn" validate={required()} fullWidth />
      <BooleanInput source="lunar" />
    </>
  )
}

/** Mali's public holidays, set per year (the lunar ones move): SLA clocks skip them. */
export default {
  list: () => (
    <List
      exporter={false}
      sort={{ field: 'date', order: 'ASC' }}
      filters={filters}
      filterDefaultValues={{ year: new Date().getFullYear() }}
    >
      <Datagrid rowClick="edit" bulkActionButtons={false}>
        <TextField source="date" />
        <TextField source="nameFr" />
        <TextField source="nameEn" />
        <BooleanField source="lunar" />
      </Datagrid>
    </List>
  ),
  show: undefined,
  edit: () => (
    <Edit mutationMode="pessimistic">
      <SimpleForm>
        <HolidayFields />
      </SimpleForm>
    </Edit>
  ),
  create: () => (
    <Create>
      <SimpleForm defaultValues={{ lunar: false }}>
        <HolidayFields creating />
      </SimpleForm>
    </Create>
  ),
  icon: EventIcon,
  recordRepresentation: 'nameFr',
}
