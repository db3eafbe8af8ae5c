import FolderIcon from '@mui/icons-material/Folder'
import { lazyPage } from '../components/Lazy'
import type { Case } from '../types'
import { CaseList } from './CaseList'

/** Cases: the list, the case page and the intake form (hotline, in person). */
export default {
  list: CaseList,
  show: lazyPage(() => import('./CaseShow')),
  create: lazyPage(() => import('./CaseCreate')),
  edit: undefined,
  icon: FolderIcon,
  recordRepresentation: (c: Case) => c.reference ?? c.id,
}
