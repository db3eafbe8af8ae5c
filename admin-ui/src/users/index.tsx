import PeopleIcon from '@mui/icons-material/People'
import {
  ArrayInput,
  BooleanField,
  BooleanInput,
  Create,
  Datagrid,
  Edit,
  List,
  PasswordInput,
  SelectInput,
  SimpleForm,
  SimpleFormIterator,
  TextField,
  TextInput,
  required,
  FunctionField,
  usePermissions,
  useTranslate,
} from 'react-admin'
import { Chip, Stack } from '@mui/material'
import { choices, enumKey } from '../labels'
import { holds } from '../roles'

const filters = [<TextInput key="q" source="q" label="rsu.common.search" alwaysOn />]

function UserList() {
  const { permissions } = usePermissions()
  const admin = holds(permissions, 'administrator')
  const translate = useTranslate()
  return (
    <List
      exporter={false}
      sort={{ field: admin ? 'username' : 'displayName', order: 'ASC' }}
      filters={filters}
    >
      <Datagrid rowClick={admin ? 'edit' : false} bulkActionButtons={false}>
        {admin && <TextField source="username" />}
        <TextField source="displayName" />
        <FunctionField
          source="roles"
          sortable={false}
          render={(u: { roles: { role: string; areaCode: string }[] }) => (
            <Stack direction="row" sx={{ flexWrap: 'wrap', gap: 0.5 }}>
              {u.roles.map((r) => (
                <Chip
                  key={`${r.role}@${r.areaCode}`}
                  size="small"
                  label={`${translate(...enumKey('rsu.role', r.role))} · ${r.areaCode}`}
                />
              ))}
            </Stack>
          )}
        />
        <BooleanField source="onLeave" />
        {admin && <BooleanField source="sensitiveClearance" />}
        {admin && <BooleanField source="active" />}
      </Datagrid>
    </List>
  )
}

function UserFields({ creating }: { creating?: boolean }) {
  return (
    <>
      {creating && <TextInput source="username" validate={required()} />}
      <TextInput source="displayName" validate={required()} />
      <TextInput source="email" type="email" />
      <SelectInput
        source="locale"
        choices={[
          { id: 'fr', name: 'rsu.intake.locale_fr' },
          { id: 'en', name: 'rsu.intake.locale_en' },
        ]}
      />
      <BooleanInput source="sensitiveClearance" />
      <BooleanInput source="onLeave" />
      <BooleanInput source="active" />
      <ArrayInput source="roles">
        <SimpleFormIterator inline>
          <SelectInput source="role" label="rsu.users.role" choices={choices('rsu.role')} />
          <TextInput source="areaCode" label="rsu.users.area_code" />
        </SimpleFormIterator>
      </ArrayInput>
      <PasswordInput source="password" validate={creating ? required() : undefined} />
    </>
  )
}

function UserEdit() {
  return (
    <Edit mutationMode="pessimistic">
      <SimpleForm>
        <UserFields />
      </SimpleForm>
    </Edit>
  )
}

function UserCreate() {
  return (
    <Create>
      <SimpleForm defaultValues={{ locale: 'fr', active: true, roles: [] }}>
        <UserFields creating />
      </SimpleForm>
    </Create>
  )
}

/** Users, their roles in areas, clearance and leave (administrators; supervisors read). */
export default {
  list: UserList,
  show: undefined,
  edit: UserEdit,
  create: UserCreate,
  icon: PeopleIcon,
  recordRepresentation: 'displayName',
}
