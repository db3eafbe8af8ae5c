import { fork, type ChildProcess } from 'node:child_process'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Client } from '@temporalio/client'
import { loadConfig } from '../../activities/config'
import { loadFieldCipher, loadPayloadCodec } from '../../activities/crypto/keyring'
import { loadCommandKeys } from '../../activities/crypto/command-signing'
import { createDb, type Db } from '../../activities/db/db'
import { migrateToLatest } from '../../activities/db/migrate'
import { createLogger, type Logger } from '../../activities/infra/logger'
import { freePort } from '../../activities/infra/ports'
import { startStack, type Stack } from '../../activities/infra/stack'
import { connectClient } from '../../activities/infra/temporal-client'
import { createApiToken } from '../../api/auth/sessions'
import { seedForCases } from '../../test/helpers/fixtures'
import { spawnNode, repoRoot, type NodeChild } from './children'
import type { Job } from './generator'

/** Category whose SLA policy the timer storm (S4) sets in seconds. */
export const STORM_CATEGORY = 'data_correction'
export const RAW_TASK_QUEUE = 'bench-raw'

export interface Generator {
  pid: number
  run<T>(job: Job): Promise<T>
  stop(): Promise<void>
}

/** Forks the load generator (a separate process) and sends it one job at a time. */
export function startGenerator(): Generator {
  const child: ChildProcess = fork(fileURLToPath(new URL('./generator.ts', import.meta.url)), [], {
    execArgv: ['--import', 'tsx'],
    cwd: repoRoot,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  let nextId = 0
  const waiting = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>()
  child.on('message', (m: { id: number; result?: unknown; error?: string }) => {
    const w = waiting.get(m.id)
    waiting.delete(m.id)
    if (m.error) w?.reject(new Error(`load generator: ${m.error}`))
    else w?.resolve(m.result)
  })
  child.once('exit', () => {
    for (const w of waiting.values()) w.reject(new Error('the load generator exited'))
  })
  return {
    pid: child.pid!,
    run<T>(job: Job) {
      const id = nextId++
      return new Promise<T>((resolve, reject) => {
        waiting.set(id, { resolve: resolve as (v: unknown) => void, reject })
        child.send({ id, job })
      })
    },
    async stop() {
      if (child.exitCode !== null) return
      const exited = new Promise((resolve) => child.once('exit', resolve))
      child.disconnect()
      const force = setTimeout(() => child.kill('SIGKILL'), 10_000)
      await exited
      clearTimeout(force)
    },
  }
}

export interface Bench {
  dataDir: string
  log: Logger
  stack: Stack
  db: Db
  /** A client with the payload codec, as the API's (for setup: opening cases directly). */
  client: Client
  taskQueue: string
  apiUrl: string
  rawHonoUrl: string
  worker: NodeChild
  api: NodeChild
  rawWorker: NodeChild
  rawHono: NodeChild
  gen: Generator
  /** Case workers registering cases, one per commune (bearer tokens). */
  intakeClients: { token: string; communeCode: string }[]
  /** Bearer token of every case worker and supervisor, by user id (to complete their tasks). */
  tokenByUser: Map<string, string>
  /** The national programme manager (lists and dashboards). */
  managerToken: string
  pids(): Record<string, number>
  stop(): Promise<void>
}

/**
 * Starts the system under test as a deployment would run it, on this machine: the embedded
 * PostgreSQL, Temporal dev server and mail sink in a temporary DATA_DIR, then `npm run worker`
 * and `npm run api` as separate processes (so their RSS and CPU are measured apart), the raw
 * baselines' minimal worker and Hono server, and the load generator.
 */
export async function startBench(options: { profileDir?: string } = {}): Promise<Bench> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'rsu-bench-'))
  const logDir = path.join(dataDir, 'logs')
  await mkdir(logDir)
  const config = loadConfig(
    {
      DATA_DIR: dataDir,
      TEMPORAL_PORT: '0',
      TEMPORAL_UI_PORT: '0',
      SMTP_PORT: '0',
      MAIL_UI_PORT: '0',
      LOG_LEVEL: 'warn',
    },
    { inherit: true },
  )
  const log = createLogger('warn', false)
  const parts: { stop(): Promise<void> }[] = []
  const stopAll = async () => {
    for (const p of parts.reverse()) await p.stop().catch(() => {})
  }
  try {
    const stack = await startStack(config, log, { withUi: false })
    parts.push({ stop: () => stack.stop() })
    // Should the harness die without its teardown, the servers (own process groups) go with it.
    const killServers = () => {
      for (const { pid, signal } of stack.processes) {
        try {
          process.kill(pid, signal)
        } catch {
          // Already gone.
        }
      }
    }
    process.once('exit', killServers)
    parts.push({ stop: async () => void process.off('exit', killServers) })
    const db = createDb(stack.databaseUrl, { max: 8 })
    parts.push({ stop: () => db.destroy() })
    await migrateToLatest(db)
    await seedForCases(db, [
      { category: STORM_CATEGORY, targets: { resolve: 60, escalationRepeat: 3600 } },
    ])
    // Keys created once here, shared through DATA_DIR by every process (as on one machine).
    const codec = await loadPayloadCodec(config)
    await loadFieldCipher(config)
    const commandKeys = await loadCommandKeys(config)
    const client = await connectClient(stack.temporal, { codec, commandKeys })
    parts.push({ stop: () => client.connection.close() })

    const apiPort = await freePort()
    const env = {
      DATA_DIR: dataDir,
      DATABASE_URL: stack.databaseUrl,
      TEMPORAL_ADDRESS: stack.temporal.address,
      SMTP_URL: stack.mail.smtpUrl!,
      API_PORT: String(apiPort),
      LOG_LEVEL: 'info',
    }
    // One directory per process: Node writes one profile per thread (the workflow threads too).
    const profile = (name: string) =>
      options.profileDir
        ? [
            '--cpu-prof',
            `--cpu-prof-dir=${path.join(options.profileDir, name)}`,
            '--cpu-prof-interval=2000',
          ]
        : []
    const worker = spawnNode('worker', 'activities/worker-main.ts', env, {
      logFile: path.join(logDir, 'worker.log'),
      nodeArgs: profile('worker'),
    })
    parts.push(worker)
    const api = spawnNode('api', 'api/main.ts', env, {
      logFile: path.join(logDir, 'api.log'),
      nodeArgs: profile('api'),
    })
    parts.push(api)
    const rawWorker = spawnNode(
      'raw-worker',
      'bench/raw/worker.ts',
      {},
      {
        logFile: path.join(logDir, 'raw-worker.log'),
        args: [stack.temporal.address, RAW_TASK_QUEUE],
        nodeArgs: profile('raw-worker'),
      },
    )
    parts.push(rawWorker)
    const honoPort = await freePort()
    const rawHono = spawnNode(
      'raw-hono',
      'bench/raw/hono.ts',
      {},
      {
        logFile: path.join(logDir, 'raw-hono.log'),
        args: ['127.0.0.1', String(honoPort)],
      },
    )
    parts.push(rawHono)
    const gen = startGenerator()
    parts.push(gen)
    await Promise.all([
      worker.waitFor(/worker running/),
      api.waitFor(/API listening/),
      rawWorker.waitFor(/raw worker running/),
      rawHono.waitFor(/raw hono listening/),
    ])

    // Bearer tokens (the API's system access) for the case workers, supervisors and the manager.
    const users = await db
      .selectFrom('users')
      .innerJoin('userRoles', 'userRoles.userId', 'users.id')
      .innerJoin('adminAreas', 'adminAreas.code', 'userRoles.areaCode')
      .select([
        'users.id',
        'users.username',
        'userRoles.roleCode',
        'userRoles.areaCode',
        'adminAreas.level',
      ])
      .where('userRoles.roleCode', 'in', ['case_worker', 'supervisor', 'programme_manager'])
      .execute()
    const tokenByUser = new Map<string, string>()
    for (const u of users) {
      if (tokenByUser.has(u.id)) continue
      const { token } = await createApiToken(db, { name: `bench ${u.username}`, userId: u.id })
      tokenByUser.set(u.id, token)
    }
    const intakeClients = users
      .filter(
        (u) => u.roleCode === 'case_worker' && u.level === 'commune' && u.username.endsWith('.1'),
      )
      .sort((a, b) => a.areaCode.localeCompare(b.areaCode))
      .map((u) => ({ token: tokenByUser.get(u.id)!, communeCode: u.areaCode }))
    const manager = users.find((u) => u.roleCode === 'programme_manager' && u.areaCode === 'ML')
    if (!manager || intakeClients.length === 0)
      throw new Error('the demo seed has no manager or agents')

    return {
      dataDir,
      log,
      stack,
      db,
      client,
      taskQueue: config.temporal.taskQueue,
      apiUrl: `http://127.0.0.1:${apiPort}`,
      rawHonoUrl: `http://127.0.0.1:${honoPort}/`,
      worker,
      api,
      rawWorker,
      rawHono,
      gen,
      intakeClients,
      tokenByUser,
      managerToken: tokenByUser.get(manager.id)!,
      pids: () => ({
        worker: worker.pid,
        api: api.pid,
        'raw-worker': rawWorker.pid,
        'raw-hono': rawHono.pid,
        generator: gen.pid,
        ...(stack.processes[0] ? { postgres: stack.processes[0].pid } : {}),
        ...(stack.processes[1] ? { temporal: stack.processes[1].pid } : {}),
      }),
      stop: async () => {
        await stopAll()
        await rm(dataDir, { recursive: true, force: true })
      },
    }
  } catch (error) {
    await stopAll()
    await rm(dataDir, { recursive: true, force: true })
    throw error
  }
}
