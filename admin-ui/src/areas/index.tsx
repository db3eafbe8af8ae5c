import MapIcon from '@mui/icons-material/Map'
import {
  Datagrid,
  FunctionField,
  List,
  SelectInput,
  TextField,
  TextInput,
  useTranslate,
} from 'react-admin'
import { choices, enumKey } from '../labels'

const filters = [
  <TextInput key="q" source="q" label="rsu.common.search" alwaysOn />,
  <SelectInput key="level" source="level" choices={choices('rsu.area_level')} alwaysOn />,
]

function AreaList() {
  const translate = useTranslate()
  return (
    <List exporter={false} sort={{ field: 'code', order: 'ASC' }} filters={filters}>
      <Datagrid rowClick={false} bulkActionButtons={false}>
        <TextField source="code" />
        <TextField source="name" />
        <FunctionField
          source="level"
          render={(a: { level: string }) => translate(...enumKey('rsu.area_level', a.level))}
        />
        <TextField source="parentCode" />
      </Datagrid>
    </List>
  )
}

/** Mali's administrative geography: region → cercle → commune (read-only here). */
export default {
  list: AreaList,
  show: undefined,
  edit: undefined,
  icon: MapIcon,
  recordRepresentation: 'name',
}
