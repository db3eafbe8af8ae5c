import { spawn } from 'node:child_process'
import { constants } from 'node:fs'
import { access, mkdir, mkdtemp, rename, rm } from 'node:fs/promises'
import path from 'node:path'
import lockfile from 'proper-lockfile'
import { childEnv } from '../config'
import { StartupError } from './errors'
import type { Logger } from './logger'

/**
 * The official Temporal CLI, which contains the dev server. v1.5.1 is the newest tag whose go.mod
 * has no `replace` directive, so the newest that `go install module@version` accepts.
 */
export const TEMPORAL_CLI_MODULE = 'github.com/temporalio/cli/cmd/temporal'
export const TEMPORAL_CLI_VERSION = 'v1.5.1'
/** Packages compiled by a cold `go install` of that version (measured), to show a percentage. */
const EXPECTED_PACKAGES = 1300

export type TemporalBinary =
  | { kind: 'binary'; path: string; source: 'TEMPORAL_CLI_PATH' | 'PATH' | 'cache' | 'go-build' }
  | { kind: 'sdk-download' }

export interface ResolveOptions {
  cliPath?: string
  searchPath: string[]
  cacheDir: string
  log: Logger
  /** Progress lines for a long build; defaults to the logger. */
  progress?: (line: string) => void
}

async function isExecutable(file: string): Promise<boolean> {
  try {
    await access(file, constants.X_OK)
    return true
  } catch {
    return false
  }
}

async function findOnPath(name: string, dirs: string[]): Promise<string | undefined> {
  for (const dir of dirs) {
    const candidate = path.join(dir, name)
    if (await isExecutable(candidate)) return candidate
  }
  return undefined
}

export function cachedBinaryPath(cacheDir: string): string {
  return path.join(cacheDir, `temporal-${TEMPORAL_CLI_VERSION}`, 'temporal')
}

/**
 * Finds a Temporal CLI, in the documented order: TEMPORAL_CLI_PATH, the PATH, our cache, a build
 * with Go into the cache; failing all, the SDK's own download is the last resort.
 */
export async function resolveTemporalBinary(options: ResolveOptions): Promise<TemporalBinary> {
  const { cliPath, searchPath, cacheDir, log } = options
  if (cliPath) {
    if (!(await isExecutable(cliPath))) {
      throw new StartupError(
        'TEMPORAL_CLI_NOT_FOUND',
        `TEMPORAL_CLI_PATH=${cliPath} is not an executable file`,
      )
    }
    return { kind: 'binary', path: path.resolve(cliPath), source: 'TEMPORAL_CLI_PATH' }
  }
  const onPath = await findOnPath('temporal', searchPath)
  if (onPath) return { kind: 'binary', path: onPath, source: 'PATH' }

  const cached = cachedBinaryPath(cacheDir)
  if (await isExecutable(cached)) return { kind: 'binary', path: cached, source: 'cache' }

  const go =
    (await findOnPath('go', searchPath)) ??
    ((await isExecutable('/usr/local/go/bin/go')) ? '/usr/local/go/bin/go' : undefined)
  if (go) {
    await buildWithGo(go, cached, log, options.progress ?? ((line) => log.info(line)))
    return { kind: 'binary', path: cached, source: 'go-build' }
  }
  log.warn('no temporal binary and no Go toolchain found: falling back to the SDK download')
  return { kind: 'sdk-download' }
}

/**
 * Builds the CLI with `go install` into the cache. A lock on the cache directory makes a second
 * process wait for the first build instead of compiling the same thing again in parallel.
 */
async function buildWithGo(
  go: string,
  target: string,
  log: Logger,
  progress: (line: string) => void,
): Promise<void> {
  const dir = path.dirname(target)
  await mkdir(dir, { recursive: true })
  const lockOptions = {
    realpath: false,
    // A build killed mid-way leaves a lock that stops being refreshed: taken over after 30 s.
    stale: 30_000,
    update: 10_000,
    onCompromised: (error: Error) => log.warn({ err: error }, 'temporal build lock was lost'),
  }
  let release: () => Promise<void>
  try {
    release = await lockfile.lock(dir, { ...lockOptions, retries: 0 })
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ELOCKED') throw error
    progress('Another process is building the Temporal CLI: waiting for it to finish…')
    release = await lockfile.lock(dir, {
      ...lockOptions,
      retries: { retries: 3_600, minTimeout: 1_000, maxTimeout: 1_000 },
    })
  }
  try {
    // Another process may have finished the build while we waited for the lock.
    if (await isExecutable(target)) return
    const staging = await mkdtemp(path.join(dir, 'build-'))
    const started = Date.now()
    progress(
      `Building the Temporal CLI ${TEMPORAL_CLI_VERSION} with Go, once (about 2 to 4 minutes on 2 cores with a fast module proxy); it is cached in ${dir}`,
    )
    const child = spawn(go, ['install', '-v', `${TEMPORAL_CLI_MODULE}@${TEMPORAL_CLI_VERSION}`], {
      env: childEnv({ GOBIN: staging, GOTOOLCHAIN: 'local' }),
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let compiled = 0
    const tail: string[] = []
    const onLine = (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n')) {
        if (!line.trim()) continue
        // `go install -v` names each package as it is compiled.
        if (!line.startsWith('go: ')) compiled++
        tail.push(line)
        if (tail.length > 30) tail.shift()
      }
    }
    child.stdout.on('data', onLine)
    child.stderr.on('data', onLine)
    const ticker = setInterval(() => {
      const seconds = Math.round((Date.now() - started) / 1000)
      const percent = Math.min(99, Math.round((compiled / EXPECTED_PACKAGES) * 100))
      progress(
        compiled === 0
          ? `Temporal CLI build: downloading modules… ${seconds}s`
          : `Temporal CLI build: ${compiled} packages compiled (~${percent}%), ${seconds}s`,
      )
    }, 10_000)
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject)
      child.once('exit', resolve)
    }).finally(() => clearInterval(ticker))
    if (code !== 0) {
      await rm(staging, { recursive: true, force: true })
      throw new StartupError(
        'TEMPORAL_BUILD_FAILED',
        `go install ${TEMPORAL_CLI_MODULE}@${TEMPORAL_CLI_VERSION} failed (exit ${code}): ${tail.slice(-5).join(' | ')}`,
      )
    }
    // Rename is atomic: a reader sees either no binary or a complete one.
    await rename(path.join(staging, 'temporal'), target)
    await rm(staging, { recursive: true, force: true })
    progress(
      `Temporal CLI built in ${Math.round((Date.now() - started) / 1000)}s (${compiled} packages): ${target}`,
    )
  } finally {
    await release()
  }
}
