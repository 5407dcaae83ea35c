/**
 * Next.js App Router route: `app/taler/ui/[[...path]]/route.ts` serves `/taler/ui` and every
 * path below it with hookline's delivery-log UI of the Taler registry (log in with any user
 * name and the password `demo-token-merchant`).
 */
import { talerUi } from '../../../../lib/webhooks';

// Every page depends on the request and the registry: never prerender or cache it.
export const dynamic = 'force-dynamic';

export const GET = (request: Request): Promise<Response> => talerUi(request);
export const POST = GET;
export const HEAD = GET;
