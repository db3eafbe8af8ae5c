import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import ts from 'typescript'

/** Top-level namespaces of translation keys: ours (rsu, resources, errors) and react-admin's. */
const KEY = /^(rsu|resources|errors|ra)\.[A-Za-z0-9_.-]+$/

/** Folders of the console that are react-admin resources (their name is the resource's). */
export const resourceFolders = [
  'tasks',
  'cases',
  'referrals',
  'users',
  'areas',
  'categories',
  'sla-policies',
  'holidays',
  'partners',
  'services',
]

export interface KeyUse {
  key: string
  file: string
}

/**
 * Every translation key a source file uses, read from its syntax tree: string literals that look
 * like keys (`translate('rsu.x')`, `label="rsu.x"`, `title=…`, choices), the field label
 * react-admin derives from a `source` without `label` in a resource folder
 * (`resources.<name>.fields.<source>`), and the prefixes of keys built at run time
 * (`rsu.category.${code}`), which must be code lists of labels.ts.
 */
export function keysInSource(
  file: string,
  text: string,
  folder: string | null,
): { keys: KeyUse[]; dynamicPrefixes: KeyUse[] } {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TSX)
  const keys: KeyUse[] = []
  const dynamicPrefixes: KeyUse[] = []
  const visit = (node: ts.Node) => {
    if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) {
      if (KEY.test(node.text)) keys.push({ key: node.text, file })
    } else if (ts.isTemplateExpression(node)) {
      const head = node.head.text
      if (/^(rsu|resources|errors)\./.test(head)) {
        dynamicPrefixes.push({ key: head.replace(/\.$/, ''), file })
      }
    } else if (ts.isJsxOpeningElement(node) || ts.isJsxSelfClosingElement(node)) {
      const attrs = node.attributes.properties.filter(ts.isJsxAttribute)
      const named = (name: string) => attrs.find((a) => a.name.getText(source) === name)
      const sourceAttr = named('source')
      if (folder && sourceAttr && !named('label')) {
        const init = sourceAttr.initializer
        if (init && ts.isStringLiteral(init)) {
          keys.push({ key: `resources.${folder}.fields.${init.text}`, file })
        }
      }
    }
    ts.forEachChild(node, visit)
  }
  visit(source)
  return { keys, dynamicPrefixes }
}

/** The keys used by every source file of the console (tests and the catalogues excepted). */
export function keysInConsole(srcDir: string) {
  const keys: KeyUse[] = []
  const dynamicPrefixes: KeyUse[] = []
  for (const entry of readdirSync(srcDir, { recursive: true, withFileTypes: true })) {
    const full = path.join(entry.parentPath, entry.name)
    const rel = path.relative(srcDir, full)
    if (!entry.isFile() || !/\.tsx?$/.test(entry.name) || /\.test\.tsx?$/.test(entry.name)) continue
    if (rel.startsWith(`i18n${path.sep}`)) continue
    const top = rel.split(path.sep)[0]!
    const folder = resourceFolders.includes(top) ? top : null
    const found = keysInSource(rel, readFileSync(full, 'utf8'), folder)
    keys.push(...found.keys)
    dynamicPrefixes.push(...found.dynamicPrefixes)
  }
  for (const folder of resourceFolders) {
    keys.push({ key: `resources.${folder}.name`, file: `${folder}/index` })
  }
  return { keys, dynamicPrefixes }
}

/** The stable error codes the API answers with, read from its source (`errors.<CODE>` keys). */
export function apiErrorCodes(repoRoot: string): string[] {
  const codes = new Set<string>()
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
      if (!entry.isFile() || !entry.name.endsWith('.ts')) continue
      const text = readFileSync(path.join(entry.parentPath, entry.name), 'utf8')
      for (const m of text.matchAll(/ApiError\(\s*\d+,\s*'([A-Z_]+)'/g)) codes.add(m[1]!)
      for (const m of text.matchAll(/errorBody\(\s*'([A-Z_]+)'/g)) codes.add(m[1]!)
    }
  }
  walk(path.join(repoRoot, 'api'))
  return [...codes].sort()
}

/** Flattens a nested catalogue into dotted keys. */
export function flatten(messages: object, prefix = ''): Map<string, string> {
  const out = new Map<string, string>()
  for (const [k, v] of Object.entries(messages)) {
    const key = prefix ? `${prefix}.${k}` : k
    if (v && typeof v === 'object') flatten(v as object, key).forEach((val, kk) => out.set(kk, val))
    else out.set(key, String(v))
  }
  return out
}

/** Used keys a catalogue lacks, with the file that uses each. */
export const missingKeys = (used: KeyUse[], catalogue: Map<string, string>) =>
  used.filter((u) => !catalogue.has(u.key))
