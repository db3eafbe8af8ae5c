import MedicalServicesIcon from '@mui/icons-material/MedicalServices'
import { Datagrid, List, TextField } from 'react-admin'

/** The services of the integrated protection package that referrals lead to. */
export default {
  list: () => (
    <List exporter={false} sort={{ field: 'code', order: 'ASC' }}>
      <Datagrid rowClick={false} bulkActionButtons={false}>
        <TextField source="code" />
        <TextField source="labelFr" />
        <TextField source="labelEn" />
      </Datagrid>
    </List>
  ),
  show: undefined,
  edit: undefined,
  icon: MedicalServicesIcon,
  recordRepresentation: 'labelFr',
}
