// @vitest-environment happy-dom
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { categoryCodes } from '../../../workflows/forms'
import { ErrorCode } from '../../../workflows/messages'
import { enums } from '../labels'
import { en, enMessages } from './en'
import { fr, frMessages } from './fr'
import {
  apiErrorCodes,
  flatten,
  keysInConsole,
  keysInSource,
  missingKeys,
  type KeyUse,
} from './usedKeys'

// Every visible string of the console goes through the French and English catalogues: this test
// reads every key the sources use and fails on one missing in either language.

const srcDir = path.dirname(path.dirname(fileURLToPath(import.meta.url)))
const repoRoot = path.resolve(srcDir, '..', '..')
const catalogues = { fr: flatten(fr), en: flatten(en) }
const enumNames = new Set<string>(Object.keys(enums))

/** Every key the console needs: used in the sources, code lists, and the API's error codes. */
function requiredKeys(): KeyUse[] {
  const { keys } = keysInConsole(srcDir)
  const codeLists = Object.entries(enums).flatMap(([name, codes]) =>
    (codes as readonly string[]).map((code) => ({ key: `${name}.${code}`, file: 'labels.ts' })),
  )
  const errorCodes = [...new Set([...apiErrorCodes(repoRoot), ...Object.values(ErrorCode)])].map(
    (code) => ({ key: `errors.${code}`, file: 'API error codes' }),
  )
  // A code list's name (choices('rsu.priority')) is a prefix, not a key.
  return [...keys.filter((k) => !enumNames.has(k.key)), ...codeLists, ...errorCodes]
}

const describeMissing = (missing: KeyUse[]) => missing.map((m) => `${m.key} (${m.file})`)

describe('the catalogues', () => {
  it('hold every key the console uses, in French and in English', () => {
    const required = requiredKeys()
    expect(required.length).toBeGreaterThan(300)
    expect(describeMissing(missingKeys(required, catalogues.fr))).toEqual([])
    expect(describeMissing(missingKeys(required, catalogues.en))).toEqual([])
  })

  it('have the same keys in both languages', () => {
    const frKeys = [...flatten(frMessages).keys()].sort()
    const enKeys = [...flatten(enMessages).keys()].sort()
    expect(frKeys.filter((k) => !enKeys.includes(k))).toEqual([])
    expect(enKeys.filter((k) => !frKeys.includes(k))).toEqual([])
  })

  it('build keys at run time only from the code lists', () => {
    const { dynamicPrefixes } = keysInConsole(srcDir)
    // `errors.${code}`: the API's codes, all checked above.
    const unknown = dynamicPrefixes.filter((d) => d.key !== 'errors' && !enumNames.has(d.key))
    expect(describeMissing(unknown)).toEqual([])
  })

  it('translate every task category the workflow knows', () => {
    expect([...enums['rsu.category']].sort()).toEqual([...categoryCodes].sort())
  })
})

describe('the key collector (negative controls)', () => {
  it('detects a key removed from a catalogue', () => {
    const required = requiredKeys()
    const victim = required.find((k) => k.key === 'rsu.tasks.claim')!
    const damaged = new Map(catalogues.fr)
    damaged.delete(victim.key)
    expect(describeMissing(missingKeys(required, damaged))).toContain(
      `rsu.tasks.claim (${victim.file})`,
    )
  })

  it('finds keys in translate calls, label props, titles, choices and derived field labels', () => {
    const code = `
      const t = translate('rsu.nowhere.one')
      const x = <TextInput source="ghost" />
      const y = <TextInput source="named" label="rsu.nowhere.two" />
      const z = <List title="rsu.nowhere.three" />
      const w = choices('rsu.nowhere_list')
      const v = translate(\`rsu.nowhere_dynamic.\${code}\`)
      const u = 'not.a.key'
    `
    const found = keysInSource('x.tsx', code, 'tasks')
    expect(found.keys.map((k) => k.key).sort()).toEqual([
      'resources.tasks.fields.ghost',
      'rsu.nowhere.one',
      'rsu.nowhere.three',
      'rsu.nowhere.two',
      'rsu.nowhere_list',
    ])
    expect(found.dynamicPrefixes.map((d) => d.key)).toEqual(['rsu.nowhere_dynamic'])
    expect(describeMissing(missingKeys(found.keys, catalogues.en))).toHaveLength(5)
  })
})
