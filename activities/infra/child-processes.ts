import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process'
import { createWriteStream } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { StartupError } from './errors'
import type { Logger } from './logger'

/**
 * An embedded server (PostgreSQL, the Temporal dev server) run as a child process in its own
 * process group: a Ctrl-C in the terminal reaches us, not the server, so the worker can finish
 * its tasks before we stop the servers it depends on, in order.
 */
export interface ServerProcess {
  child: ChildProcess
  /** The last lines the server wrote, for error messages. */
  tail(): string[]
  /** Resolves with the exit code (or -1 when killed by a signal) once the process ended. */
  exited: Promise<number>
  /** Sends `signal`, waits for the exit, and escalates to `force` after `graceMs`. Idempotent. */
  stop(signal: NodeJS.Signals, force: NodeJS.Signals, graceMs?: number): Promise<void>
}

export function spawnServer(
  command: string,
  args: string[],
  options: Pick<SpawnOptions, 'env' | 'uid' | 'gid'> & { logFile: string },
): ServerProcess {
  const logStream = createWriteStream(options.logFile, { flags: 'a' })
  const child = spawn(command, args, {
    env: options.env,
    uid: options.uid,
    gid: options.gid,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  })
  const lines: string[] = []
  const keep = (chunk: Buffer) => {
    logStream.write(chunk)
    for (const line of chunk.toString().split('\n')) {
      if (line.trim()) lines.push(line.trim())
      if (lines.length > 20) lines.shift()
    }
  }
  child.stdout!.on('data', keep)
  child.stderr!.on('data', keep)
  const exited = new Promise<number>((resolve) => {
    child.once('exit', (code) => resolve(code ?? -1))
    child.once('error', (error) => {
      lines.push(error.message)
      resolve(-1)
    })
  })
  let stopping: Promise<void> | undefined
  return {
    child,
    tail: () => [...lines],
    exited,
    stop: (signal, force, graceMs = 15_000) =>
      (stopping ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill(signal)
          const escalate = setTimeout(() => child.kill(force), graceMs)
          await exited
          clearTimeout(escalate)
        }
        await new Promise((resolve) => logStream.end(resolve))
      })()),
  }
}

/**
 * A server left running by an earlier run that was killed outright (SIGKILL, a crash) holds our
 * ports and data files. Stops process `pid` if its command line still shows it is that server
 * (`marker`, e.g. its data directory), and waits for it to end.
 */
export async function stopLeftover(
  pid: number,
  marker: string,
  signal: NodeJS.Signals,
  log: Logger,
): Promise<void> {
  const cmdline = () => readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => undefined)
  const seen = await cmdline()
  if (!pid || !seen || !seen.replace(/\0/g, ' ').includes(marker)) return
  // Still the child of a running Node process (`npm start` in another terminal): not a leftover.
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '')
  const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
  const parent = ppid > 1 ? await readFile(`/proc/${ppid}/cmdline`, 'utf8').catch(() => '') : ''
  if (/(^|\/)node\0/.test(parent)) {
    throw new StartupError(
      'DATA_DIR_IN_USE',
      `${marker} is in use by another running process (pid ${ppid}): stop it first, or use another DATA_DIR`,
    )
  }
  log.warn({ pid, marker }, 'stopping a server left running by an earlier run')
  process.kill(pid, signal)
  const deadline = Date.now() + 15_000
  while (Date.now() < deadline && (await cmdline()) !== undefined) {
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}
