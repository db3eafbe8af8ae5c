import { spawn, type ChildProcess } from 'node:child_process'
import { createWriteStream } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { childEnv } from '../../activities/config'

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url))

export interface NodeChild {
  name: string
  pid: number
  child: ChildProcess
  /** Resolves once stdout or stderr matches `pattern`; rejects if the process exits first. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>
  stop(): Promise<void>
}

/** Every child started by the harness, stopped on exit whatever happens (Ctrl-C included). */
const running = new Set<NodeChild>()
process.once('exit', () => {
  for (const c of running) {
    try {
      process.kill(-c.pid, 'SIGKILL')
    } catch {
      // Already gone.
    }
  }
})

/**
 * Runs a TypeScript entry as its own Node process (in its own process group, as `npm run` would),
 * so that its RSS and CPU time are measured apart from the harness. Output goes to `logFile`.
 */
export function spawnNode(
  name: string,
  entry: string,
  env: Record<string, string>,
  options: { logFile: string; nodeArgs?: string[]; args?: string[] },
): NodeChild {
  const child = spawn(
    process.execPath,
    [...(options.nodeArgs ?? []), '--import', 'tsx', entry, ...(options.args ?? [])],
    {
      cwd: repoRoot,
      env: childEnv(env),
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    },
  )
  if (!child.pid) throw new Error(`could not start ${name}`)
  const log = createWriteStream(options.logFile, { flags: 'a' })
  let seen = ''
  const listeners = new Set<() => void>()
  const onData = (chunk: Buffer) => {
    log.write(chunk)
    seen = (seen + chunk.toString()).slice(-20_000)
    listeners.forEach((l) => l())
  }
  child.stdout!.on('data', onData)
  child.stderr!.on('data', onData)
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const handle: NodeChild = {
    name,
    pid: child.pid,
    child,
    waitFor(pattern, timeoutMs = 180_000) {
      return new Promise((resolve, reject) => {
        const done = (fn: () => void) => {
          clearTimeout(timer)
          listeners.delete(check)
          child.off('exit', onExit)
          fn()
        }
        const check = () => {
          if (pattern.test(seen)) done(resolve)
        }
        const onExit = () =>
          done(() => reject(new Error(`${name} exited before ${pattern}: ${seen.slice(-2000)}`)))
        const timer = setTimeout(
          () => done(() => reject(new Error(`${name}: no ${pattern} after ${timeoutMs} ms`))),
          timeoutMs,
        )
        listeners.add(check)
        child.once('exit', onExit)
        check()
      })
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        try {
          process.kill(-child.pid!, 'SIGTERM')
        } catch {
          // Already gone.
        }
        const force = setTimeout(() => {
          try {
            process.kill(-child.pid!, 'SIGKILL')
          } catch {
            // Already gone.
          }
        }, 15_000)
        await exited
        clearTimeout(force)
      }
      running.delete(handle)
      await new Promise((resolve) => log.end(resolve))
    },
  }
  running.add(handle)
  return handle
}
