/**
 * Proxy means test: a household's eligibility score from observable welfare variables, with a
 * configurable, versioned formula (table `pmt_formulas`). Pure, so that a workflow can score
 * deterministically and tests can check the arithmetic without a server.
 */

export interface PmtFormula {
  /** Recorded with every score, so that a score can always be explained. */
  version: string
  intercept: number
  /** Weight per variable code; a variable the formula does not know weighs nothing. */
  weights: Record<string, number>
  /** Eligible when the score is at or below it: a lower score is poorer. */
  threshold: number
}

export interface PmtScore {
  score: number
  eligible: boolean
  formulaVersion: string
}

/** score = intercept + Σ weight × value, rounded to two decimals; eligible at ≤ threshold. */
export function pmtScore(formula: PmtFormula, variables: Record<string, number>): PmtScore {
  let score = formula.intercept
  for (const [name, weight] of Object.entries(formula.weights)) {
    const value = variables[name]
    if (typeof value === 'number' && Number.isFinite(value)) score += weight * value
  }
  const rounded = Math.round(score * 100) / 100
  return { score: rounded, eligible: rounded <= formula.threshold, formulaVersion: formula.version }
}
