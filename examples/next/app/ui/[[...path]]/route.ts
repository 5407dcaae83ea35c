/**
 * Next.js App Router route: `app/ui/[[...path]]/route.ts` serves `/ui` and every path below it
 * with hookline's delivery-log UI of the pretix registry (log in with any user name and the
 * password `demo-token-bigevents`). The UI is a plain Fetch function, like the APIs.
 */
import { pretixUi } from '../../../lib/webhooks';

// Every page depends on the request and the registry: never prerender or cache it.
export const dynamic = 'force-dynamic';

export const GET = (request: Request): Promise<Response> => pretixUi(request);
export const POST = GET;
export const HEAD = GET;
