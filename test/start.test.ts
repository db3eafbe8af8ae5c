import { randomUUID } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Client, Connection } from '@temporalio/client'
import { afterAll, describe, expect, it } from 'vitest'
import { EncryptionCodec, loadOrCreateKeyring } from '../activities/crypto/payload-codec'
import { freePort } from '../activities/infra/ports'
import { commandInterceptors, encryptedDataConverter } from '../activities/infra/temporal-client'
import { caseSnapshotQuery, caseWorkflowId, closeCaseUpdate } from '../workflows/messages'
import { grievanceInput } from './helpers/fixtures'
import { processesMentioning, spawnEntry } from './helpers/processes'
import { eventually } from './helpers/temporal'

/**
 * `npm start` as a newcomer runs it: no configuration but a data directory and free ports, twice
 * in a row. Everything comes up, Ctrl-C leaves nothing behind, and the second start reuses the
 * Temporal binary and the data.
 */
/** Only what a newcomer has, no external service configured, and free ports. */
async function embeddedEnv(dataDir: string) {
  return {
    DATA_DIR: dataDir,
    API_PORT: String(await freePort()),
    TEMPORAL_PORT: String(await freePort()),
    TEMPORAL_UI_PORT: String(await freePort()),
    SMTP_PORT: String(await freePort()),
    MAIL_UI_PORT: String(await freePort()),
    DATABASE_URL: '',
    TEMPORAL_ADDRESS: '',
    SMTP_URL: '',
    LOG_LEVEL: 'info',
  }
}

describe('npm start on embedded defaults', () => {
  let dataDir: string
  afterAll(() => rm(dataDir, { recursive: true, force: true }))

  it('comes up, stops cleanly on Ctrl-C, and comes back with its cases', async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'rsu-start-'))
    const env = await embeddedEnv(dataDir)
    const ports = {
      TEMPORAL_PORT: env.TEMPORAL_PORT,
      TEMPORAL_UI_PORT: env.TEMPORAL_UI_PORT,
      MAIL_UI_PORT: env.MAIL_UI_PORT,
    }
    const api = `http://127.0.0.1:${env.API_PORT}`

    const first = spawnEntry('start.ts', env)
    await first.waitFor(/Press Ctrl-C to stop/, 180_000)
    expect(first.stdout()).toMatch(/Demo data\s+seeded: \d+ users/)
    expect(first.stdout()).toContain(`Console       ${api}/admin/`)

    const ready = await fetch(`${api}/api/health/ready`)
    expect(ready.status).toBe(200)
    expect(await ready.json()).toMatchObject({ status: 'ready' })
    expect((await fetch(`http://127.0.0.1:${ports.TEMPORAL_UI_PORT}/`)).status).toBe(200)
    const sink = await fetch(`http://127.0.0.1:${ports.MAIL_UI_PORT}/`)
    expect(sink.status).toBe(200)
    expect(await sink.text()).toContain('Courriels reçus')
    expect((await fetch(`${api}/admin/`)).status).toBe(200)

    // A second start on the same data directory is refused in one line; the first one lives on.
    const twin = spawnEntry('start.ts', { ...(await embeddedEnv(dataDir)) })
    expect(await twin.exit()).toBe(1)
    expect(twin.stderr()).toContain('[DATA_DIR_IN_USE]')
    expect((await fetch(`${api}/api/health/ready`)).status).toBe(200)

    // A case opened before the restart, handled by the worker inside `npm start`.
    const input = grievanceInput({ caseId: `G-${randomUUID().slice(0, 8)}` })
    // The embedded default encrypts payloads with a key file it created in the data directory.
    const dataConverter = encryptedDataConverter(
      new EncryptionCodec(await loadOrCreateKeyring(path.join(dataDir, 'payload-keys.json'))),
    )
    const connection = await Connection.connect({ address: `127.0.0.1:${ports.TEMPORAL_PORT}` })
    // …and signs its commands with the command key file it created there.
    const interceptors = commandInterceptors(
      await loadOrCreateKeyring(path.join(dataDir, 'command-keys.json')),
    )
    const client = new Client({ connection, dataConverter, interceptors })
    const handle = await client.workflow.start('grievanceWorkflow', {
      workflowId: caseWorkflowId(input.caseId),
      taskQueue: 'rsu-casework',
      args: [input],
    })
    const opened = await eventually(() => handle.query(caseSnapshotQuery).catch(() => undefined))
    expect(opened).toMatchObject({ status: 'open' })
    await connection.close()

    first.ctrlC()
    expect(await first.exit(), first.stdout() + first.stderr()).toBe(0)
    expect(first.stdout()).not.toContain('a shutdown step failed')
    expect(await processesMentioning(dataDir)).toEqual([])

    const second = spawnEntry('start.ts', env)
    await second.waitFor(/Press Ctrl-C to stop/, 120_000)
    const output = second.stdout() + second.stderr()
    expect(output).toMatch(/Demo data\s+already seeded/)
    expect(output).toMatch(/"source":"(cache|PATH|TEMPORAL_CLI_PATH)"/)
    expect(output).not.toContain('Building the Temporal CLI')
    expect(output).not.toContain('creating the embedded PostgreSQL cluster')
    expect(output).not.toContain('database migrated')

    const connection2 = await Connection.connect({ address: `127.0.0.1:${ports.TEMPORAL_PORT}` })
    const handle2 = new Client({
      connection: connection2,
      dataConverter,
      interceptors,
    }).workflow.getHandle(caseWorkflowId(input.caseId))
    expect((await handle2.describe()).status.name).toBe('RUNNING')
    const closed = await handle2.executeUpdate(closeCaseUpdate, {
      args: [{ reason: 'resolved', actor: { userId: null, role: 'supervisor' } }],
    })
    expect(closed).toMatchObject({ caseId: input.caseId, status: 'closed' })
    await connection2.close()

    // `kill -INT <pid>`: only our process gets the signal; it stops its children itself.
    second.child.kill('SIGINT')
    expect(await second.exit(), second.stdout() + second.stderr()).toBe(0)
    expect(second.stdout()).not.toContain('a shutdown step failed')
    expect(await processesMentioning(dataDir)).toEqual([])
  }, 360_000)

  it('comes back after being killed outright, stopping the servers the killed run left', async () => {
    const env = await embeddedEnv(dataDir)
    const killed = spawnEntry('start.ts', env)
    await killed.waitFor(/Press Ctrl-C to stop/)
    // SIGKILL: no shutdown at all; PostgreSQL and the dev server are orphaned, still running.
    killed.child.kill('SIGKILL')
    await killed.exit()
    expect(await processesMentioning(dataDir)).not.toEqual([])

    const next = spawnEntry('start.ts', env)
    await next.waitFor(/Press Ctrl-C to stop/)
    expect(next.stdout()).toContain('stopping a server left running by an earlier run')
    const ready = await fetch(`http://127.0.0.1:${env.API_PORT}/api/health/ready`)
    expect(ready.status).toBe(200)
    next.ctrlC()
    expect(await next.exit(), next.stdout() + next.stderr()).toBe(0)
    expect(await processesMentioning(dataDir)).toEqual([])
  }, 240_000)
})
