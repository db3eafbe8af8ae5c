import {
  Card,
  CardContent,
  Table,
  TableBody,
  TableCell,
  TableHead,
  TableRow,
  Typography,
} from '@mui/material'
import { Link, Loading, Title, useGetList, useGetMany, useTranslate } from 'react-admin'
import type { Task } from '../types'

/** How the team's open work is spread: open and overdue tasks per person, and the unclaimed pool. */
export default function WorkloadPage() {
  const translate = useTranslate()
  const {
    data: tasks,
    total,
    isPending,
  } = useGetList<Task>('tasks', {
    filter: { team: true, status: ['open', 'claimed'] },
    sort: { field: 'dueAt', order: 'ASC' },
    pagination: { page: 1, perPage: 100 },
  })
  const now = Date.now()
  const byPerson = new Map<string, { open: number; overdue: number }>()
  for (const t of tasks ?? []) {
    const key = t.assigneeId ?? ''
    const row = byPerson.get(key) ?? { open: 0, overdue: 0 }
    row.open += 1
    if (t.dueAt && Date.parse(t.dueAt) < now) row.overdue += 1
    byPerson.set(key, row)
  }
  const ids = [...byPerson.keys()].filter(Boolean)
  const { data: people } = useGetMany<{ id: string; displayName: string }>('users', { ids })
  const name = (id: string) =>
    id
      ? (people?.find((p) => p.id === id)?.displayName ?? id)
      : translate('rsu.workload.unassigned')
  const rows = [...byPerson.entries()].sort((a, b) => b[1].open - a[1].open)
  return (
    <Card sx={{ mt: 2 }}>
      <Title title="rsu.workload.title" />
      <CardContent>
        {isPending ? (
          <Loading />
        ) : (
          <>
            {total !== undefined && total > (tasks?.length ?? 0) && (
              <Typography variant="body2">
                {translate('rsu.workload.partial', { shown: tasks?.length ?? 0, total })}
              </Typography>
            )}
            {rows.length === 0 && (
              <Typography variant="body2" data-testid="workload-empty">
                {translate('rsu.workload.empty')}
              </Typography>
            )}
            <Table size="small">
              <TableHead>
                <TableRow>
                  <TableCell>{translate('rsu.workload.person')}</TableCell>
                  <TableCell align="right">{translate('rsu.workload.open')}</TableCell>
                  <TableCell align="right">{translate('rsu.workload.overdue')}</TableCell>
                </TableRow>
              </TableHead>
              <TableBody>
                {rows.map(([id, row]) => (
                  <TableRow key={id || 'pool'} data-testid="workload-row">
                    <TableCell>
                      <Link
                        to={`/tasks?filter=${encodeURIComponent(
                          JSON.stringify(
                            id
                              ? { assigneeId: id, status: ['open', 'claimed'] }
                              : { team: true, status: 'open' },
                          ),
                        )}`}
                      >
                        {name(id)}
                      </Link>
                    </TableCell>
                    <TableCell align="right">{row.open}</TableCell>
                    <TableCell align="right">{row.overdue}</TableCell>
                  </TableRow>
                ))}
              </TableBody>
            </Table>
          </>
        )}
      </CardContent>
    </Card>
  )
}
