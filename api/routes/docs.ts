import { Hono } from 'hono'
import { html, raw } from 'hono/html'

interface OpenApiDoc {
  info: { title: string; version: string; description?: string }
  paths: Record<string, Record<string, { summary?: string; tags?: string[]; security?: unknown[] }>>
}

/**
 * A readable reference of the API, rendered on the server from the OpenAPI document: no script,
 * nothing fetched from a CDN, light on a slow connection. The machine-readable document stays at
 * /api/openapi.json.
 */
export function docsRoutes(document: () => OpenApiDoc) {
  return new Hono().get('/', (c) => {
    const doc = document()
    const rows = Object.entries(doc.paths).flatMap(([path, operations]) =>
      Object.entries(operations).map(([method, op]) => ({ path, method, op })),
    )
    const byTag = new Map<string, typeof rows>()
    for (const row of rows) {
      const tag = row.op.tags?.[0] ?? 'other'
      byTag.set(tag, [...(byTag.get(tag) ?? []), row])
    }
    return c.html(
      html`<!doctype html>
        <html lang="en">
          <head>
            <meta charset="utf-8" />
            <meta name="viewport" content="width=device-width, initial-scale=1" />
            <title>${doc.info.title} — reference</title>
            <style>
              body {
                font-family: system-ui, sans-serif;
                max-width: 60rem;
                margin: 1.5rem auto;
                padding: 0 1rem;
              }
              code {
                background: #f2f2f2;
                padding: 0.1rem 0.3rem;
              }
              td {
                padding: 0.25rem 0.5rem;
                border-bottom: 1px solid #e5e5e5;
                vertical-align: top;
              }
              .m {
                font-weight: 600;
                text-transform: uppercase;
              }
            </style>
          </head>
          <body>
            <h1>${doc.info.title} <small>${doc.info.version}</small></h1>
            <p>${doc.info.description ?? ''}</p>
            <p>
              Machine-readable: <a href="/api/openapi.json"><code>/api/openapi.json</code></a
              >. Every error has the shape <code>{"error":{"code","message","details?"}}</code>;
              lists take <code>sort</code>, <code>range</code> and <code>filter</code> (JSON) and
              answer a <code>Content-Range</code> header; writes accept an
              <code>Idempotency-Key</code>.
            </p>
            ${raw(
              [...byTag.entries()]
                .map(
                  ([tag, ops]) =>
                    html`<h2>${tag}</h2>
                      <table>
                        ${ops.map(
                          ({ path, method, op }) =>
                            html`<tr>
                              <td class="m">${method}</td>
                              <td><code>/api${path}</code></td>
                              <td>
                                ${op.summary ?? ''}${op.security?.length ? ' (signed in)' : ''}
                              </td>
                            </tr>`,
                        )}
                      </table>`,
                )
                .join(''),
            )}
          </body>
        </html>`,
    )
  })
}
