import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { suppressTable, type ReportRow } from '../../api/routes/reports'

const COUNTS = ['cases', 'open', 'closed', 'resolvedOnTime', 'breached', 'escalated'] as const
type Count = (typeof COUNTS)[number]
type Source = Record<Count, number> & { key: string; label: string; medianDays: number | null }
const MIN_CELL = 3

/** A consistent row: open + closed = cases, the other counts within what they count. */
const rowArb = fc
  .record({
    open: fc.nat({ max: 12 }),
    closed: fc.nat({ max: 12 }),
    onTime: fc.double({ min: 0, max: 1, noNaN: true }),
    breached: fc.double({ min: 0, max: 1, noNaN: true }),
    escalated: fc.double({ min: 0, max: 1, noNaN: true }),
  })
  .filter((r) => r.open + r.closed > 0)
  .map((r, i = 0): Source => ({
    key: `k${i}`,
    label: `k${i}`,
    cases: r.open + r.closed,
    open: r.open,
    closed: r.closed,
    resolvedOnTime: Math.floor(r.onTime * r.closed),
    breached: Math.floor(r.breached * (r.open + r.closed)),
    escalated: Math.floor(r.escalated * (r.open + r.closed)),
    medianDays: 4.2,
  }))
const tableArb = fc.array(rowArb, { minLength: 1, maxLength: 6 })

/**
 * What an attacker can infer about each hidden cell, knowing every published cell and every
 * column's total that the area's own row shows in a coarser report (suppressed by the same
 * rules): bounds propagated to a fixpoint through
 * the column sums, open + closed = cases in each row, and resolvedOnTime ≤ closed, breached ≤
 * cases, escalated ≤ cases.
 */
function attackerBounds(truth: Source[], published: ReportRow[]) {
  const lo = published.map((p) => Object.fromEntries(COUNTS.map((k) => [k, p[k] ?? 0])))
  const hi = published.map((p) => Object.fromEntries(COUNTS.map((k) => [k, p[k] ?? Infinity])))
  // The column totals as the area's own row publishes them in a coarser report.
  const sums = Object.fromEntries(COUNTS.map((k) => [k, truth.reduce((a, r) => a + r[k], 0)]))
  const [area] = suppressTable(
    [{ ...(sums as Record<Count, number>), key: 'area', label: 'area', medianDays: null }],
    MIN_CELL,
  )
  const equalities = COUNTS.filter((k) => area![k] !== null).map((k) => ({
    cells: truth.map((_, i) => [i, k] as [number, Count]),
    total: area![k]!,
  }))
  const tighten = (i: number, k: Count, low: number, high: number) => {
    let changed = false
    if (low > lo[i]![k]!) {
      lo[i]![k] = low
      changed = true
    }
    if (high < hi[i]![k]!) {
      hi[i]![k] = high
      changed = true
    }
    return changed
  }
  for (let changed = true; changed;) {
    changed = false
    for (const { cells, total } of equalities) {
      for (const [i, k] of cells) {
        const othersLo = cells.reduce((a, [j, c]) => (j === i && c === k ? a : a + lo[j]![c]!), 0)
        const othersHi = cells.reduce((a, [j, c]) => (j === i && c === k ? a : a + hi[j]![c]!), 0)
        changed = tighten(i, k, total - othersHi, total - othersLo) || changed
      }
    }
    truth.forEach((_, i) => {
      // cases = open + closed
      const L = lo[i]!
      const H = hi[i]!
      changed = tighten(i, 'cases', L.open! + L.closed!, H.open! + H.closed!) || changed
      changed = tighten(i, 'open', L.cases! - H.closed!, H.cases! - L.closed!) || changed
      changed = tighten(i, 'closed', L.cases! - H.open!, H.cases! - L.open!) || changed
      changed = tighten(i, 'resolvedOnTime', 0, H.closed!) || changed
      changed = tighten(i, 'breached', 0, H.cases!) || changed
      changed = tighten(i, 'escalated', 0, H.cases!) || changed
    })
  }
  return { lo, hi }
}

describe('small-count suppression of a whole table', () => {
  it('leaves no small count recoverable by differencing, over random tables (property)', () => {
    fc.assert(
      fc.property(tableArb, (rows) => {
        const table = rows.map((r, i) => ({ ...r, key: `k${i}`, label: `k${i}` }))
        const published = suppressTable(table, MIN_CELL)
        const { lo, hi } = attackerBounds(table, published)
        table.forEach((row, i) => {
          for (const k of COUNTS) {
            const small = row[k] > 0 && row[k] < MIN_CELL
            // Every small count is hidden...
            if (small) expect(published[i]![k], `${k} of row ${i}`).toBeNull()
            // ...and no combination of what is shown pins it down.
            if (small) expect(hi[i]![k]! - lo[i]![k]!, `${k} of row ${i}`).toBeGreaterThan(0)
            // A row of fewer than MIN_CELL cases shows nothing.
            if (row.cases < MIN_CELL) expect(published[i]![k]).toBeNull()
          }
          // The cases of a row of too few cases are not pinned down either.
          if (row.cases < MIN_CELL) expect(hi[i]!.cases! - lo[i]!.cases!).toBeGreaterThan(0)
        })
      }),
      { numRuns: 2000, seed: 20261204 },
    )
  })

  it("hides a complement: the area total minus the shown cells no longer gives a commune's 1", () => {
    const row = (key: string, open: number, closed: number): Source => ({
      key,
      label: key,
      cases: open + closed,
      open,
      closed,
      resolvedOnTime: 0,
      breached: 0,
      escalated: 0,
      medianDays: null,
    })
    const published = suppressTable([row('A', 10, 0), row('B', 1, 0), row('C', 5, 0)], MIN_CELL)
    expect(published.map((r) => r.cases)).toEqual([10, null, null])
    expect(published.map((r) => r.suppressed)).toEqual([false, true, true])
  })
})
