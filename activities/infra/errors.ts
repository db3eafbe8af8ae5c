/**
 * A failure to start that the operator can fix (bad configuration, a port in use, an unreachable
 * service). Entry points print its message as one line, without a stack trace, and exit with 1.
 */
export class StartupError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message)
    this.name = 'StartupError'
  }
}

/**
 * Runs an entry point: a StartupError becomes one clear line, anything else a full report. Once
 * `main` has stopped everything it started, the process exits, even if a library (the Temporal
 * native runtime after its server went away) still holds the event loop.
 */
export function runMain(main: () => Promise<void>): void {
  main()
    .then(() => process.exit(process.exitCode ?? 0))
    .catch((error: unknown) => {
      if (error instanceof StartupError) {
        process.stderr.write(`rsu-casework: ${error.message} [${error.code}]\n`)
      } else {
        process.stderr.write(`rsu-casework: unexpected failure\n`)
        console.error(error)
      }
      process.exit(1)
    })
}

/** The first line of an error's message, for one-line reports. */
export function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error)
  return message.split('\n')[0] || 'unknown error'
}
