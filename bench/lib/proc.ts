import { readdir, readFile } from 'node:fs/promises'
import { loadavg } from 'node:os'

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ: 100 on Linux). */
const USER_HZ = 100

export interface ProcSample {
  rssMb: number
  cpuSeconds: number
}

/** RSS and CPU time (user + system) of one process, from /proc; null once it has exited. */
export async function sampleProcess(pid: number): Promise<ProcSample | null> {
  try {
    const [stat, status] = await Promise.all([
      readFile(`/proc/${pid}/stat`, 'utf8'),
      readFile(`/proc/${pid}/status`, 'utf8'),
    ])
    // Fields after the command name (which may hold spaces) start at field 3 (state).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const cpuTicks = Number(fields[11]) + Number(fields[12])
    const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0)
    return { rssMb: rssKb / 1024, cpuSeconds: cpuTicks / USER_HZ }
  } catch {
    return null
  }
}

/** The process and all its descendants (PostgreSQL runs one backend process per connection). */
export async function sampleTree(pid: number): Promise<ProcSample | null> {
  const root = await sampleProcess(pid)
  if (!root) return null
  const parents = new Map<number, number>()
  for (const entry of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8')
      parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]))
    } catch {
      // Gone meanwhile.
    }
  }
  const inTree = new Set([pid])
  let grew = true
  while (grew) {
    grew = false
    for (const [child, parent] of parents) {
      if (!inTree.has(child) && inTree.has(parent)) {
        inTree.add(child)
        grew = true
      }
    }
  }
  const total = { ...root }
  for (const child of inTree) {
    if (child === pid) continue
    const s = await sampleProcess(child)
    if (!s) continue
    total.rssMb += s.rssMb
    total.cpuSeconds += s.cpuSeconds
  }
  return total
}

export interface ProcessUsage {
  rssStartMb: number
  rssEndMb: number
  rssPeakMb: number
  cpuSeconds: number
}

export const load1 = () => Math.round(loadavg()[0]! * 100) / 100

/**
 * Samples the RSS of named processes every `everyMs` while a scenario runs, and their CPU time at
 * its start and end (PostgreSQL: its whole process tree, backends included). `stop()` gives, per process, RSS at start / end / peak and CPU seconds used.
 */
export function watchProcesses(
  pids: Record<string, number>,
  everyMs = 500,
  trees: ReadonlySet<string> = new Set(['postgres']),
) {
  const sample = (name: string, pid: number) =>
    trees.has(name) ? sampleTree(pid) : sampleProcess(pid)
  const first = new Map<string, ProcSample>()
  const peak = new Map<string, number>()
  const series = new Map<string, number[]>()
  const tick = async () => {
    for (const [name, pid] of Object.entries(pids)) {
      const s = await sample(name, pid)
      if (!s) continue
      if (!first.has(name)) first.set(name, s)
      peak.set(name, Math.max(peak.get(name) ?? 0, s.rssMb))
      series.set(name, [...(series.get(name) ?? []), s.rssMb])
    }
  }
  const started = tick()
  const timer = setInterval(() => void tick(), everyMs)
  return {
    ready: started,
    /** The RSS samples so far, per process (to show whether memory stays flat). */
    series: () => Object.fromEntries(series),
    async stop(): Promise<Record<string, ProcessUsage>> {
      clearInterval(timer)
      await started
      await tick()
      const out: Record<string, ProcessUsage> = {}
      for (const [name, pid] of Object.entries(pids)) {
        const end = await sample(name, pid)
        const start = first.get(name)
        if (!end || !start) continue
        out[name] = {
          rssStartMb: round(start.rssMb),
          rssEndMb: round(end.rssMb),
          rssPeakMb: round(peak.get(name) ?? end.rssMb),
          cpuSeconds: round(end.cpuSeconds - start.cpuSeconds),
        }
      }
      return out
    },
  }
}

export const round = (n: number, digits = 1) => {
  const f = 10 ** digits
  return Math.round(n * f) / f
}
