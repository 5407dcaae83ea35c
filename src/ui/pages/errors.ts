/**
 * Error pages: what went wrong, in words a person can act on, never a stack or third-party text
 * beyond what the error's own message says.
 *
 * @module
 */
import { html } from '../html.js';
import { layout, type PageContext } from './layout.js';

/** A page for an error status: a heading, an explanation, and the issues of a validation error. */
export function errorPage(
  ctx: PageContext,
  status: number,
  heading: string,
  message: string,
  issues: readonly string[] = [],
): Response {
  const body = layout(ctx, {
    title: heading,
    body: html`<h1>${heading}</h1><div class="error-box" role="alert"><p>${message}</p>${
      issues.length > 0 ? html`<ul>${issues.map((issue) => html`<li>${issue}</li>`)}</ul>` : ''
    }</div><p><a href="${ctx.base}/">Back to the start</a></p>`,
  });
  return new Response(body, {
    status,
    headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' },
  });
}
