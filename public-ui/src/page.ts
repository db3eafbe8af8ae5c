import { langFrom, translator, type Lang, type MessageKey, type Translate } from './i18n'
import './style.css'

type Child = Node | string | false | null | undefined
type Attrs = Record<string, string | boolean | number | undefined>

/** Creates an element: attributes (false/undefined ones left out) and children. */
export function h(tag: string, attrs: Attrs = {}, ...children: Child[]): HTMLElement {
  const el = document.createElement(tag)
  for (const [name, value] of Object.entries(attrs)) {
    if (value === false || value === undefined) continue
    el.setAttribute(name, value === true ? '' : String(value))
  }
  for (const child of children) {
    if (child === false || child === null || child === undefined) continue
    el.append(child)
  }
  return el
}

export interface Page {
  lang: Lang
  t: Translate
  /** The page's main content, emptied and filled by the page. */
  main: HTMLElement
  /** A link to another public page in the same language. */
  href(path: string, params?: Record<string, string>): string
}

/**
 * Sets up a public page in the language of the address: header with the title and the language
 * switch, an empty main, a footer with the way to the staff console.
 */
export function startPage(titleKey: MessageKey): Page {
  const lang = langFrom(location.search)
  const t = translator(lang)
  document.documentElement.lang = lang
  document.title = `${t(titleKey)} — RSU`
  const href = (path: string, params: Record<string, string> = {}) => {
    const query = new URLSearchParams(params)
    if (lang === 'en') query.set('lang', 'en')
    const search = query.toString()
    return search ? `${path}?${search}` : path
  }
  const other = new URLSearchParams(location.search)
  if (lang === 'en') other.delete('lang')
  else other.set('lang', 'en')
  const switchSearch = other.toString()
  const main = h('main', { id: 'main', tabindex: '-1' })
  const header = h(
    'header',
    {},
    h(
      'div',
      { class: 'bar' },
      h('a', { href: href('/'), class: 'brand', 'data-testid': 'home-link' }, t('app.brand')),
      h(
        'a',
        {
          href: `${location.pathname}${switchSearch ? `?${switchSearch}` : ''}`,
          lang: lang === 'en' ? 'fr' : 'en',
          hreflang: lang === 'en' ? 'fr' : 'en',
          class: 'lang',
          'data-testid': 'switch-language',
        },
        t('app.switchLanguage'),
      ),
    ),
    h('p', { class: 'subtitle' }, t('app.subtitle')),
  )
  const footer = h(
    'footer',
    {},
    h('a', { href: href('/') }, t('app.home')),
    ' · ',
    h('a', { href: '/admin/' }, t('app.staff')),
  )
  document.getElementById('app')!.replaceChildren(header, main, footer)
  return { lang, t, main, href }
}

/** A labelled form field with its hint and its error slot, wired for screen readers. */
export function field(
  id: string,
  label: string,
  control: HTMLElement,
  hint?: string,
): { wrapper: HTMLElement; setError(message: string | undefined): void } {
  const hintEl = hint ? h('p', { class: 'hint', id: `${id}-hint` }, hint) : undefined
  const errorEl = h('p', { class: 'error', id: `${id}-error`, hidden: true })
  control.id = id
  control.setAttribute(
    'aria-describedby',
    [hintEl ? `${id}-hint` : '', `${id}-error`].filter(Boolean).join(' '),
  )
  // An error goes once the person changes the field.
  const clear = () => {
    errorEl.textContent = ''
    errorEl.hidden = true
    control.removeAttribute('aria-invalid')
  }
  control.addEventListener('input', clear)
  control.addEventListener('change', clear)
  const wrapper = h(
    'div',
    { class: 'field' },
    h('label', { for: id }, label),
    hintEl,
    control,
    errorEl,
  )
  return {
    wrapper,
    setError(message) {
      errorEl.textContent = message ?? ''
      errorEl.hidden = !message
      if (message) control.setAttribute('aria-invalid', 'true')
      else control.removeAttribute('aria-invalid')
    },
  }
}

/** The message box at the top of a form: shown, announced and focused when something failed. */
export function alertBox(): { el: HTMLElement; show(lines: string[]): void; clear(): void } {
  const el = h('div', { class: 'alert', role: 'alert', tabindex: '-1', hidden: true })
  return {
    el,
    show(lines) {
      el.replaceChildren(...lines.map((line) => h('p', {}, line)))
      el.hidden = false
      el.focus()
    },
    clear() {
      el.replaceChildren()
      el.hidden = true
    },
  }
}
