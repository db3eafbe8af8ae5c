import { h, startPage } from './page'

/** The public home page: what a grievance is for, and the two ways in (submit, follow). */
const { t, main, href } = startPage('app.title')
main.append(
  h('h1', {}, t('app.title')),
  h('p', {}, t('home.intro')),
  h(
    'nav',
    { class: 'actions' },
    h(
      'a',
      { href: href('/plainte/'), class: 'button primary', 'data-testid': 'go-submit' },
      t('home.submit'),
      h('span', { class: 'sub' }, t('home.submitHint')),
    ),
    h(
      'a',
      { href: href('/suivi/'), class: 'button', 'data-testid': 'go-track' },
      t('home.track'),
      h('span', { class: 'sub' }, t('home.trackHint')),
    ),
  ),
  h('p', {}, t('home.free')),
  h('p', { class: 'hint' }, t('home.privacy')),
)
