import net from 'node:net'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freePort } from '../activities/infra/ports'
import { createTestDatabase, type TestDatabase } from './helpers/db'
import { processesMentioning, spawnEntry } from './helpers/processes'

/**
 * Bad configuration gets one clear line naming the cause and exit code 1, within seconds: never a
 * hang, never a bare stack trace. `exit()` fails the test if the process is still up after 30 s.
 */
let dataDir: string
let tdb: TestDatabase
beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'rsu-bad-config-'))
  tdb = await createTestDatabase()
})
afterAll(async () => {
  await tdb?.drop()
  await rm(dataDir, { recursive: true, force: true })
})

async function failsWith(entry: string, env: Record<string, string>): Promise<string> {
  const run = spawnEntry(entry, {
    DATA_DIR: dataDir,
    API_PORT: String(await freePort()),
    SMTP_PORT: '0',
    MAIL_UI_PORT: '0',
    TEMPORAL_PORT: '0',
    TEMPORAL_UI_PORT: '0',
    SEED_DEMO: 'false',
    ...env,
  })
  expect(await run.exit()).toBe(1)
  const lines = run.stderr().trim().split('\n')
  expect(lines, run.stderr()).toHaveLength(1)
  expect(lines[0]).not.toMatch(/^\s+at /)
  return lines[0]!
}

describe('bad configuration', () => {
  it('a malformed DATABASE_URL', async () => {
    const line = await failsWith('start.ts', { DATABASE_URL: 'postgres//rsu:secret@db/rsu' })
    expect(line).toContain('DATABASE_URL must be a URL like postgres://')
    expect(line).toContain('[CONFIG_INVALID]')
    expect(line).not.toContain('secret')
  })

  it('a DATABASE_URL where no PostgreSQL answers', async () => {
    const line = await failsWith('start.ts', { DATABASE_URL: 'postgres://rsu:pw@127.0.0.1:1/rsu' })
    expect(line).toContain('cannot connect to PostgreSQL at 127.0.0.1:1/rsu')
    expect(line).toContain('[DATABASE_UNREACHABLE]')
    expect(line).not.toContain(':pw@')
  })

  it('an unreachable TEMPORAL_ADDRESS', async () => {
    const line = await failsWith('start.ts', {
      DATABASE_URL: tdb.url,
      TEMPORAL_ADDRESS: `127.0.0.1:${await freePort()}`,
    })
    expect(line).toMatch(/cannot reach Temporal at 127\.0\.0\.1:\d+ within 5s/)
    expect(line).toContain('[TEMPORAL_UNREACHABLE]')
  })

  it('a port in use', async () => {
    const squatter = net.createServer()
    const port = await new Promise<number>((resolve) =>
      squatter.listen(0, '127.0.0.1', () => resolve((squatter.address() as net.AddressInfo).port)),
    )
    try {
      const line = await failsWith('start.ts', { API_PORT: String(port) })
      expect(line).toContain(
        `port ${port} on 127.0.0.1 is already in use, needed for the API (API_PORT)`,
      )
      expect(line).toContain('[PORT_IN_USE]')
    } finally {
      squatter.close()
    }
  })

  it('a failure after the dev server started stops it: nothing is left behind', async () => {
    const clash = await createTestDatabase({ migrate: false })
    try {
      await sql`create table roles (code int)`.execute(clash.db)
      const line = await failsWith('start.ts', { DATABASE_URL: clash.url })
      expect(line).toContain(
        'database migration up failed at 2026_11_29_000100_create_reference_tables',
      )
      expect(line).toContain('[MIGRATION_FAILED]')
      expect(await processesMentioning(dataDir)).toEqual([])
    } finally {
      await clash.drop()
    }
  })

  it('a Temporal that fails while PostgreSQL is still starting stops PostgreSQL once it is up: nothing is left behind', async () => {
    // Not a Temporal CLI: it fails at once, while the embedded PostgreSQL is being created.
    const dir = await mkdtemp(path.join(tmpdir(), 'rsu-parallel-'))
    try {
      const line = await failsWith('start.ts', {
        DATA_DIR: dir,
        DATABASE_URL: '',
        TEMPORAL_ADDRESS: '',
        TEMPORAL_CLI_PATH: '/bin/false',
      })
      expect(line).toContain('[TEMPORAL_START_FAILED]')
      expect(await processesMentioning(dir)).toEqual([])
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('the production processes without their external services', async () => {
    const line = await failsWith('api/main.ts', { DATABASE_URL: '', TEMPORAL_ADDRESS: '' })
    expect(line).toContain('set DATABASE_URL and TEMPORAL_ADDRESS')
    const worker = await failsWith('activities/worker-main.ts', {
      DATABASE_URL: tdb.url,
      TEMPORAL_ADDRESS: '',
    })
    expect(worker).toContain('set TEMPORAL_ADDRESS')
  })
})
