import polyglotI18nProvider from 'ra-i18n-polyglot'
import { en } from './en'
import { fr } from './fr'

export const catalogues = { fr, en } as const
export type LocaleCode = keyof typeof catalogues

const LOCALE_KEY = 'rsu-locale'

const initialLocale = (): LocaleCode => {
  const stored = globalThis.localStorage?.getItem(LOCALE_KEY)
  return stored === 'en' ? 'en' : 'fr'
}

/**
 * French by default, English at a click (the locale menu of the app bar), remembered on this
 * browser. Every visible string of the console goes through these two catalogues.
 */
export function createI18nProvider(locale: LocaleCode = initialLocale()) {
  const provider = polyglotI18nProvider((l) => catalogues[l === 'en' ? 'en' : 'fr'], locale, [
    { locale: 'fr', name: 'Français' },
    { locale: 'en', name: 'English' },
  ])
  return {
    ...provider,
    changeLocale: async (l: string) => {
      globalThis.localStorage?.setItem(LOCALE_KEY, l)
      await provider.changeLocale(l)
    },
  }
}
