import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { catalogues, en, fr, langFrom, translator } from './i18n'

const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort()

describe('the public pages in French and English', () => {
  it('has every French key in English and nothing English-only, none empty', () => {
    expect(Object.keys(en).sort()).toEqual(Object.keys(fr).sort())
    for (const [lang, catalogue] of Object.entries(catalogues)) {
      const empty = Object.entries(catalogue).filter(([, text]) => !text.trim())
      expect(empty, `empty ${lang} messages`).toEqual([])
    }
  })

  it('has the same placeholders in both languages', () => {
    const differ = Object.keys(fr).filter(
      (key) =>
        JSON.stringify(placeholders(fr[key as keyof typeof fr])) !==
        JSON.stringify(placeholders(en[key as keyof typeof en])),
    )
    expect(differ).toEqual([])
  })

  it('has a message for every key the pages use, including the status labels', () => {
    const dir = path.dirname(fileURLToPath(import.meta.url))
    const source = readdirSync(dir)
      .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.tsx'))
      .map((f) => readFileSync(path.join(dir, f), 'utf8'))
      .join('\n')
    const used = [...source.matchAll(/\bt\(\s*'([a-zA-Z]+\.[a-zA-Z_]+)'/g)].map((m) => m[1]!)
    expect(used.length).toBeGreaterThan(20)
    expect(used.filter((key) => !(key in fr))).toEqual([])
    for (const status of ['received', 'in_progress', 'resolved', 'closed']) {
      expect(fr).toHaveProperty([`status.${status}`])
      expect(en).toHaveProperty([`status.${status}`])
    }
  })

  it('speaks French unless English is asked for in the address, and fills placeholders', () => {
    expect(langFrom('')).toBe('fr')
    expect(langFrom('?lang=en')).toBe('en')
    expect(langFrom('?lang=bm')).toBe('fr')
    expect(translator('en')('error.tooMany', { minutes: 15 })).toContain('Try again in 15 minute')
    expect(translator('fr')('error.tooMany', { minutes: 15 })).toContain('Réessayez dans 15 minute')
  })
})
