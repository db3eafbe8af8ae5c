import {
  Box,
  Button,
  Card,
  CardContent,
  Grid,
  List as MuiList,
  ListItem,
  ListItemText,
  MenuItem,
  Stack,
  TextField as MuiTextField,
  Typography,
} from '@mui/material'
import { useMutation, useQueryClient } from '@tanstack/react-query'
import { useState, type ReactNode } from 'react'
import {
  Link,
  Show,
  useDataProvider,
  useGetList,
  useNotify,
  usePermissions,
  useRecordContext,
  useTranslate,
} from 'react-admin'
import { LocalDate, useDateTime } from '../components/dates'
import { SlaBadge, useFormatWorkingTime } from '../components/sla'
import type { RsuDataProvider } from '../dataProvider'
import { choices, enumKey } from '../labels'
import { holds } from '../roles'
import type { CaseDetail, LiveTask } from '../types'

function Section({ title, children }: { title: string; children: ReactNode }) {
  const translate = useTranslate()
  return (
    <Card variant="outlined">
      <CardContent>
        <Typography variant="subtitle1" component="h3" gutterBottom>
          {translate(title)}
        </Typography>
        {children}
      </CardContent>
    </Card>
  )
}

/** Runs a case command, then refreshes the case (the API answers once it is projected). */
function useCaseCommand() {
  const dataProvider = useDataProvider<RsuDataProvider>()
  const notify = useNotify()
  const queryClient = useQueryClient()
  return useMutation({
    mutationFn: (run: (dp: RsuDataProvider) => Promise<unknown>) => run(dataProvider),
    onSuccess: () => {
      notify('rsu.cases.command_done', { type: 'success' })
      return queryClient.invalidateQueries()
    },
    onError: (error: Error) => notify(error.message, { type: 'error' }),
  })
}

/** The resolve clock: state, working time left, paused (with its reason) or extended. */
function SlaClockPanel({ record }: { record: CaseDetail }) {
  const translate = useTranslate()
  const dateTime = useDateTime()
  const format = useFormatWorkingTime()
  const { permissions } = usePermissions()
  const command = useCaseCommand()
  const [reason, setReason] = useState('waiting_complainant')
  const [hours, setHours] = useState('8')
  const [why, setWhy] = useState('')
  const sla = record.live?.sla
  const extended = (record.timeline ?? []).some((e) => e.type === 'sla.extended')
  const supervisor = holds(permissions, 'supervisor')
  return (
    <Section title="rsu.cases.sla_clock">
      <Stack spacing={1} data-testid="case-sla">
        <Box>
          <SlaBadge state={sla?.paused ? 'paused' : (sla?.state ?? record.slaState)} />{' '}
          {extended && <span>{translate('rsu.cases.extended')}</span>}
        </Box>
        {sla && !sla.paused && record.status !== 'closed' && (
          <Typography variant="body2">
            {format(sla.remainingMs, sla.state === 'breached')}
          </Typography>
        )}
        {sla?.paused && (
          <Typography variant="body2">
            {translate('rsu.cases.paused_because', {
              reason: translate(...enumKey('rsu.pause_reason', sla.pauseReason)),
            })}
          </Typography>
        )}
        {sla?.dueAt && (
          <Typography variant="body2">
            {translate('rsu.cases.due_at')} : {dateTime(sla.dueAt)}
          </Typography>
        )}
        {record.status !== 'closed' && sla && (
          <Stack
            sx={{ alignItems: 'center', flexWrap: 'wrap' }}
            direction="row"
            spacing={1}
            useFlexGap
          >
            {sla.paused ? (
              <Button
                size="small"
                variant="outlined"
                onClick={() => command.mutate((dp) => dp.resumeSla(record.id))}
                data-testid="sla-resume"
              >
                {translate('rsu.cases.resume')}
              </Button>
            ) : (
              <>
                <MuiTextField
                  select
                  size="small"
                  label={translate('rsu.cases.pause_reason')}
                  value={reason}
                  onChange={(e) => setReason(e.target.value)}
                >
                  {choices('rsu.pause_reason').map((c) => (
                    <MenuItem key={c.id} value={c.id}>
                      {translate(c.name)}
                    </MenuItem>
                  ))}
                </MuiTextField>
                <Button
                  size="small"
                  variant="outlined"
                  onClick={() => command.mutate((dp) => dp.pauseSla(record.id, reason))}
                  data-testid="sla-pause"
                >
                  {translate('rsu.cases.pause')}
                </Button>
              </>
            )}
            {supervisor && (
              <>
                <MuiTextField
                  size="small"
                  type="number"
                  label={translate('rsu.cases.extend_hours')}
                  value={hours}
                  onChange={(e) => setHours(e.target.value)}
                  sx={{ width: 140 }}
                />
                <MuiTextField
                  size="small"
                  label={translate('rsu.cases.extend_reason')}
                  value={why}
                  onChange={(e) => setWhy(e.target.value)}
                />
                <Button
                  size="small"
                  variant="outlined"
                  disabled={!(Number(hours) > 0) || why.trim().length < 3}
                  onClick={() =>
                    command.mutate((dp) =>
                      dp.extendSla(record.id, Math.round(Number(hours) * 3_600_000), why.trim()),
                    )
                  }
                  data-testid="sla-extend"
                >
                  {translate('rsu.cases.extend')}
                </Button>
              </>
            )}
          </Stack>
        )}
      </Stack>
    </Section>
  )
}

/** A supervisor hands a task to someone holding its role in its area. */
function Reassign({ task }: { task: LiveTask }) {
  const translate = useTranslate()
  const command = useCaseCommand()
  const { data: people } = useGetList<{ id: string; displayName: string }>('users', {
    filter: { role: task.candidateRole, areaCode: task.areaCode, onLeave: false },
    pagination: { page: 1, perPage: 100 },
    sort: { field: 'displayName', order: 'ASC' },
  })
  return (
    <MuiTextField
      select
      size="small"
      label={translate('rsu.cases.reassign')}
      value=""
      onChange={(e) => command.mutate((dp) => dp.reassignTask(task.id, e.target.value))}
      sx={{ minWidth: 200 }}
      slotProps={{ htmlInput: { 'data-testid': 'task-reassign' } }}
    >
      {(people ?? []).map((p) => (
        <MenuItem key={p.id} value={p.id}>
          {p.displayName}
        </MenuItem>
      ))}
    </MuiTextField>
  )
}

function TasksPanel({ record }: { record: CaseDetail }) {
  const translate = useTranslate()
  const dateTime = useDateTime()
  const { permissions } = usePermissions()
  const tasks = record.live?.tasks ?? []
  return (
    <Section title="rsu.cases.tasks">
      {tasks.length === 0 && (
        <Typography variant="body2">{translate('rsu.cases.no_tasks')}</Typography>
      )}
      <MuiList dense>
        {tasks.map((t) => (
          <ListItem
            key={t.id}
            data-testid="case-task"
            secondaryAction={
              holds(permissions, 'supervisor') &&
              (t.status === 'open' || t.status === 'claimed') ? (
                <Reassign task={t} />
              ) : undefined
            }
          >
            <ListItemText
              primary={
                <Link to={`/tasks/${encodeURIComponent(t.id)}/show`}>
                  {translate(...enumKey('rsu.task_kind', t.kind))}
                </Link>
              }
              secondary={`${translate(...enumKey('rsu.task_status', t.status))}${
                t.dueAt ? ` · ${dateTime(t.dueAt)}` : ''
              }${t.sentBackReason ? ` · ${translate('rsu.cases.sent_back')}` : ''}`}
            />
          </ListItem>
        ))}
      </MuiList>
    </Section>
  )
}

function Timeline({ record }: { record: CaseDetail }) {
  const translate = useTranslate()
  const dateTime = useDateTime()
  return (
    <Section title="rsu.cases.timeline">
      <MuiList dense data-testid="case-timeline">
        {(record.timeline ?? []).map((e) => (
          <ListItem key={e.id}>
            <ListItemText
              primary={translate(...enumKey('rsu.event', e.type))}
              secondary={`${dateTime(e.occurredAt)}${
                e.actorRole ? ` · ${translate(...enumKey('rsu.role', e.actorRole))}` : ''
              }`}
            />
          </ListItem>
        ))}
      </MuiList>
    </Section>
  )
}

function Notes({ record }: { record: CaseDetail }) {
  const translate = useTranslate()
  const dateTime = useDateTime()
  const command = useCaseCommand()
  const [text, setText] = useState('')
  return (
    <Section title="rsu.cases.notes">
      <MuiList dense>
        {(record.live?.notes ?? []).map((n) => (
          <ListItem key={n.no}>
            <ListItemText
              primary={n.text}
              secondary={`${dateTime(n.at)} · ${translate(...enumKey('rsu.role', n.role))}`}
            />
          </ListItem>
        ))}
      </MuiList>
      {record.status !== 'closed' && (
        <Stack direction="row" spacing={1}>
          <MuiTextField
            size="small"
            fullWidth
            multiline
            label={translate('rsu.cases.new_note')}
            value={text}
            onChange={(e) => setText(e.target.value)}
          />
          <Button
            variant="outlined"
            disabled={text.trim().length < 2 || command.isPending}
            onClick={() =>
              command.mutate((dp) => dp.addNote(record.id, text.trim()).then(() => setText('')))
            }
            data-testid="case-add-note"
          >
            {translate('rsu.cases.add_note')}
          </Button>
        </Stack>
      )}
    </Section>
  )
}

/**
 * The chain of linked cases (a grievance, the re-verification it spawned, the appeal of that
 * decision…) in opening order, each with how it relates to the others; this case in bold.
 */
function Links({ record }: { record: CaseDetail }) {
  const translate = useTranslate()
  const chain = record.chain ?? {
    cases: [],
    links: [
      ...(record.parentCaseId
        ? [{ fromCaseId: record.parentCaseId, toCaseId: record.id, kind: 'spawned' }]
        : []),
      ...(record.live?.links ?? []).map((l) => ({ ...l, fromCaseId: record.id })),
    ],
  }
  const others = chain.cases.filter((c) => c.id !== record.id)
  // Without the chain (an older API), the live links stand in for it.
  const rows =
    chain.cases.length > 0
      ? chain.cases
      : chain.links.map((l) => ({
          id: l.fromCaseId === record.id ? l.toCaseId : l.fromCaseId,
          kind: null,
          reference: null,
          status: null,
          stage: null,
        }))
  const relation = (id: string) =>
    chain.links
      .filter((l) => l.fromCaseId === id || l.toCaseId === id)
      .map((l) => {
        const other = l.fromCaseId === id ? l.toCaseId : l.fromCaseId
        const ref = chain.cases.find((c) => c.id === other)?.reference ?? other
        return `${translate(...enumKey('rsu.link_kind', l.kind))} ${ref}`
      })
      .join(' · ')
  return (
    <Section title="rsu.cases.links">
      {(chain.cases.length > 0 ? others.length : rows.length) === 0 && (
        <Typography variant="body2">{translate('rsu.cases.no_links')}</Typography>
      )}
      {(chain.cases.length === 0 || others.length > 0) && (
        <MuiList dense data-testid="case-chain">
          {rows.map((c) => (
            <ListItem key={c.id}>
              <ListItemText
                primary={
                  c.id === record.id ? (
                    <strong>
                      {c.reference ?? c.id}
                      {c.kind ? ` — ${translate(...enumKey('rsu.case_kind', c.kind))}` : ''}
                    </strong>
                  ) : (
                    <Link to={`/cases/${encodeURIComponent(c.id)}/show`}>
                      {c.reference ?? c.id}
                      {c.kind ? ` — ${translate(...enumKey('rsu.case_kind', c.kind))}` : ''}
                    </Link>
                  )
                }
                secondary={[
                  c.status ? translate(...enumKey('rsu.case_status', c.status)) : null,
                  relation(c.id),
                ]
                  .filter(Boolean)
                  .join(' · ')}
              />
            </ListItem>
          ))}
        </MuiList>
      )}
    </Section>
  )
}

export function CaseDetailView() {
  const record = useRecordContext<CaseDetail>()
  const translate = useTranslate()
  if (!record) return null
  return (
    <Box sx={{ p: 2 }}>
      <Typography variant="h6" component="h2" gutterBottom data-testid="case-reference">
        {record.reference ?? record.id} — {translate(...enumKey('rsu.case_kind', record.kind))}
      </Typography>
      <Typography variant="body2" gutterBottom>
        {translate(...enumKey('rsu.stage', record.stage))} ·{' '}
        {record.category ? translate(...enumKey('rsu.category', record.category)) : '—'} ·{' '}
        {translate(...enumKey('rsu.priority', record.priority))} · {record.areaCode} ·{' '}
        {translate('resources.cases.fields.openedAt')} <LocalDate source="openedAt" />
      </Typography>
      {record.live === null && (
        <Typography variant="body2" color="text.secondary">
          {translate('rsu.cases.live_unavailable')}
        </Typography>
      )}
      <Grid container spacing={2} sx={{ mt: 1 }}>
        <Grid size={{ xs: 12, md: 6 }}>
          <Stack spacing={2}>
            <SlaClockPanel record={record} />
            <TasksPanel record={record} />
            <Links record={record} />
          </Stack>
        </Grid>
        <Grid size={{ xs: 12, md: 6 }}>
          <Stack spacing={2}>
            <Notes record={record} />
            <Timeline record={record} />
          </Stack>
        </Grid>
      </Grid>
    </Box>
  )
}

/** A case: its SLA clock (pause, resume, extend), tasks, links, notes and its audit timeline. */
export default function CaseShow() {
  return (
    <Show title="rsu.cases.show_title">
      <CaseDetailView />
    </Show>
  )
}
