import path from 'node:path'
import type { Config } from '../config'
import { startMailSink, type MailSink } from '../mail/sink'
import type { Logger } from './logger'
import { assertPortsFree, type PortClaim } from './ports'
import { startDatabase, type DatabaseServer } from './postgres'
import { resolveTemporalBinary } from './temporal-binary'
import { ensureSearchAttributes } from './search-attributes'
import { connectClient, type TemporalSettings } from './temporal-client'
import {
  startDevServer,
  startDownloadedDevServer,
  stopLeftoverDevServer,
  type DevServer,
} from './temporal-server'

/** What the processes of the system connect to, whether we started it or it was configured. */
export interface Stack {
  databaseUrl: string
  temporal: TemporalSettings & { uiUrl?: string; embedded: boolean }
  mail: { smtpUrl?: string; uiUrl?: string; sink?: MailSink }
  /** Stops what this process started, in reverse order. */
  stop(): Promise<void>
  /**
   * The servers this process started (they run in their own process groups), with the signal that
   * stops each at once: SIGINT is PostgreSQL's fast shutdown (SIGTERM would wait for clients).
   */
  processes: { pid: number; signal: NodeJS.Signals }[]
}

export interface StackOptions {
  /** Ports the caller will need too (the API's), checked with the others before anything starts. */
  extraPorts?: PortClaim[]
  /** Start the Temporal Web UI and the mail sink page (the embedded default: yes). */
  withUi?: boolean
  /** Where the embedded Web UI asks to decode encrypted payloads (our API's codec endpoint). */
  uiCodecEndpoint?: string
}

/**
 * Resolves each part of the embedded default (DESIGN §2): what is configured is used as is, what
 * is not is started here, with its state under DATA_DIR so that a restart loses nothing.
 */
export async function startStack(
  config: Config,
  log: Logger,
  options: StackOptions = {},
): Promise<Stack> {
  const withUi = options.withUi ?? true
  // A dev server left by a killed earlier run would hold the ports checked below.
  if (!config.temporal.address)
    await stopLeftoverDevServer(path.join(config.dataDir, 'temporal'), log)
  await assertPortsFree(config.host, [
    ...(options.extraPorts ?? []),
    ...(config.temporal.address
      ? []
      : [
          { port: config.temporal.port, purpose: 'the Temporal dev server (TEMPORAL_PORT)' },
          ...(withUi
            ? [{ port: config.temporal.uiPort, purpose: 'the Temporal Web UI (TEMPORAL_UI_PORT)' }]
            : []),
        ]),
    ...(config.mail.smtpUrl
      ? []
      : [
          { port: config.mail.smtpPort, purpose: 'the mail sink (SMTP_PORT)' },
          ...(withUi
            ? [{ port: config.mail.uiPort, purpose: 'the mail sink page (MAIL_UI_PORT)' }]
            : []),
        ]),
  ])

  const started: { stop(): Promise<void> }[] = []
  const track = <T extends { stop(): Promise<void> }>(part: T): T => {
    started.push(part)
    return part
  }
  const stopAll = async () => {
    for (const part of started.reverse()) {
      await part.stop().catch((error: unknown) => log.warn({ err: error }, 'stop failed'))
    }
  }
  // Wait for every part, whatever happens to the others: one failing while another is still
  // starting would otherwise stop what was started so far and leave the late one running.
  try {
    const parts = [
      startDatabase({
        url: config.database.url,
        dir: path.join(config.dataDir, 'postgres'),
        log,
      }).then((db: DatabaseServer) => track(db)),
      startTemporal(config, log, withUi, options.uiCodecEndpoint).then((t) =>
        t.server ? track(t.server) && t : t,
      ),
      config.mail.smtpUrl
        ? Promise.resolve({ smtpUrl: config.mail.smtpUrl })
        : startMailSink({
            host: config.host,
            smtpPort: config.mail.smtpPort,
            uiPort: withUi ? config.mail.uiPort : undefined,
            dir: path.join(config.dataDir, 'mail'),
            log,
          }).then((sink) => ({ smtpUrl: track(sink).smtpUrl, uiUrl: sink.uiUrl, sink })),
    ] as const
    await Promise.allSettled(parts)
    // Every part is now started (and tracked) or failed: a failure stops them all below.
    const [database, temporal, mail] = await Promise.all(parts)
    return {
      databaseUrl: database.url,
      temporal: temporal.settings,
      mail,
      stop: stopAll,
      processes: [
        ...(database.pid ? [{ pid: database.pid, signal: 'SIGINT' as const }] : []),
        ...(temporal.server?.pid ? [{ pid: temporal.server.pid, signal: 'SIGTERM' as const }] : []),
      ],
    }
  } catch (error) {
    await stopAll()
    throw error
  }
}

async function startTemporal(
  config: Config,
  log: Logger,
  withUi: boolean,
  uiCodecEndpoint?: string,
): Promise<{ settings: Stack['temporal']; server?: DevServer }> {
  const { namespace, tls, apiKey } = config.temporal
  if (config.temporal.address) {
    const settings = { address: config.temporal.address, namespace, tls, apiKey }
    // A cluster we did not start: the cases' search attributes may be missing on it.
    const client = await connectClient(settings)
    try {
      await ensureSearchAttributes(client, settings, config.temporal.searchAttributes, log)
    } finally {
      await client.connection.close()
    }
    return { settings: { ...settings, embedded: false } }
  }
  const binary = await resolveTemporalBinary({
    cliPath: config.temporal.cliPath,
    searchPath: config.temporal.searchPath,
    cacheDir: config.cacheDir,
    log,
  })
  const serverOptions = {
    dir: path.join(config.dataDir, 'temporal'),
    host: config.host,
    port: config.temporal.port,
    uiPort: withUi ? config.temporal.uiPort : undefined,
    uiCodecEndpoint,
    namespace,
    log,
  }
  if (binary.kind === 'binary')
    log.info({ binary: binary.path, source: binary.source }, 'temporal cli')
  const server =
    binary.kind === 'binary'
      ? await startDevServer({ ...serverOptions, binary: binary.path })
      : await startDownloadedDevServer(serverOptions)
  return {
    settings: { address: server.address, namespace, embedded: true, uiUrl: server.uiUrl },
    server,
  }
}
