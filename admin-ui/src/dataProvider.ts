import simpleRestProvider from 'ra-data-simple-rest'
import type { DataProvider } from 'react-admin'
import { API_URL, getJson, httpClient, postJson } from './api'
import type { Case, Report, Task } from './types'

type TaskResult = { task: Task; result: unknown }
type CaseResult = { case: Case; result: unknown }

export type ReportQuery = {
  groupBy: 'region' | 'cercle' | 'category' | 'channel' | 'month' | 'age'
  kind?: 'grievance' | 'reverification' | 'referral' | 'appeal'
  from?: string
  to?: string
  areaCode?: string
  category?: string
  channel?: string
  /** Labels (category names) in this language. */
  lang?: string
}

const query = (params: Record<string, string | undefined>) =>
  new URLSearchParams(
    Object.entries(params).filter((e): e is [string, string] => e[1] !== undefined),
  ).toString()

const base = simpleRestProvider(API_URL, httpClient)

/**
 * The console's data provider: react-admin's simple REST dialect for lists and records, plus the
 * case and task commands (non-CRUD actions, used with `useMutation`). A command answers the
 * refreshed record once the workflow has accepted it and the read model is written.
 */
export const dataProvider = {
  ...base,
  claimTask: (id: string) => postJson<TaskResult>(`/tasks/${encodeURIComponent(id)}/claim`, {}),
  unclaimTask: (id: string) => postJson<TaskResult>(`/tasks/${encodeURIComponent(id)}/unclaim`, {}),
  completeTask: (id: string, data: Record<string, unknown>) =>
    postJson<TaskResult>(`/tasks/${encodeURIComponent(id)}/complete`, { data }),
  reassignTask: (id: string, assigneeId: string) =>
    postJson<TaskResult>(`/tasks/${encodeURIComponent(id)}/reassign`, { assigneeId }),
  /** Approves an approval task (four eyes: the workflow refuses the proposer). */
  approve: (taskId: string) =>
    postJson<TaskResult>(`/tasks/${encodeURIComponent(taskId)}/complete`, {
      data: { decision: 'approve' },
    }),
  /** Rejects an approval task: the investigation goes back to its author with the reason. */
  reject: (taskId: string, reason: string) =>
    postJson<TaskResult>(`/tasks/${encodeURIComponent(taskId)}/complete`, {
      data: { decision: 'reject', reason },
    }),
  caseCommand: (id: string, command: string, body: Record<string, unknown> = {}) =>
    postJson<CaseResult>(`/cases/${encodeURIComponent(id)}/${command}`, body),
  pauseSla: (id: string, reason: string) =>
    postJson<CaseResult>(`/cases/${encodeURIComponent(id)}/pause-sla`, { reason }),
  resumeSla: (id: string) =>
    postJson<CaseResult>(`/cases/${encodeURIComponent(id)}/resume-sla`, {}),
  extendSla: (id: string, byMs: number, reason: string) =>
    postJson<CaseResult>(`/cases/${encodeURIComponent(id)}/extend-sla`, { byMs, reason }),
  addNote: (id: string, text: string) =>
    postJson<CaseResult>(`/cases/${encodeURIComponent(id)}/notes`, { text }),
  intake: (body: Record<string, unknown>) =>
    postJson<{ caseId: string; reference: string; pin: string }>('/cases', body),
  /** A partner's answer to a referral: accept, decline (with a reason) or report the service. */
  referralCommand: (
    id: string,
    command: 'accept' | 'decline' | 'report',
    body: Record<string, unknown>,
  ) => postJson<unknown>(`/referrals/${encodeURIComponent(id)}/${command}`, body),
  report: (params: ReportQuery) => getJson<Report>(`/reports/cases?${query(params)}`),
  /** Whether the signed-in user holds the (separate, audited) export permission. */
  exportPermission: () => getJson<{ canExport: boolean }>('/reports/export-permission'),
} satisfies DataProvider

/** Where the report on screen downloads as CSV (export permission; every download is audited). */
export const reportCsvUrl = (params: ReportQuery, lang: string) =>
  `${API_URL}/reports/cases.csv?${query({ ...params, lang })}`

export type RsuDataProvider = typeof dataProvider
