import { spawn, type ChildProcess } from 'node:child_process'
import { readdir, readFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { childEnv } from '../../activities/config'

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url))

export interface Spawned {
  child: ChildProcess
  stdout(): string
  stderr(): string
  /** Resolves when stdout or stderr matches, rejects if the process exits first or on timeout. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>
  /** Ctrl-C in a terminal: SIGINT to the whole process group (our process and its children). */
  ctrlC(): void
  /** Resolves with the exit code; rejects if the process has not exited within `timeoutMs`. */
  exit(timeoutMs?: number): Promise<number | null>
}

/** Process groups started by this test process, stopped if it exits without stopping them. */
const groups = new Set<number>()
const killGroups = () => {
  for (const pgid of groups) {
    try {
      process.kill(-pgid, 'SIGKILL')
    } catch {
      // Already gone.
    }
  }
}
process.once('exit', killGroups)
// A test worker stopped by its runner (SIGTERM) takes the processes it started with it.
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    killGroups()
    process.exit(128 + (signal === 'SIGTERM' ? 15 : 2))
  })
}

/** Runs one of our entry points (`start.ts`, `api/main.ts`…) as a separate process, as npm would. */
export function spawnEntry(entry: string, env: Record<string, string>): Spawned {
  const child = spawn(process.execPath, ['--import', 'tsx', entry], {
    cwd: repoRoot,
    env: childEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group, like a command started from a shell, so that ctrlC() reaches the
    // children it starts (PostgreSQL, the Temporal dev server) as a terminal's Ctrl-C does.
    detached: true,
  })
  if (child.pid) groups.add(child.pid)
  let out = ''
  let err = ''
  const listeners = new Set<() => void>()
  child.stdout!.on('data', (chunk: Buffer) => {
    out += chunk
    listeners.forEach((l) => l())
  })
  child.stderr!.on('data', (chunk: Buffer) => {
    err += chunk
    listeners.forEach((l) => l())
  })
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      if (child.pid) groups.delete(child.pid)
      resolve(code)
    }),
  )
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    waitFor(pattern, timeoutMs = 120_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (pattern.test(out) || pattern.test(err)) done(resolve)
        }
        const timer = setTimeout(
          () =>
            done(() => reject(new Error(`no ${pattern} after ${timeoutMs} ms:\n${out}\n${err}`))),
          timeoutMs,
        )
        const done = (fn: () => void) => {
          clearTimeout(timer)
          listeners.delete(check)
          fn()
        }
        listeners.add(check)
        void exited.then((code) =>
          done(() => reject(new Error(`exited (${code}) before ${pattern}:\n${out}\n${err}`))),
        )
        check()
      })
    },
    ctrlC() {
      process.kill(-child.pid!, 'SIGINT')
    },
    async exit(timeoutMs = 30_000) {
      let timer: NodeJS.Timeout | undefined
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          child.kill('SIGKILL')
          reject(new Error(`${entry} did not exit within ${timeoutMs} ms:\n${out}\n${err}`))
        }, timeoutMs)
      })
      try {
        return await Promise.race([exited, timeout])
      } finally {
        clearTimeout(timer)
      }
    },
  }
}

/** Processes whose command line mentions `needle` (e.g. a data directory): leftovers. */
export async function processesMentioning(needle: string): Promise<string[]> {
  const found: string[] = []
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue
    try {
      const cmdline = (await readFile(path.join('/proc', pid, 'cmdline'), 'utf8')).replace(
        /\0/g,
        ' ',
      )
      if (cmdline.includes(needle)) found.push(`${pid}: ${cmdline}`)
    } catch {
      // The process ended while we looked.
    }
  }
  return found
}
