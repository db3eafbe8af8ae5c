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
        try {
          await step.run()
        } catch (error) {
          log.warn({ err: error, step: step.name }, 'a shutdown step failed')
        }
      }
      resolveStopped()
    })())

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
    void shutdown(signal)
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)

  return {
    /** Registers a step; steps run last-registered first. */
    add(name: string, run: () => Promise<unknown>) {
      steps.push({ name, run })
    },
    shutdown,
    /** Resolves once every step ran after a signal or a call to shutdown(). */
    stopped,
  }
}
