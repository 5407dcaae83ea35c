/**
 * Next.js App Router route: `app/api/[...path]/route.ts` serves every `/api/*` path. hookline's
 * handlers are plain Fetch functions, so they are exported as the route's methods: pretix's API
 * under /api/v1, Taler's under /api/taler.
 *
 * `skipTrailingSlashRedirect` in next.config.ts keeps pretix's URLs (which end in `/`) from being
 * redirected.
 */
import { handler } from '../../../lib/webhooks';

// Every answer depends on the request and the registry: never prerender or cache it.
export const dynamic = 'force-dynamic';

export const GET = (request: Request): Promise<Response> => handler(request);
export const POST = GET;
export const PUT = GET;
export const PATCH = GET;
export const DELETE = GET;
export const HEAD = GET;
export const OPTIONS = GET;
