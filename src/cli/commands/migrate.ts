import { migrate, pendingMigrations } from '../../stores/postgres/migrations.js';
import { command } from '../args.js';
import { CONNECTION_OPTIONS, connect, databaseUrl } from '../connect.js';
import { json, out } from '../output.js';

/** `hookline migrate`: applies the pending migrations, or lists them with `--dry-run`. */
export const migrateCommand = command({
  name: 'migrate',
  summary: "Create or upgrade hookline's tables (idempotent; safe from several deploys at once).",
  details:
    'Applies every pending migration in one transaction under an advisory lock: a second process\n' +
    'migrating at the same time waits, then finds nothing to do.',
  options: {
    ...CONNECTION_OPTIONS,
    'dry-run': { type: 'boolean', description: 'List the pending migrations without applying them.' },
    json: { type: 'boolean', description: 'Print the result as JSON.' },
  },
  examples: [
    'hookline migrate --database-url postgres://hookline@db/app',
    'DATABASE_URL=pglite:./data/hookline hookline migrate --dry-run',
  ],
  async run(values) {
    const connection = await connect({ url: databaseUrl(values), schema: values.schema, poolSize: 1 });
    try {
      if (values['dry-run']) {
        const { current, pending } = await pendingMigrations({ db: connection.db, schema: values.schema });
        if (values.json) {
          out(json({ schema: values.schema, current, pending }));
        } else if (pending.length === 0) {
          out(`schema "${values.schema}" is at version ${current}: nothing to apply\n`);
        } else {
          out(`schema "${values.schema}" is at version ${current}; pending:\n`);
          for (const m of pending) out(`  ${m.version}  ${m.name}\n`);
        }
        return 0;
      }
      const result = await migrate({ db: connection.db, schema: values.schema });
      if (values.json) {
        out(json({ schema: values.schema, ...result }));
      } else if (result.applied.length === 0) {
        out(`schema "${values.schema}" is at version ${result.to}: nothing to apply\n`);
      } else {
        out(
          `schema "${values.schema}": applied ${result.applied.join(', ')} (version ${result.from} → ${result.to})\n`,
        );
      }
      return 0;
    } finally {
      await connection.close();
    }
  },
});
