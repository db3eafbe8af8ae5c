import {
  ApiProblem,
  getOptions,
  problemMessage,
  submitGrievance,
  type PublicOptions,
  type Receipt,
} from './api'
import type { MessageKey } from './i18n'
import { alertBox, field, h, startPage, type Page } from './page'

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/
const PHONE = /^\+?[0-9 ]{8,20}$/

/**
 * Submit a grievance (web channel): category if known, commune, narrative, and a contact unless
 * the complainant stays anonymous. Checked here first with the API's own rules, so that a slow
 * connection is not spent on a refusal; the API's field errors are shown the same way.
 */
const page = startPage('submit.title')
const { t, main } = page
main.append(h('h1', {}, t('submit.title')), h('p', { 'aria-live': 'polite' }, t('submit.loading')))
void getOptions().then(
  (options) => renderForm(page, options),
  (problem: unknown) => {
    main.replaceChildren(
      h('h1', {}, t('submit.title')),
      h(
        'p',
        { class: 'alert', role: 'alert' },
        t('error.options'),
        ' ',
        problemMessage(problem, t),
      ),
    )
  },
)

function renderForm({ t, lang, main }: Page, options: PublicOptions) {
  const alert = alertBox()
  const category = h(
    'select',
    { name: 'category' },
    h('option', { value: '' }, t('submit.categoryUnknown')),
    ...options.categories.map((c) =>
      h('option', { value: c.code }, lang === 'en' ? c.labelEn : c.labelFr),
    ),
  ) as HTMLSelectElement
  // Grouped by region and cercle: the way people name where they live.
  const groups = new Map<string, PublicOptions['communes']>()
  for (const c of options.communes) {
    const label = c.region === c.cercle ? c.region : `${c.region} — ${c.cercle}`
    groups.set(label, [...(groups.get(label) ?? []), c])
  }
  const commune = h(
    'select',
    { name: 'communeCode', required: true },
    h('option', { value: '' }, t('submit.communeChoose')),
    ...[...groups].map(([label, communes]) =>
      h('optgroup', { label }, ...communes.map((c) => h('option', { value: c.code }, c.name))),
    ),
  ) as HTMLSelectElement
  const narrative = h('textarea', {
    name: 'narrative',
    rows: 6,
    required: true,
    maxlength: 5000,
  }) as HTMLTextAreaElement
  const anonymous = h('input', {
    type: 'checkbox',
    name: 'anonymous',
    id: 'anonymous',
  }) as HTMLInputElement
  const email = h('input', {
    type: 'email',
    name: 'email',
    autocomplete: 'email',
    inputmode: 'email',
    maxlength: 254,
  }) as HTMLInputElement
  const phone = h('input', {
    type: 'tel',
    name: 'phone',
    autocomplete: 'tel',
    inputmode: 'tel',
    maxlength: 20,
  }) as HTMLInputElement

  const fields = {
    category: field('category', t('submit.category'), category),
    communeCode: field('communeCode', t('submit.commune'), commune),
    narrative: field('narrative', t('submit.narrative'), narrative, t('submit.narrativeHint')),
    email: field('email', t('submit.email'), email),
    phone: field('phone', t('submit.phone'), phone, t('submit.phoneHint')),
  }
  const contact = h(
    'fieldset',
    { class: 'contact' },
    h('legend', {}, t('submit.contact')),
    fields.email.wrapper,
    fields.phone.wrapper,
  )
  anonymous.addEventListener('change', () => {
    contact.hidden = anonymous.checked
  })
  const send = h(
    'button',
    { type: 'submit', class: 'primary' },
    t('submit.send'),
  ) as HTMLButtonElement
  const form = h(
    'form',
    { novalidate: true, 'data-testid': 'grievance-form' },
    alert.el,
    h('p', { class: 'hint' }, t('submit.intro')),
    fields.category.wrapper,
    fields.communeCode.wrapper,
    fields.narrative.wrapper,
    h(
      'div',
      { class: 'check' },
      anonymous,
      h('label', { for: 'anonymous' }, t('submit.anonymous')),
    ),
    contact,
    send,
  ) as HTMLFormElement

  // The summary speaks of the last attempt: it goes once the person corrects the form.
  form.addEventListener('change', () => alert.clear())

  const showErrors = (errors: Partial<Record<keyof typeof fields, MessageKey>>) => {
    for (const [name, f] of Object.entries(fields)) {
      const key = errors[name as keyof typeof fields]
      f.setError(key ? t(key) : undefined)
    }
    const keys = Object.values(errors)
    if (keys.length) alert.show([t('submit.errorsTitle'), ...keys.map((k) => t(k))])
    else alert.clear()
    return keys.length === 0
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault()
    const text = narrative.value.trim()
    const contactGiven = !anonymous.checked && (email.value.trim() || phone.value.trim())
    const errors: Partial<Record<keyof typeof fields, MessageKey>> = {}
    if (!commune.value) errors.communeCode = 'error.commune'
    if (text.length < 10) errors.narrative = 'error.narrativeShort'
    if (text.length > 5000) errors.narrative = 'error.narrativeLong'
    if (!anonymous.checked && email.value.trim() && !EMAIL.test(email.value.trim()))
      errors.email = 'error.email'
    if (!anonymous.checked && phone.value.trim() && !PHONE.test(phone.value.trim()))
      errors.phone = 'error.phone'
    if (!showErrors(errors)) return
    send.disabled = true
    send.textContent = t('submit.sending')
    void submitGrievance({
      communeCode: commune.value,
      category: category.value || undefined,
      narrative: text,
      anonymous: anonymous.checked,
      contact: contactGiven
        ? { email: email.value.trim() || undefined, phone: phone.value.trim() || undefined }
        : undefined,
      locale: lang,
    }).then(
      (receipt) => renderReceipt(page, receipt, Boolean(contactGiven)),
      (problem: unknown) => {
        send.disabled = false
        send.textContent = t('submit.send')
        // The API's field errors land on the fields they name.
        const details = problem instanceof ApiProblem ? problem.details : []
        const byPath: Record<string, MessageKey> = {
          communeCode: 'error.commune',
          narrative: 'error.narrativeShort',
          'contact.email': 'error.email',
          'contact.phone': 'error.phone',
        }
        for (const d of details) {
          const key = byPath[d.path]
          const name = d.path.replace('contact.', '') as keyof typeof fields
          if (key && fields[name]) fields[name].setError(t(key))
        }
        alert.show([t('submit.errorsTitle'), problemMessage(problem, t)])
      },
    )
  })
  main.replaceChildren(h('h1', {}, t('submit.title')), form)
}

function renderReceipt({ t, main, href }: Page, receipt: Receipt, contactGiven: boolean) {
  const heading = h('h1', { tabindex: '-1' }, t('confirm.title'))
  main.replaceChildren(
    heading,
    h(
      'dl',
      { class: 'receipt', 'data-testid': 'receipt' },
      h('dt', {}, t('confirm.reference')),
      h('dd', { 'data-testid': 'receipt-reference' }, receipt.reference),
      h('dt', {}, t('confirm.pin')),
      h('dd', { 'data-testid': 'receipt-pin' }, receipt.pin),
    ),
    h('p', { class: 'alert' }, t('confirm.keep')),
    ...(contactGiven ? [h('p', {}, t('confirm.ack'))] : []),
    h(
      'nav',
      { class: 'actions' },
      h(
        'a',
        {
          href: href('/suivi/', { ref: receipt.reference }),
          class: 'button primary',
          'data-testid': 'go-track',
        },
        t('confirm.track'),
      ),
      h('a', { href: href('/plainte/'), class: 'button' }, t('confirm.another')),
    ),
  )
  heading.focus()
  window.scrollTo(0, 0)
}
