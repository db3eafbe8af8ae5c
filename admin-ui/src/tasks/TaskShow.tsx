import { Box, Card, CardContent, Stack, Typography } from '@mui/material'
import { useQueryClient } from '@tanstack/react-query'
import {
  FunctionField,
  Labeled,
  ReferenceField,
  Show,
  TextField,
  useGetIdentity,
  useRecordContext,
  useRedirect,
  useTranslate,
} from 'react-admin'
import { LocalDate } from '../components/dates'
import { SlaBadge, taskSla, useBusinessCalendar, useFormatWorkingTime } from '../components/sla'
import { enumKey } from '../labels'
import type { Task } from '../types'
import { ClaimButton } from './ClaimButton'
import { TaskForm } from './TaskForm'

function TaskDetail() {
  const task = useRecordContext<Task>()
  const translate = useTranslate()
  const calendar = useBusinessCalendar()
  const format = useFormatWorkingTime()
  const { identity } = useGetIdentity()
  const redirect = useRedirect()
  const queryClient = useQueryClient()
  if (!task) return null
  const sla = taskSla(task, new Date(), calendar)
  const workable =
    (task.status === 'open' || task.status === 'claimed') &&
    (task.assigneeId === null || task.assigneeId === identity?.id)
  return (
    <Stack spacing={2} sx={{ p: 2 }}>
      <Typography variant="h6" component="h2">
        {translate(...enumKey('rsu.task_kind', task.kind))} —{' '}
        {translate(...enumKey('rsu.task_status', task.status))}
      </Typography>
      <Stack sx={{ flexWrap: 'wrap' }} direction="row" spacing={3} useFlexGap>
        <Labeled label="resources.tasks.fields.caseReference">
          <ReferenceField source="caseId" reference="cases" link="show">
            <FunctionField render={() => task.caseReference ?? task.caseId} />
          </ReferenceField>
        </Labeled>
        <Labeled label="resources.tasks.fields.dueAt">
          <LocalDate source="dueAt" showTime />
        </Labeled>
        <Labeled label="resources.tasks.fields.sla">
          <Box>
            <SlaBadge state={sla.state} />{' '}
            {sla.leftMs !== null && (
              <span data-testid="task-time-left">
                {format(sla.leftMs, sla.state === 'breached')}
              </span>
            )}
          </Box>
        </Labeled>
        <Labeled label="resources.tasks.fields.areaCode">
          <TextField source="areaCode" />
        </Labeled>
        <Labeled label="resources.tasks.fields.casePriority">
          <FunctionField render={() => translate(...enumKey('rsu.priority', task.casePriority))} />
        </Labeled>
      </Stack>
      <Box>
        <ClaimButton />
      </Box>
      {workable && (
        <Card variant="outlined">
          <CardContent>
            <Typography variant="subtitle1" component="h3" gutterBottom>
              {translate('rsu.tasks.form_title')}
            </Typography>
            <TaskForm
              task={task}
              onDone={() => {
                void queryClient.invalidateQueries()
                redirect('list', 'tasks')
              }}
            />
          </CardContent>
        </Card>
      )}
    </Stack>
  )
}

/** A task: its case, its SLA, the claim button and the form that completes it. */
export default function TaskShow() {
  return (
    <Show title="rsu.tasks.show_title">
      <TaskDetail />
    </Show>
  )
}
