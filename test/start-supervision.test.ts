import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { freePort } from '../activities/infra/ports'
import { processesMentioning, spawnEntry, type Spawned } from './helpers/processes'

/**
 * `npm start` runs the API and the worker in a child process and supervises it: a child that dies
 * (here SIGKILL, as the OOM killer or an uncaught driver error would end it) is started again; one
 * that keeps dying makes `npm start` give up and stop the servers it started, leaving no orphan.
 */
let dataDir: string
let run: Spawned | undefined
afterAll(async () => {
  if (run && run.child.exitCode === null) {
    run.child.kill('SIGKILL')
    await run.exit().catch(() => undefined)
  }
  await rm(dataDir, { recursive: true, force: true })
})

const alive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/** Pids of the API + worker processes, in the order npm start started them. */
const appPids = (output: string) =>
  [
    ...output.matchAll(/"pid":(\d+),"restarts":\d+,"msg":"the API and worker process started"/g),
  ].map((m) => Number(m[1]))

describe('npm start supervising its API and worker process', () => {
  it('restarts it when it dies, and on giving up stops the embedded servers: nothing left behind', async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'rsu-supervise-'))
    const apiPort = await freePort()
    run = spawnEntry('start.ts', {
      DATA_DIR: dataDir,
      API_PORT: String(apiPort),
      TEMPORAL_PORT: String(await freePort()),
      TEMPORAL_UI_PORT: String(await freePort()),
      SMTP_PORT: String(await freePort()),
      MAIL_UI_PORT: String(await freePort()),
      DATABASE_URL: '',
      TEMPORAL_ADDRESS: '',
      SMTP_URL: '',
      SEED_DEMO: 'false',
      LOG_LEVEL: 'info',
      // One restart in a row, then give up.
      EMBEDDED_RESTARTS: '1',
    })
    const output = () => run!.stdout() + run!.stderr()
    await run.waitFor(/Press Ctrl-C to stop/, 240_000)
    const [first] = appPids(output())
    expect(first).toBeGreaterThan(0)
    expect(first).not.toBe(run.child.pid)

    process.kill(first!, 'SIGKILL')
    await run.waitFor(/exited by itself; restarting it/, 30_000)
    await run.waitFor(/serves again/, 120_000)
    const [, second] = appPids(output())
    expect(second).toBeGreaterThan(0)
    expect(second).not.toBe(first)
    const ready = await fetch(`http://127.0.0.1:${apiPort}/api/health/ready`)
    expect(ready.status).toBe(200)
    expect(alive(run.child.pid!), 'npm start itself lives on').toBe(true)

    // Dies again at once: past EMBEDDED_RESTARTS, npm start gives up and stops everything.
    process.kill(second!, 'SIGKILL')
    expect(await run.exit(60_000), output()).toBe(1)
    expect(output()).toMatch(/keeps exiting: giving up, stopping the embedded servers/)
    expect(await processesMentioning(dataDir)).toEqual([])
    expect([first, second].filter((pid) => alive(pid!))).toEqual([])
  }, 400_000)
})
