import {
  Button,
  Card,
  CardContent,
  Stack,
  Table,
  TableBody,
  TableCell,
  TableHead,
  TableRow,
  TextField,
  Typography,
} from '@mui/material'
import { useMutation, useQueryClient } from '@tanstack/react-query'
import { useState } from 'react'
import {
  Link,
  Loading,
  Title,
  useDataProvider,
  useGetList,
  useNotify,
  useTranslate,
} from 'react-admin'
import { useDateTime } from '../components/dates'
import type { RsuDataProvider } from '../dataProvider'
import { enumKey } from '../labels'
import type { Task } from '../types'

function ApprovalRow({ task }: { task: Task }) {
  const translate = useTranslate()
  const dateTime = useDateTime()
  const dataProvider = useDataProvider<RsuDataProvider>()
  const notify = useNotify()
  const queryClient = useQueryClient()
  const [reason, setReason] = useState('')
  const decide = useMutation({
    mutationFn: (decision: 'approve' | 'reject') =>
      decision === 'approve'
        ? dataProvider.approve(task.id)
        : dataProvider.reject(task.id, reason.trim()),
    onSuccess: (_answer, decision) => {
      notify(decision === 'approve' ? 'rsu.approvals.approved' : 'rsu.approvals.rejected', {
        type: 'success',
      })
      return queryClient.invalidateQueries()
    },
    onError: (error: Error) => notify(error.message, { type: 'error' }),
  })
  return (
    <TableRow data-testid="approval-row" data-task-id={task.id}>
      <TableCell>
        <Link to={`/cases/${encodeURIComponent(task.caseId)}/show`}>
          {task.caseReference ?? task.caseId}
        </Link>
      </TableCell>
      <TableCell>{translate(...enumKey('rsu.priority', task.casePriority))}</TableCell>
      <TableCell>{task.areaCode}</TableCell>
      <TableCell>{task.dueAt ? dateTime(task.dueAt) : '—'}</TableCell>
      <TableCell>
        <Stack sx={{ alignItems: 'center' }} direction="row" spacing={1}>
          <Button
            variant="contained"
            color="success"
            size="small"
            disabled={decide.isPending}
            onClick={() => decide.mutate('approve')}
            data-testid="approval-approve"
          >
            {translate('rsu.approvals.approve')}
          </Button>
          <TextField
            size="small"
            label={translate('rsu.approvals.reason')}
            value={reason}
            onChange={(e) => setReason(e.target.value)}
            slotProps={{ htmlInput: { 'data-testid': 'approval-reason' } }}
          />
          <Button
            variant="outlined"
            color="error"
            size="small"
            disabled={decide.isPending || reason.trim().length < 3}
            onClick={() => decide.mutate('reject')}
            data-testid="approval-reject"
          >
            {translate('rsu.approvals.reject')}
          </Button>
        </Stack>
      </TableCell>
    </TableRow>
  )
}

/**
 * The supervisor's approvals queue: resolutions that change eligibility or payment, and those of
 * sensitive cases. Approve, or reject with a reason, which sends the investigation back to the
 * agent who proposed it; the workflow refuses the proposer's own approval (four eyes).
 */
export default function ApprovalsPage() {
  const translate = useTranslate()
  const { data, isPending } = useGetList<Task>('tasks', {
    filter: { kind: 'approval', status: ['open', 'claimed'] },
    sort: { field: 'dueAt', order: 'ASC' },
    pagination: { page: 1, perPage: 100 },
  })
  return (
    <Card sx={{ mt: 2 }}>
      <Title title="rsu.approvals.title" />
      <CardContent>
        <Typography variant="body2" gutterBottom>
          {translate('rsu.approvals.help')}
        </Typography>
        {isPending ? (
          <Loading />
        ) : !data?.length ? (
          <Typography data-testid="approvals-empty">{translate('rsu.approvals.empty')}</Typography>
        ) : (
          <Table size="small">
            <TableHead>
              <TableRow>
                <TableCell>{translate('resources.tasks.fields.caseReference')}</TableCell>
                <TableCell>{translate('resources.tasks.fields.casePriority')}</TableCell>
                <TableCell>{translate('resources.tasks.fields.areaCode')}</TableCell>
                <TableCell>{translate('resources.tasks.fields.dueAt')}</TableCell>
                <TableCell>{translate('rsu.approvals.decision')}</TableCell>
              </TableRow>
            </TableHead>
            <TableBody>
              {data.map((t) => (
                <ApprovalRow key={t.id} task={t} />
              ))}
            </TableBody>
          </Table>
        )}
      </CardContent>
    </Card>
  )
}
