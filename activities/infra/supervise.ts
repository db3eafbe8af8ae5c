import { spawn, type ChildProcess } from 'node:child_process'
import { StartupError } from './errors'
import type { Logger } from './logger'

/** What the supervised process sends (IPC) once it serves: the API's base URL. */
export interface ReadyMessage {
  type: 'ready'
  url: string
}

export interface Supervised {
  /** Resolves on the first start's ready message; rejects if that start exits before it. */
  firstReady: Promise<ReadyMessage>
  /** Resolves when the process exited more than `maxRestarts` times in a row: given up. */
  gaveUp: Promise<void>
  /** The pid of the running process (undefined between an exit and its restart). */
  pid(): number | undefined
  /** Stops it (SIGTERM, then SIGKILL after `graceMs`) and restarts nothing more. Idempotent. */
  stop(graceMs?: number): Promise<void>
}

export interface SuperviseOptions {
  /** The entry file, run with this process's Node options (the tsx loader). */
  entry: string
  env: NodeJS.ProcessEnv
  /** Restarts in a row before giving up; a process that served `healthyAfterMs` resets the count. */
  maxRestarts: number
  log: Logger
  /** Wait before restart n (1, 2, …): doubling from 1 s, at most 30 s. */
  backoffMs?: (restart: number) => number
  healthyAfterMs?: number
  /** How the process is named in the log. */
  name?: string
}

const defaultBackoff = (restart: number) => Math.min(1_000 * 2 ** (restart - 1), 30_000)

/**
 * Runs a process of ours (npm start's API + worker) and starts it again when it dies by itself:
 * bounded (`maxRestarts` in a row), with backoff, each exit and restart logged. The process runs
 * in its own process group, so that a terminal's Ctrl-C reaches only us and we stop it first,
 * before the servers it depends on; it watches its IPC channel and stops itself should we die.
 */
export function supervise(options: SuperviseOptions): Supervised {
  const { log, maxRestarts } = options
  const name = options.name ?? 'the API and worker process'
  const backoff = options.backoffMs ?? defaultBackoff
  const healthyAfterMs = options.healthyAfterMs ?? 60_000
  let child: ChildProcess | undefined
  let stopping = false
  let everReady = false
  let readyAt: number | undefined
  let streak = 0
  let restartTimer: NodeJS.Timeout | undefined
  let resolveFirst!: (m: ReadyMessage) => void
  let rejectFirst!: (e: Error) => void
  const firstReady = new Promise<ReadyMessage>((resolve, reject) => {
    resolveFirst = resolve
    rejectFirst = reject
  })
  let resolveGaveUp!: () => void
  const gaveUp = new Promise<void>((resolve) => (resolveGaveUp = resolve))

  const start = () => {
    restartTimer = undefined
    const started = spawn(process.execPath, [...process.execArgv, options.entry], {
      env: options.env,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      detached: true,
    })
    child = started
    log.info({ pid: started.pid, restarts: streak }, `${name} started`)
    started.on('message', (message: Partial<ReadyMessage>) => {
      if (message?.type !== 'ready' || typeof message.url !== 'string') return
      readyAt = Date.now()
      if (everReady) log.info({ pid: started.pid }, `${name} serves again`)
      everReady = true
      resolveFirst({ type: 'ready', url: message.url })
    })
    started.once('exit', (code, signal) => {
      child = undefined
      if (stopping) return
      if (!everReady) {
        rejectFirst(
          new StartupError(
            'APP_START_FAILED',
            `${name} could not start (${signal ?? `exit code ${code}`}); its reason is above`,
          ),
        )
        return
      }
      // A process that served for a while before dying starts a new count.
      if (readyAt !== undefined && Date.now() - readyAt >= healthyAfterMs) streak = 0
      readyAt = undefined
      streak += 1
      if (streak > maxRestarts) {
        log.error(
          { code, signal, restarts: maxRestarts },
          `${name} keeps exiting: giving up, stopping the embedded servers`,
        )
        resolveGaveUp()
        return
      }
      const waitMs = backoff(streak)
      log.error(
        { code, signal, restart: streak, of: maxRestarts, inMs: waitMs },
        `${name} exited by itself; restarting it`,
      )
      restartTimer = setTimeout(start, waitMs)
    })
  }
  start()

  return {
    firstReady,
    gaveUp,
    pid: () => child?.pid,
    async stop(graceMs = 20_000) {
      stopping = true
      clearTimeout(restartTimer)
      const running = child
      if (!running || running.exitCode !== null || running.signalCode !== null) return
      const exited = new Promise<void>((resolve) => running.once('exit', () => resolve()))
      running.kill('SIGTERM')
      const force = setTimeout(() => running.kill('SIGKILL'), graceMs)
      await exited
      clearTimeout(force)
    },
  }
}
