import SendIcon from '@mui/icons-material/Send'
import { Button, MenuItem, Stack, TextField as MuiTextField } from '@mui/material'
import { useMutation, useQueryClient } from '@tanstack/react-query'
import { useState } from 'react'
import {
  Datagrid,
  FunctionField,
  List,
  Show,
  SimpleShowLayout,
  TextField,
  useDataProvider,
  useNotify,
  useRecordContext,
  useTranslate,
} from 'react-admin'
import { LocalDate } from '../components/dates'
import type { z } from 'zod'
import type { ReferralSchema } from '../../../api/routes/referrals'
import { SlaBadge } from '../components/sla'
import type { RsuDataProvider } from '../dataProvider'
import { choices, enumKey } from '../labels'

type Referral = z.infer<typeof ReferralSchema>

/** A partner's answer: accept, decline with a reason, or report the service delivered or not. */
function ReferralActions() {
  const referral = useRecordContext<Referral>()
  const translate = useTranslate()
  const dataProvider = useDataProvider<RsuDataProvider>()
  const notify = useNotify()
  const queryClient = useQueryClient()
  const [reason, setReason] = useState('no_capacity')
  const [outcome, setOutcome] = useState('delivered')
  const [note, setNote] = useState('')
  const answer = useMutation({
    mutationFn: (input: {
      command: 'accept' | 'decline' | 'report'
      body: Record<string, unknown>
    }) => dataProvider.referralCommand(String(referral!.id), input.command, input.body),
    onSuccess: () => {
      notify('rsu.referrals.answered', { type: 'success' })
      return queryClient.invalidateQueries()
    },
    onError: (error: Error) => notify(error.message, { type: 'error' }),
  })
  if (!referral || referral.status === 'closed') return null
  const withNote = (body: Record<string, unknown>) =>
    note.trim() ? { ...body, note: note.trim() } : body
  return (
    <Stack spacing={2} sx={{ maxWidth: 560 }}>
      <MuiTextField
        size="small"
        multiline
        label={translate('rsu.referrals.note')}
        value={note}
        onChange={(e) => setNote(e.target.value)}
      />
      {referral.partnerStatus === 'awaiting_response' && (
        <Stack sx={{ alignItems: 'center' }} direction="row" spacing={1}>
          <Button
            variant="contained"
            onClick={() => answer.mutate({ command: 'accept', body: {} })}
            data-testid="referral-accept"
          >
            {translate('rsu.referrals.accept')}
          </Button>
          <MuiTextField
            select
            size="small"
            label={translate('rsu.referrals.decline_reason')}
            value={reason}
            onChange={(e) => setReason(e.target.value)}
          >
            {choices('rsu.decline_reason').map((c) => (
              <MenuItem key={c.id} value={c.id}>
                {translate(c.name)}
              </MenuItem>
            ))}
          </MuiTextField>
          <Button
            variant="outlined"
            color="error"
            onClick={() => answer.mutate({ command: 'decline', body: withNote({ reason }) })}
            data-testid="referral-decline"
          >
            {translate('rsu.referrals.decline')}
          </Button>
        </Stack>
      )}
      {referral.partnerStatus === 'accepted' && (
        <Stack sx={{ alignItems: 'center' }} direction="row" spacing={1}>
          <MuiTextField
            select
            size="small"
            label={translate('rsu.referrals.outcome')}
            value={outcome}
            onChange={(e) => setOutcome(e.target.value)}
          >
            {choices('rsu.referral_outcome').map((c) => (
              <MenuItem key={c.id} value={c.id}>
                {translate(c.name)}
              </MenuItem>
            ))}
          </MuiTextField>
          <Button
            variant="contained"
            onClick={() => answer.mutate({ command: 'report', body: withNote({ outcome }) })}
            data-testid="referral-report"
          >
            {translate('rsu.referrals.report')}
          </Button>
        </Stack>
      )}
    </Stack>
  )
}

function ReferralList() {
  const translate = useTranslate()
  return (
    <List exporter={false} sort={{ field: 'dueAt', order: 'ASC' }}>
      <Datagrid rowClick="show" bulkActionButtons={false}>
        <FunctionField
          source="id"
          render={(r: Referral) => (
            <span data-testid="referral-row" data-referral-id={r.id}>
              {r.reference ?? r.id}
            </span>
          )}
        />
        <TextField source="serviceCode" />
        <TextField source="partnerCode" emptyText="—" />
        <FunctionField
          source="partnerStatus"
          sortable={false}
          render={(r: Referral) => translate(...enumKey('rsu.partner_status', r.partnerStatus))}
        />
        <FunctionField
          source="stage"
          render={(r: Referral) => translate(...enumKey('rsu.stage', r.stage))}
        />
        <FunctionField
          source="slaState"
          sortable={false}
          render={(r: Referral) => <SlaBadge state={r.slaState} />}
        />
        <LocalDate source="dueAt" showTime />
        <TextField source="areaCode" sortable={false} />
      </Datagrid>
    </List>
  )
}

function ReferralShow() {
  const translate = useTranslate()
  return (
    <Show>
      <SimpleShowLayout>
        <TextField source="reference" emptyText="—" />
        <TextField source="serviceCode" />
        <TextField source="partnerCode" emptyText="—" />
        <FunctionField
          source="partnerStatus"
          render={(r: Referral) => translate(...enumKey('rsu.partner_status', r.partnerStatus))}
        />
        <FunctionField
          source="stage"
          render={(r: Referral) => translate(...enumKey('rsu.stage', r.stage))}
        />
        <FunctionField
          source="slaState"
          render={(r: Referral) => <SlaBadge state={r.slaState} />}
        />
        <LocalDate source="dueAt" showTime />
        <TextField source="areaCode" />
        <TextField source="householdId" emptyText="—" />
        <LocalDate source="createdAt" showTime />
        <ReferralActions />
      </SimpleShowLayout>
    </Show>
  )
}

/** Referrals sent to the partner's organisation: accept, decline or report the service. */
export default {
  list: ReferralList,
  show: ReferralShow,
  edit: undefined,
  icon: SendIcon,
  recordRepresentation: (r: Referral) => r.reference ?? r.id,
}
