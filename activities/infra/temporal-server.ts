import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { Connection } from '@temporalio/client'
import { SearchAttributeType } from '@temporalio/common'
import { caseSearchAttributes } from '../../workflows/search-attributes'
import { childEnv } from '../config'
import { spawnServer, stopLeftover } from './child-processes'
import { StartupError } from './errors'
import type { Logger } from './logger'
import { assertPortsFree, freePort } from './ports'

export interface DevServer {
  address: string
  namespace: string
  uiUrl?: string
  /** Stops the server and waits for its process to exit. Safe to call twice. */
  stop(): Promise<void>
  /** The server's process id, when we started it as a child. */
  pid?: number
}

export interface DevServerOptions {
  binary: string
  /** Holds the SQLite file (cases survive a restart) and the server's log. */
  dir: string
  host: string
  /** 0 picks a free port. */
  port: number
  /** 0 picks a free port; `undefined` runs without the Web UI. */
  uiPort?: number
  namespace: string
  log: Logger
  readyTimeoutMs?: number
  uiCodecEndpoint?: string
}

const typeNames: Record<SearchAttributeType, string> = {
  [SearchAttributeType.TEXT]: 'Text',
  [SearchAttributeType.KEYWORD]: 'Keyword',
  [SearchAttributeType.INT]: 'Int',
  [SearchAttributeType.DOUBLE]: 'Double',
  [SearchAttributeType.BOOL]: 'Bool',
  [SearchAttributeType.DATETIME]: 'Datetime',
  [SearchAttributeType.KEYWORD_LIST]: 'KeywordList',
}

const LOOPBACK = /^(127(\.\d{1,3}){3}|::1|localhost)$/

/**
 * Where the dev server listens: loopback, always. Its frontend takes any command from anyone who
 * reaches it (no TLS, no authentication), so even with HOST=0.0.0.0 for the API, Temporal and its
 * Web UI stay on this machine (docs/security-commands.md).
 */
export function loopbackHost(host: string): string {
  return LOOPBACK.test(host) ? host : '127.0.0.1'
}

/**
 * Starts `temporal server start-dev` bound to `host`, with its state in a SQLite file under `dir`
 * and the cases' search attributes registered, and resolves once the namespace answers.
 */
export async function startDevServer(options: DevServerOptions): Promise<DevServer> {
  const { binary, dir, namespace, log } = options
  const host = loopbackHost(options.host)
  const port = options.port || (await freePort(host))
  const uiPort = options.uiPort === 0 ? await freePort(host) : options.uiPort
  await stopLeftoverDevServer(dir, log)
  await assertPortsFree(host, [
    { port, purpose: 'the Temporal dev server (TEMPORAL_PORT)' },
    ...(uiPort ? [{ port: uiPort, purpose: 'the Temporal Web UI (TEMPORAL_UI_PORT)' }] : []),
  ])
  await mkdir(dir, { recursive: true })
  const pidFile = path.join(dir, 'server.pid')
  const args = [
    'server',
    'start-dev',
    '--ip',
    host,
    '--port',
    String(port),
    '--db-filename',
    path.join(dir, 'temporal.db'),
    '--namespace',
    namespace,
    '--log-level',
    'warn',
    ...caseSearchAttributes.flatMap((key) => [
      '--search-attribute',
      `${key.name}=${typeNames[key.type]}`,
    ]),
    ...(uiPort ? ['--ui-port', String(uiPort), '--ui-ip', host] : ['--headless']),
    ...(uiPort && options.uiCodecEndpoint ? ['--ui-codec-endpoint', options.uiCodecEndpoint] : []),
  ]
  const logFile = path.join(dir, 'server.log')
  const server = spawnServer(binary, args, { env: childEnv(), logFile })
  if (server.child.pid) await writeFile(pidFile, String(server.child.pid))
  const stop = async () => {
    await server.stop('SIGTERM', 'SIGKILL', 10_000)
    await rm(pidFile, { force: true })
  }

  const address = `${host}:${port}`
  log.debug({ address, pid: server.child.pid }, 'temporal dev server starting')
  try {
    await waitUntilReady(address, namespace, server.exited, options.readyTimeoutMs ?? 60_000)
  } catch (error) {
    await stop()
    const why = server.tail().slice(-3).join(' | ')
    throw new StartupError(
      'TEMPORAL_START_FAILED',
      `the Temporal dev server did not start: ${(error as Error).message}${why ? ` (server said: ${why})` : ''}; log: ${logFile}`,
    )
  }
  return {
    address,
    namespace,
    uiUrl: uiPort ? `http://${host}:${uiPort}` : undefined,
    stop,
    pid: server.child.pid,
  }
}

/** Stops a dev server of `dir` that a killed earlier run left behind (see stopLeftover). */
export async function stopLeftoverDevServer(dir: string, log: Logger): Promise<void> {
  const pidFile = path.join(dir, 'server.pid')
  const pid = Number(await readFile(pidFile, 'utf8').catch(() => ''))
  if (pid) await stopLeftover(pid, path.join(dir, 'temporal.db'), 'SIGTERM', log)
  await rm(pidFile, { force: true })
}

async function waitUntilReady(
  address: string,
  namespace: string,
  exited: Promise<number>,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let gone: number | null | undefined
  void exited.then((code) => (gone = code))
  let lastError = 'no answer'
  while (Date.now() < deadline) {
    if (gone !== undefined) throw new Error(`it exited with code ${gone}`)
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1_000 })
      try {
        await connection.workflowService.describeNamespace({ namespace })
        return
      } finally {
        await connection.close()
      }
    } catch (error) {
      lastError = (error as Error).message
    }
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
  throw new Error(`not ready after ${Math.round(timeoutMs / 1000)}s (${lastError})`)
}

/**
 * Last resort when no binary can be found or built: the SDK downloads a dev server (needs the
 * internet). Same persistence and search attributes as our own start.
 */
export async function startDownloadedDevServer(
  options: Omit<DevServerOptions, 'binary'>,
): Promise<DevServer> {
  const { TestWorkflowEnvironment } = await import('@temporalio/testing')
  const host = loopbackHost(options.host)
  const port = options.port || (await freePort(host))
  await mkdir(options.dir, { recursive: true })
  let env: Awaited<ReturnType<typeof TestWorkflowEnvironment.createLocal>>
  try {
    env = await TestWorkflowEnvironment.createLocal({
      server: {
        executable: { type: 'cached-download' },
        ip: host,
        port,
        ui: options.uiPort !== undefined,
        uiPort: options.uiPort || undefined,
        dbFilename: path.join(options.dir, 'temporal.db'),
        namespace: options.namespace,
        searchAttributes: caseSearchAttributes,
      },
    })
  } catch (error) {
    throw new StartupError(
      'TEMPORAL_UNAVAILABLE',
      `no Temporal server could be provided (${(error as Error).message.split('\n')[0]}). Either set TEMPORAL_ADDRESS to a running cluster, put a \`temporal\` binary on the PATH or in TEMPORAL_CLI_PATH, or install Go so that it can be built`,
    )
  }
  return {
    address: `${host}:${port}`,
    namespace: options.namespace,
    uiUrl: options.uiPort ? `http://${host}:${options.uiPort}` : undefined,
    stop: () => env.teardown(),
  }
}
