import { Alert, Button } from '@mui/material'
import { useMutation } from '@tanstack/react-query'
import type { z } from 'zod'
import {
  BooleanInput,
  Form,
  RadioButtonGroupInput,
  SelectInput,
  TextInput,
  useDataProvider,
  useNotify,
  useTranslate,
} from 'react-admin'
import { useWatch } from 'react-hook-form'
import { taskForms, type TaskKind } from '../../../workflows/forms'
import type { RsuDataProvider } from '../dataProvider'
import { choices } from '../labels'
import { cleanValues, zodValidate } from '../components/zodValidate'
import type { Task } from '../types'

const defaults: Record<TaskKind, Record<string, unknown>> = {
  triage: { sensitive: false, priority: 'normal' },
  investigation: { changesEligibilityOrPayment: false },
  approval: {},
  escalation: {},
}

function ApprovalFields() {
  const decision = useWatch({ name: 'decision' }) as string | undefined
  return (
    <>
      <RadioButtonGroupInput
        source="decision"
        label="rsu.form.decision"
        choices={choices('rsu.decision')}
        data-testid="form-decision"
      />
      <TextInput
        source="reason"
        label={decision === 'reject' ? 'rsu.form.reason_required' : 'rsu.form.reason'}
        multiline
        fullWidth
        slotProps={{ htmlInput: { 'data-testid': 'form-reason' } }}
      />
    </>
  )
}

/** The fields of each task kind's form (workflows/forms.ts), in the order an agent fills them. */
function Fields({ kind }: { kind: TaskKind }) {
  switch (kind) {
    case 'triage':
      return (
        <>
          <SelectInput
            source="category"
            label="rsu.form.category"
            choices={choices('rsu.category')}
            data-testid="form-category"
          />
          <SelectInput
            source="priority"
            label="rsu.form.priority"
            choices={choices('rsu.priority')}
            data-testid="form-priority"
          />
          <BooleanInput source="sensitive" label="rsu.form.sensitive" />
        </>
      )
    case 'investigation':
      return (
        <>
          <TextInput
            source="findings"
            label="rsu.form.findings"
            multiline
            minRows={4}
            fullWidth
            slotProps={{ htmlInput: { 'data-testid': 'form-findings' } }}
          />
          <SelectInput
            source="proposedResolution"
            label="rsu.form.proposed_resolution"
            choices={choices('rsu.resolution')}
            data-testid="form-resolution"
          />
          <TextInput
            source="householdId"
            label="rsu.form.household_id"
            slotProps={{ htmlInput: { 'data-testid': 'form-household' } }}
          />
          <BooleanInput source="changesEligibilityOrPayment" label="rsu.form.changes_eligibility" />
        </>
      )
    case 'approval':
      return <ApprovalFields />
    case 'escalation':
      return (
        <>
          <SelectInput
            source="action"
            label="rsu.form.escalation_action"
            choices={choices('rsu.escalation_action')}
            data-testid="form-action"
          />
          <TextInput
            source="note"
            label="rsu.form.note"
            multiline
            fullWidth
            slotProps={{ htmlInput: { 'data-testid': 'form-note' } }}
          />
        </>
      )
  }
}

const isKnownKind = (kind: string): kind is TaskKind => kind in taskForms

/**
 * The form that completes a task, one per task kind, validated in the browser with the very
 * schema the workflow applies (so a refusal there is the exception), then submitted as the task's
 * completion. The workflow still decides: its refusal (four eyes, already completed) is shown.
 */
export function TaskForm({
  task,
  onDone,
}: {
  task: Pick<Task, 'id' | 'kind'>
  onDone?: () => void
}) {
  const dataProvider = useDataProvider<RsuDataProvider>()
  const notify = useNotify()
  const translate = useTranslate()
  const complete = useMutation({
    mutationFn: (data: Record<string, unknown>) => dataProvider.completeTask(task.id, data),
    onSuccess: () => {
      notify('rsu.tasks.completed', { type: 'success' })
      onDone?.()
    },
    onError: (error: Error) => notify(error.message, { type: 'error' }),
  })
  if (!isKnownKind(task.kind)) {
    return <Alert severity="info">{translate('rsu.tasks.no_form')}</Alert>
  }
  const schema: z.ZodType = taskForms[task.kind]
  return (
    <Form
      key={task.id}
      defaultValues={defaults[task.kind]}
      validate={zodValidate(schema)}
      onSubmit={(values: Record<string, unknown>) => complete.mutate(cleanValues(values))}
    >
      <Fields kind={task.kind} />
      <Button
        type="submit"
        variant="contained"
        disabled={complete.isPending}
        data-testid="task-complete"
      >
        {translate('rsu.tasks.complete')}
      </Button>
    </Form>
  )
}
