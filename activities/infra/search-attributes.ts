import type { Client } from '@temporalio/client'
import { SearchAttributeType } from '@temporalio/common'
import { caseSearchAttributes } from '../../workflows/search-attributes'
import { firstLine, StartupError } from './errors'
import type { Logger } from './logger'
import type { TemporalSettings } from './temporal-client'

/**
 * `ensure`: register the missing search attributes through the operator service (the default);
 * `check`: never change the namespace, refuse to start when one is missing (for clusters whose
 * namespaces are managed by their operators, or Temporal Cloud).
 */
export type SearchAttributesMode = 'ensure' | 'check'

type Key = (typeof caseSearchAttributes)[number]

// temporal.api.enums.v1.IndexedValueType
const indexedValueType: Record<SearchAttributeType, number> = {
  [SearchAttributeType.TEXT]: 1,
  [SearchAttributeType.KEYWORD]: 2,
  [SearchAttributeType.INT]: 3,
  [SearchAttributeType.DOUBLE]: 4,
  [SearchAttributeType.BOOL]: 5,
  [SearchAttributeType.DATETIME]: 6,
  [SearchAttributeType.KEYWORD_LIST]: 7,
}

// The Temporal CLI's names of the types (`--type`).
const cliType: Record<SearchAttributeType, string> = {
  [SearchAttributeType.TEXT]: 'Text',
  [SearchAttributeType.KEYWORD]: 'Keyword',
  [SearchAttributeType.INT]: 'Int',
  [SearchAttributeType.DOUBLE]: 'Double',
  [SearchAttributeType.BOOL]: 'Bool',
  [SearchAttributeType.DATETIME]: 'Datetime',
  [SearchAttributeType.KEYWORD_LIST]: 'KeywordList',
}

/**
 * The Temporal CLI commands that create `missing` on the namespace, one per attribute (the CLI
 * pairs each `--name` with a `--type`, so one command per attribute works with every version).
 */
export function createAttributesCommand(settings: TemporalSettings, missing: Key[]): string {
  return missing
    .map(
      (k) =>
        `temporal operator search-attribute create --address ${settings.address} --namespace ${settings.namespace} --name ${k.name} --type ${cliType[k.type]}`,
    )
    .join(' && ')
}

async function missingAttributes(client: Client, namespace: string): Promise<Key[]> {
  const existing = await client.connection.operatorService
    .listSearchAttributes({ namespace })
    .catch((error: unknown) => {
      throw new StartupError(
        'SEARCH_ATTRIBUTES_UNKNOWN',
        `cannot list the search attributes of namespace "${namespace}": ${firstLine(error)}`,
      )
    })
  const known = new Set([
    ...Object.keys(existing.customAttributes ?? {}),
    ...Object.keys(existing.systemAttributes ?? {}),
  ])
  return caseSearchAttributes.filter((key) => !known.has(key.name))
}

/**
 * Makes sure the namespace has the search attributes every case workflow sets: without them, a
 * cluster fails each workflow task (`no mapping defined for search attribute CaseKind`) and no
 * case ever reaches PostgreSQL, while intakes still answer 201. In `ensure` mode the missing ones
 * are registered (idempotent: workers starting together may race, the second finds them there);
 * otherwise, or when registering is refused, the process refuses to start with one line naming
 * the missing attributes and the command that creates them.
 */
export async function ensureSearchAttributes(
  client: Client,
  settings: TemporalSettings,
  mode: SearchAttributesMode,
  log: Logger,
): Promise<void> {
  const { namespace } = settings
  let missing = await missingAttributes(client, namespace)
  if (missing.length === 0) return
  let reason = 'TEMPORAL_SEARCH_ATTRIBUTES=check'
  if (mode === 'ensure') {
    try {
      await client.connection.operatorService.addSearchAttributes({
        namespace,
        searchAttributes: Object.fromEntries(
          missing.map((key) => [key.name, indexedValueType[key.type]]),
        ),
      })
      log.info({ namespace, added: missing.map((k) => k.name) }, 'registered search attributes')
      return
    } catch (error) {
      reason = `registering them failed: ${firstLine(error)}`
    }
    // Another process may have registered them meanwhile.
    missing = await missingAttributes(client, namespace)
    if (missing.length === 0) return
  }
  throw new StartupError(
    'SEARCH_ATTRIBUTES_MISSING',
    `namespace "${namespace}" lacks the search attributes ${missing.map((k) => `${k.name} (${cliType[k.type]})`).join(', ')} (${reason}); create them with: ${createAttributesCommand(settings, missing)}`,
  )
}
