import HandshakeIcon from '@mui/icons-material/Handshake'
import {
  BooleanField,
  BooleanInput,
  Create,
  Datagrid,
  Edit,
  List,
  SelectInput,
  SimpleForm,
  TextField,
  TextInput,
  required,
} from 'react-admin'
import { choices } from '../labels'

function PartnerFields({ creating }: { creating?: boolean }) {
  return (
    <>
      {creating && <TextInput source="code" validate={required()} />}
      <TextInput source="name" validate={required()} fullWidth />
      <SelectInput source="kind" choices={choices('rsu.partner_kind')} validate={required()} />
      <TextInput source="contactEmail" type="email" />
      <BooleanInput source="active" />
    </>
  )
}

/** Partner organisations that receive referrals, and the services they offer by area. */
export default {
  list: () => (
    <List exporter={false} sort={{ field: 'code', order: 'ASC' }}>
      <Datagrid rowClick="edit" bulkActionButtons={false}>
        <TextField source="code" />
        <TextField source="name" />
        <TextField source="kind" />
        <TextField source="contactEmail" />
        <BooleanField source="active" />
      </Datagrid>
    </List>
  ),
  show: undefined,
  edit: () => (
    <Edit mutationMode="pessimistic">
      <SimpleForm>
        <PartnerFields />
      </SimpleForm>
    </Edit>
  ),
  create: () => (
    <Create>
      <SimpleForm defaultValues={{ active: true, services: [] }}>
        <PartnerFields creating />
      </SimpleForm>
    </Create>
  ),
  icon: HandshakeIcon,
  recordRepresentation: 'name',
}
