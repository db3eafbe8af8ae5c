import { problemMessage, trackGrievance, type Progress, type PublicStatus } from './api'
import type { MessageKey } from './i18n'
import { alertBox, field, h, startPage } from './page'

const STAGES: PublicStatus[] = ['received', 'in_progress', 'resolved', 'closed']
const REFERENCE = /^[A-Z]{2}-\d{4}-[A-Z0-9]{4,12}$/

/**
 * Follow a grievance with its reference and PIN: the public stage, the message that goes with it
 * and the dates, nothing else (no narrative, no names).
 */
const { t, lang, main } = startPage('track.title')
const alert = alertBox()
const reference = h('input', {
  name: 'reference',
  autocomplete: 'off',
  autocapitalize: 'characters',
  spellcheck: 'false',
  maxlength: 40,
  value: new URLSearchParams(location.search).get('ref') ?? undefined,
}) as HTMLInputElement
const pin = h('input', {
  name: 'pin',
  inputmode: 'numeric',
  autocomplete: 'off',
  maxlength: 6,
}) as HTMLInputElement
const fields = {
  reference: field('reference', t('track.reference'), reference, t('track.referenceHint')),
  pin: field('pin', t('track.pin'), pin),
}
const send = h('button', { type: 'submit', class: 'primary' }, t('track.send')) as HTMLButtonElement
const result = h('section', { 'aria-live': 'polite', 'data-testid': 'track-result' })
const form = h(
  'form',
  { novalidate: true, 'data-testid': 'track-form' },
  alert.el,
  fields.reference.wrapper,
  fields.pin.wrapper,
  send,
) as HTMLFormElement
main.append(h('h1', {}, t('track.title')), h('p', {}, t('track.intro')), form, result)

const date = (iso: string | null) =>
  iso
    ? new Intl.DateTimeFormat(lang === 'en' ? 'en-GB' : 'fr-FR', {
        dateStyle: 'long',
        timeStyle: 'short',
        timeZone: 'Africa/Bamako',
      }).format(new Date(iso))
    : '—'

function showProgress(progress: Progress) {
  const current = STAGES.indexOf(progress.status)
  result.replaceChildren(
    h('h2', {}, t('track.resultTitle'), ' ', h('span', { class: 'nowrap' }, progress.reference)),
    h(
      'p',
      { class: `status status-${progress.status}`, 'data-testid': 'track-status' },
      t(`status.${progress.status}` as MessageKey),
    ),
    h('p', { 'data-testid': 'track-message' }, progress.message),
    h(
      'dl',
      { class: 'dates' },
      h('dt', {}, t('track.submittedAt')),
      h('dd', {}, date(progress.submittedAt)),
      h('dt', {}, t('track.updatedAt')),
      h('dd', {}, date(progress.updatedAt)),
    ),
    h('h3', {}, t('track.stages')),
    h(
      'ol',
      { class: 'stages' },
      ...STAGES.map((stage, i) =>
        h(
          'li',
          {
            class: i < current ? 'done' : i === current ? 'current' : '',
            'aria-current': i === current ? 'step' : undefined,
          },
          t(`status.${stage}` as MessageKey),
          i === current && h('span', { class: 'visually-hidden' }, ` ${t('track.current')}`),
        ),
      ),
    ),
  )
}

form.addEventListener('submit', (event) => {
  event.preventDefault()
  const ref = reference.value.trim().toUpperCase()
  const code = pin.value.trim()
  const errors: Partial<Record<keyof typeof fields, MessageKey>> = {}
  if (!REFERENCE.test(ref)) errors.reference = 'error.reference'
  if (!/^\d{6}$/.test(code)) errors.pin = 'error.pin'
  fields.reference.setError(errors.reference && t(errors.reference))
  fields.pin.setError(errors.pin && t(errors.pin))
  if (Object.keys(errors).length) {
    alert.show(Object.values(errors).map((k) => t(k)))
    return
  }
  alert.clear()
  result.replaceChildren()
  send.disabled = true
  send.textContent = t('track.sending')
  void trackGrievance({ reference: ref, pin: code, locale: lang })
    .then(showProgress, (problem: unknown) => alert.show([problemMessage(problem, t)]))
    .finally(() => {
      send.disabled = false
      send.textContent = t('track.send')
    })
})
