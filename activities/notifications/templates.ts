/**
 * Notification templates, French (the official language, the default) and English. An email
 * carries a case reference, codes and a link, nothing else: never a narrative, a name, a phone
 * number or anything the complainant said (design §5). Whatever else reaches these functions is
 * dropped, not rendered.
 */

export type TemplateName =
  | 'new_task'
  | 'task_reminder'
  | 'escalation'
  | 'acknowledgement'
  | 'outcome'
  | 'appeal_decision'
  | 'break_glass'
export type NotificationLocale = 'fr' | 'en'

export const TEMPLATE_NAMES: readonly TemplateName[] = [
  'new_task',
  'task_reminder',
  'escalation',
  'acknowledgement',
  'outcome',
  'appeal_decision',
  'break_glass',
]

/** What a template may show: a case reference, codes, a due time and a link. Nothing personal. */
export interface TemplateParams {
  /** The case reference, e.g. `PL-2026-000123`. */
  reference: string
  /** An http(s) link to the case, the task or the public tracking page. */
  link?: string
  /** ISO 8601 instant, shown in Africa/Bamako time. */
  dueAt?: string
  /** A task kind code, e.g. `investigation`. */
  taskKind?: string
  /** An escalation level code: `commune`, `cercle`, `region` or `national`. */
  level?: string
}

export interface RenderedNotification {
  subject: string
  text: string
}

/** Thrown for parameters a template refuses. Its message never repeats the refused value. */
export class TemplateError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'TemplateError'
  }
}

export function isTemplateName(value: string): value is TemplateName {
  return (TEMPLATE_NAMES as readonly string[]).includes(value)
}

// References and codes are short tokens: a sentence (a narrative pasted by mistake) is refused.
const REFERENCE = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$/
const CODE = /^[a-z0-9][a-z0-9_.-]{0,63}$/i

/**
 * Keeps only the fields of `TemplateParams` and checks each one: a reference and codes are short
 * tokens, `dueAt` a valid instant, `link` an http(s) URL. Anything else in `params` is dropped.
 */
export function sanitizeTemplateParams(params: unknown): TemplateParams {
  const p = (typeof params === 'object' && params !== null ? params : {}) as Record<string, unknown>
  const text = (key: keyof TemplateParams): string | undefined => {
    const value = p[key]
    if (value === undefined || value === null) return undefined
    if (typeof value !== 'string') throw new TemplateError(`${key} must be a string`)
    return value
  }
  const reference = text('reference')
  if (reference === undefined || !REFERENCE.test(reference)) {
    throw new TemplateError('reference must be a case reference (letters, digits, . _ / -)')
  }
  const out: TemplateParams = { reference }
  const link = text('link')
  if (link !== undefined) {
    let url: URL
    try {
      url = new URL(link)
    } catch {
      throw new TemplateError('link must be an absolute URL')
    }
    if ((url.protocol !== 'https:' && url.protocol !== 'http:') || link.length > 2048) {
      throw new TemplateError('link must be an http(s) URL of at most 2048 characters')
    }
    out.link = link
  }
  const dueAt = text('dueAt')
  if (dueAt !== undefined) {
    if (Number.isNaN(Date.parse(dueAt)))
      throw new TemplateError('dueAt must be an ISO 8601 instant')
    out.dueAt = dueAt
  }
  for (const key of ['taskKind', 'level'] as const) {
    const value = text(key)
    if (value === undefined) continue
    if (!CODE.test(value)) throw new TemplateError(`${key} must be a code`)
    out[key] = value
  }
  return out
}

/**
 * Renders a notification as a plain-text email. Only the fields of `TemplateParams` are read (and
 * checked: see `sanitizeTemplateParams`), so a field added by mistake can never reach an inbox.
 * Times are shown in Africa/Bamako time; French uses "23/09/2026 à 09:30".
 */
export function renderNotification(
  template: TemplateName,
  locale: NotificationLocale,
  params: TemplateParams,
): RenderedNotification {
  if (!isTemplateName(template)) throw new TemplateError('unknown template')
  const p = sanitizeTemplateParams(params)
  const strings = locale === 'en' ? en : fr
  const { subject, lines } = strings[template](p, strings)
  return {
    subject,
    text: [...lines.filter((l): l is string => l !== undefined), '', strings.footer].join('\n'),
  }
}

interface Strings {
  date(iso: string): string
  taskKind(code: string): string
  level(code: string): string
  footer: string
  new_task: Template
  task_reminder: Template
  escalation: Template
  acknowledgement: Template
  outcome: Template
  appeal_decision: Template
  /** To a focal point: someone broke the glass on a case of their area (who: in the report). */
  break_glass: Template
}
type Template = (
  p: TemplateParams,
  s: Strings,
) => { subject: string; lines: (string | undefined)[] }

/** The parts of an instant in Africa/Bamako (UTC+0, no daylight saving: still, say so). */
function bamakoParts(iso: string) {
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone: 'Africa/Bamako',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(new Date(iso))
  const get = (type: Intl.DateTimeFormatPartTypes) =>
    parts.find((part) => part.type === type)?.value ?? ''
  return {
    day: get('day'),
    month: get('month'),
    year: get('year'),
    hour: get('hour'),
    minute: get('minute'),
  }
}

const EN_MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
]

const fr: Strings = {
  date(iso) {
    const d = bamakoParts(iso)
    return `${d.day}/${d.month}/${d.year} à ${d.hour}:${d.minute} (heure de Bamako)`
  },
  taskKind: (code) => label(FR_TASK_KINDS, code),
  level: (code) => label(FR_LEVELS, code),
  footer: 'Ce message est envoyé automatiquement par RSU Casework. Merci de ne pas y répondre.',
  new_task: (p, s) => ({
    subject: `Nouvelle tâche : dossier ${p.reference}`,
    lines: [
      'Bonjour,',
      '',
      p.taskKind
        ? `Une nouvelle tâche (${s.taskKind(p.taskKind)}) vous attend sur le dossier ${p.reference}.`
        : `Une nouvelle tâche vous attend sur le dossier ${p.reference}.`,
      p.dueAt && `À traiter avant le ${s.date(p.dueAt)}.`,
      p.link && `Ouvrir la tâche : ${p.link}`,
    ],
  }),
  task_reminder: (p, s) => ({
    subject: `Rappel : tâche en attente sur le dossier ${p.reference}`,
    lines: [
      'Bonjour,',
      '',
      p.taskKind
        ? `Une tâche (${s.taskKind(p.taskKind)}) du dossier ${p.reference} est toujours en attente.`
        : `Une tâche du dossier ${p.reference} est toujours en attente.`,
      p.dueAt && `Échéance : ${s.date(p.dueAt)}.`,
      p.link && `Ouvrir la tâche : ${p.link}`,
    ],
  }),
  escalation: (p, s) => ({
    subject: `Escalade : dossier ${p.reference} hors délai`,
    lines: [
      'Bonjour,',
      '',
      `Le dossier ${p.reference} a dépassé son délai de traitement et vous a été transmis` +
        (p.level ? ` (niveau ${s.level(p.level)}).` : '.'),
      'Merci de le prendre en charge ou de le réaffecter.',
      p.dueAt && `Nouvelle échéance : ${s.date(p.dueAt)}.`,
      p.link && `Ouvrir le dossier : ${p.link}`,
    ],
  }),
  acknowledgement: (p, s) => ({
    subject: `Votre plainte est enregistrée : référence ${p.reference}`,
    lines: [
      'Bonjour,',
      '',
      `Nous avons bien reçu votre plainte. Elle est enregistrée sous la référence ${p.reference}.`,
      'Conservez cette référence et le code PIN de suivi qui vous a été remis au dépôt de la ' +
        'plainte : ensemble, ils vous permettent de suivre votre dossier. Pour votre sécurité, ' +
        'le code PIN n’est jamais envoyé par courriel.',
      p.dueAt && `Une réponse vous sera apportée au plus tard le ${s.date(p.dueAt)}.`,
      p.link && `Suivre votre plainte : ${p.link}`,
    ],
  }),
  outcome: (p) => ({
    subject: `Décision sur votre plainte ${p.reference}`,
    lines: [
      'Bonjour,',
      '',
      `Une décision a été prise sur votre plainte enregistrée sous la référence ${p.reference}.`,
      p.link
        ? `Pour en connaître le détail, consultez ${p.link} avec votre référence et votre code ` +
          'PIN, ou appelez la ligne d’assistance du programme.'
        : 'Pour en connaître le détail, appelez la ligne d’assistance du programme en indiquant ' +
          'votre référence.',
    ],
  }),
  break_glass: (p) => ({
    subject: `Accès d’urgence au dossier ${p.reference}`,
    lines: [
      'Bonjour,',
      '',
      `Un accès d’urgence (bris de glace) a été accordé sur le dossier ${p.reference}, dans ` +
        'votre zone. La personne, le motif et la durée figurent dans le rapport des accès ' +
        'd’urgence.',
      p.link && `Consulter le rapport : ${p.link}`,
    ],
  }),
  appeal_decision: (p) => ({
    subject: `Décision sur votre recours ${p.reference}`,
    lines: [
      'Bonjour,',
      '',
      `Votre recours enregistré sous la référence ${p.reference} a été examiné par une personne ` +
        'qui n’avait pas pris la décision contestée, et une décision a été prise.',
      p.link
        ? `Pour en connaître le détail, consultez ${p.link} ou appelez la ligne d’assistance du programme.`
        : 'Pour en connaître le détail, appelez la ligne d’assistance du programme en indiquant ' +
          'votre référence.',
    ],
  }),
}

const en: Strings = {
  date(iso) {
    const d = bamakoParts(iso)
    const month = EN_MONTHS[Number(d.month) - 1] ?? d.month
    return `${Number(d.day)} ${month} ${d.year} at ${d.hour}:${d.minute} (Bamako time)`
  },
  taskKind: (code) => label(EN_TASK_KINDS, code),
  level: (code) => label(EN_LEVELS, code),
  footer: 'This message was sent automatically by RSU Casework. Please do not reply.',
  new_task: (p, s) => ({
    subject: `New task: case ${p.reference}`,
    lines: [
      'Hello,',
      '',
      p.taskKind
        ? `A new task (${s.taskKind(p.taskKind)}) awaits you on case ${p.reference}.`
        : `A new task awaits you on case ${p.reference}.`,
      p.dueAt && `Due by ${s.date(p.dueAt)}.`,
      p.link && `Open the task: ${p.link}`,
    ],
  }),
  task_reminder: (p, s) => ({
    subject: `Reminder: task pending on case ${p.reference}`,
    lines: [
      'Hello,',
      '',
      p.taskKind
        ? `A task (${s.taskKind(p.taskKind)}) on case ${p.reference} is still pending.`
        : `A task on case ${p.reference} is still pending.`,
      p.dueAt && `Due: ${s.date(p.dueAt)}.`,
      p.link && `Open the task: ${p.link}`,
    ],
  }),
  escalation: (p, s) => ({
    subject: `Escalation: case ${p.reference} is overdue`,
    lines: [
      'Hello,',
      '',
      `Case ${p.reference} breached its deadline and was escalated to you` +
        (p.level ? ` (${s.level(p.level)} level).` : '.'),
      'Please take it in hand or reassign it.',
      p.dueAt && `New deadline: ${s.date(p.dueAt)}.`,
      p.link && `Open the case: ${p.link}`,
    ],
  }),
  acknowledgement: (p, s) => ({
    subject: `Your grievance is registered: reference ${p.reference}`,
    lines: [
      'Hello,',
      '',
      `We have received your grievance. It is registered under reference ${p.reference}.`,
      'Keep this reference and the tracking PIN you were given when you submitted it: together ' +
        'they let you follow your case. For your safety, the PIN is never sent by email.',
      p.dueAt && `You will receive an answer by ${s.date(p.dueAt)}.`,
      p.link && `Follow your grievance: ${p.link}`,
    ],
  }),
  outcome: (p) => ({
    subject: `Decision on your grievance ${p.reference}`,
    lines: [
      'Hello,',
      '',
      `A decision was taken on your grievance registered under reference ${p.reference}.`,
      p.link
        ? `For the details, visit ${p.link} with your reference and PIN, or call the ` +
          'programme helpline.'
        : 'For the details, call the programme helpline and give your reference.',
    ],
  }),
  break_glass: (p) => ({
    subject: `Emergency access to case ${p.reference}`,
    lines: [
      'Hello,',
      '',
      `Emergency (break-glass) access was granted to case ${p.reference}, in your area. Who, ` +
        'why and for how long are in the break-glass report.',
      p.link && `Open the report: ${p.link}`,
    ],
  }),
  appeal_decision: (p) => ({
    subject: `Decision on your appeal ${p.reference}`,
    lines: [
      'Hello,',
      '',
      `Your appeal registered under reference ${p.reference} was reviewed by someone who did not ` +
        'take the contested decision, and a decision was taken.',
      p.link
        ? `For the details, visit ${p.link} or call the programme helpline.`
        : 'For the details, call the programme helpline and give your reference.',
    ],
  }),
}

// Labels of known codes; an unknown code is shown as is (it is a code, never free text).
const label = (labels: Record<string, string>, code: string): string =>
  Object.hasOwn(labels, code) ? (labels[code] ?? code) : code
const FR_TASK_KINDS: Record<string, string> = {
  triage: 'tri',
  investigation: 'enquête',
  approval: 'approbation',
  escalation: 'dossier escaladé',
  resolution: 'résolution',
  visit: 'visite du ménage',
  review: 'examen du recours',
  follow_up: 'suivi',
  supervision: 'supervision',
}
const EN_TASK_KINDS: Record<string, string> = {
  triage: 'triage',
  investigation: 'investigation',
  approval: 'approval',
  escalation: 'escalated case',
  resolution: 'resolution',
  visit: 'household visit',
  review: 'appeal review',
  follow_up: 'follow-up',
  supervision: 'supervision',
}
const FR_LEVELS: Record<string, string> = {
  commune: 'commune',
  cercle: 'cercle',
  region: 'région',
  national: 'national',
}
const EN_LEVELS: Record<string, string> = {
  commune: 'commune',
  cercle: 'cercle',
  region: 'region',
  national: 'national',
}
