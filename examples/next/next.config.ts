import type { NextConfig } from 'next';

const config: NextConfig = {
  // pretix's URLs end in a slash (`/api/v1/organizers/{organizer}/webhooks/`). Next.js would
  // answer them with a 308 redirect to the URL without it; pretix clients expect the answer
  // itself. With this, every URL reaches the route as sent, and hookline accepts both forms.
  skipTrailingSlashRedirect: true,
};

export default config;
