import { Alert, Typography } from '@mui/material'
import { useMutation } from '@tanstack/react-query'
import { useState } from 'react'
import {
  BooleanInput,
  Create,
  Form,
  ReferenceInput,
  AutocompleteInput,
  SaveButton,
  SelectInput,
  TextInput,
  email,
  maxLength,
  minLength,
  regex,
  required,
  useDataProvider,
  useNotify,
  useTranslate,
} from 'react-admin'
import { useWatch } from 'react-hook-form'
import type { RsuDataProvider } from '../dataProvider'
import { choices } from '../labels'
import { cleanValues } from '../components/zodValidate'

type Receipt = { caseId: string; reference: string; pin: string }

function ContactFields() {
  const anonymous = useWatch({ name: 'anonymous' }) as boolean | undefined
  if (anonymous) return null
  return (
    <>
      <TextInput source="email" label="rsu.intake.email" validate={email()} fullWidth />
      <TextInput
        source="phone"
        label="rsu.intake.phone"
        validate={regex(/^\+?[0-9 ]{8,20}$/, 'rsu.validation.phone')}
        fullWidth
      />
    </>
  )
}

/**
 * Intake by the hotline or in person: an agent registers a grievance in a commune they cover; the
 * reference and the PIN to read back to the complainant are shown once.
 */
export default function CaseCreate() {
  const dataProvider = useDataProvider<RsuDataProvider>()
  const notify = useNotify()
  const translate = useTranslate()
  const [receipt, setReceipt] = useState<Receipt>()
  const intake = useMutation({
    mutationFn: (values: Record<string, unknown>) => {
      const { email: mail, phone, ...rest } = cleanValues(values)
      const contact = cleanValues({ email: mail, phone })
      return dataProvider.intake({
        ...rest,
        ...(values.anonymous || !Object.keys(contact).length ? {} : { contact }),
      })
    },
    onSuccess: (answer) => setReceipt(answer),
    onError: (error: Error) => notify(error.message, { type: 'error' }),
  })
  return (
    <Create title="rsu.intake.title" resource="cases">
      {receipt ? (
        <Alert severity="success" sx={{ m: 2 }} data-testid="intake-receipt">
          <Typography>{translate('rsu.intake.registered')}</Typography>
          <Typography>
            {translate('rsu.intake.reference')} : <strong>{receipt.reference}</strong>
          </Typography>
          <Typography>
            {translate('rsu.intake.pin')} : <strong data-testid="intake-pin">{receipt.pin}</strong>
          </Typography>
        </Alert>
      ) : (
        <Form
          defaultValues={{ channel: 'hotline', anonymous: false, locale: 'fr' }}
          onSubmit={(values: Record<string, unknown>) => intake.mutate(values)}
        >
          <div style={{ padding: 16, maxWidth: 640 }}>
            <SelectInput
              source="channel"
              label="rsu.intake.channel"
              choices={choices('rsu.channel', ['hotline', 'in_person'])}
              validate={required()}
            />
            <ReferenceInput
              source="communeCode"
              reference="areas"
              filter={{ level: 'commune' }}
              sort={{ field: 'name', order: 'ASC' }}
            >
              <AutocompleteInput
                label="rsu.intake.commune"
                optionText="name"
                optionValue="code"
                validate={required()}
                fullWidth
              />
            </ReferenceInput>
            <SelectInput
              source="category"
              label="rsu.intake.category"
              choices={choices('rsu.category')}
            />
            <SelectInput
              source="priority"
              label="rsu.intake.priority"
              choices={choices('rsu.priority')}
            />
            <TextInput
              source="narrative"
              label="rsu.intake.narrative"
              multiline
              minRows={4}
              fullWidth
              validate={[required(), minLength(10), maxLength(5000)]}
            />
            <BooleanInput source="anonymous" label="rsu.intake.anonymous" />
            <ContactFields />
            <SelectInput
              source="locale"
              label="rsu.intake.locale"
              choices={[
                { id: 'fr', name: 'rsu.intake.locale_fr' },
                { id: 'en', name: 'rsu.intake.locale_en' },
              ]}
            />
            <SaveButton label="rsu.intake.submit" data-testid="intake-submit" />
          </div>
        </Form>
      )}
    </Create>
  )
}
