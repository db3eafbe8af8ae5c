import CategoryIcon from '@mui/icons-material/Category'
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

function CategoryList() {
  return (
    <List exporter={false} sort={{ field: 'code', order: 'ASC' }}>
      <Datagrid rowClick="edit" bulkActionButtons={false}>
        <TextField source="code" />
        <TextField source="labelFr" />
        <TextField source="labelEn" />
        <TextField source="caseKind" />
        <BooleanField source="sensitive" />
        <BooleanField source="active" />
      </Datagrid>
    </List>
  )
}

function CategoryFields({ creating }: { creating?: boolean }) {
  return (
    <>
      {creating && <TextInput source="code" validate={required()} />}
      {creating && <SelectInput source="caseKind" choices={choices('rsu.case_kind')} />}
      <TextInput source="labelFr" validate={required()} fullWidth />
      <TextInput source="labelEn" validate={required()} fullWidth />
      <BooleanInput source="sensitive" />
      <BooleanInput source="active" />
    </>
  )
}

/** Case categories with their labels in both languages and their sensitivity. */
export default {
  list: CategoryList,
  show: undefined,
  edit: () => (
    <Edit mutationMode="pessimistic">
      <SimpleForm>
        <CategoryFields />
      </SimpleForm>
    </Edit>
  ),
  create: () => (
    <Create>
      <SimpleForm defaultValues={{ caseKind: 'grievance', active: true, sensitive: false }}>
        <CategoryFields creating />
      </SimpleForm>
    </Create>
  ),
  icon: CategoryIcon,
  recordRepresentation: 'labelFr',
}
