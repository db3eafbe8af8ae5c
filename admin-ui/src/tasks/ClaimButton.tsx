import { Button } from '@mui/material'
import { useMutation, useQueryClient } from '@tanstack/react-query'
import {
  useDataProvider,
  useGetIdentity,
  useNotify,
  useRecordContext,
  useTranslate,
} from 'react-admin'
import type { RsuDataProvider } from '../dataProvider'
import type { Task } from '../types'

/** Claim an open task, or give back one I hold; the workflow refuses a task claimed meanwhile. */
export function ClaimButton() {
  const task = useRecordContext<Task>()
  const { identity } = useGetIdentity()
  const dataProvider = useDataProvider<RsuDataProvider>()
  const notify = useNotify()
  const translate = useTranslate()
  const queryClient = useQueryClient()
  const mine = task?.assigneeId !== null && task?.assigneeId === identity?.id
  const claim = useMutation({
    mutationFn: () =>
      mine ? dataProvider.unclaimTask(String(task!.id)) : dataProvider.claimTask(String(task!.id)),
    onSuccess: () => {
      notify(mine ? 'rsu.tasks.unclaimed' : 'rsu.tasks.claimed', { type: 'success' })
      return queryClient.invalidateQueries({ queryKey: ['tasks'] })
    },
    onError: (error: Error) => notify(error.message, { type: 'error' }),
  })
  if (!task || task.status === 'completed' || task.status === 'cancelled') return null
  if (task.assigneeId && !mine) return null
  return (
    <Button
      size="small"
      variant={mine ? 'outlined' : 'contained'}
      disabled={claim.isPending}
      onClick={(event) => {
        event.stopPropagation()
        claim.mutate()
      }}
      data-testid={mine ? 'task-unclaim' : 'task-claim'}
    >
      {translate(mine ? 'rsu.tasks.unclaim' : 'rsu.tasks.claim')}
    </Button>
  )
}
