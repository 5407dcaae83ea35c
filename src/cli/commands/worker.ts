import type { WorkerOptions } from '../../delivery/worker.js';
import type { Logger } from '../../observability/logger.js';
import { WebhookRegistry } from '../../registry/registry.js';
import { command } from '../args.js';
import { type CliConfig, loadConfig } from '../config.js';
import { CONNECTION_OPTIONS, connect, databaseUrl } from '../connect.js';
import { type HealthServer, startHealthServer } from '../health.js';
import { cliLogger, LOG_FORMATS } from '../log.js';
import { MetricsCollector } from '../metrics.js';
import { registryOptions } from '../session.js';

/** After the stop timeout, how long to wait for stop() to give back the deliveries still in flight. */
const STOP_MARGIN_MS = 2_000;

/** `hookline worker`: runs a delivery worker until SIGTERM or SIGINT. */
export const workerCommand = command({
  name: 'worker',
  summary: 'Run a delivery worker until SIGTERM / SIGINT (graceful stop, claimed work given back).',
  details:
    "With --config, the file's default export (an object, or a function returning one) gives the\n" +
    'registry options the host uses: retryPolicy, catalog, logger, secretKeys, transport, worker.\n' +
    'Secret keys come from it or from HOOKLINE_SECRET_KEYS. Lifecycle lines go to stderr.',
  options: {
    ...CONNECTION_OPTIONS,
    config: {
      type: 'string',
      value: '<file>',
      description: 'hookline.config.(js|mjs|ts) with the registry options',
    },
    concurrency: { type: 'integer', description: 'Attempts in flight at once', default: 32 },
    'per-webhook-concurrency': {
      type: 'integer',
      description: 'Attempts in flight at once per webhook',
      default: 4,
    },
    'lease-ms': {
      type: 'integer',
      description: 'Lease of a claimed delivery (default: max(120000, 4 × timeout))',
    },
    'timeout-ms': { type: 'integer', description: 'Deadline of one attempt', default: 30_000 },
    'ssrf-allow': {
      type: 'string',
      multiple: true,
      value: '<host|cidr>',
      description: 'Allow this address, CIDR range or hostname past the SSRF guard',
    },
    'ssrf-allow-private-networks': {
      type: 'boolean',
      description: 'Allow loopback, RFC 1918 and other private addresses (not cloud metadata)',
    },
    'stop-timeout-ms': {
      type: 'integer',
      description: 'On SIGTERM/SIGINT, how long to wait for attempts in flight',
      default: 10_000,
      min: 0,
    },
    'health-port': {
      type: 'integer',
      description: 'Serve /healthz, /readyz and /metrics on this port (0: any free port)',
      min: 0,
    },
    'health-host': {
      type: 'string',
      value: '<host>',
      description: 'Address of the health server',
      default: '127.0.0.1',
    },
    'log-format': {
      type: 'string',
      value: '<format>',
      description: 'Log lines on stderr',
      choices: LOG_FORMATS,
      default: 'json',
    },
  },
  examples: [
    'hookline worker --database-url postgres://hookline@db/app --health-port 9464',
    'hookline worker --config ./hookline.config.mjs --concurrency 64 --log-format pretty',
  ],
  async run(values) {
    const config: CliConfig = values.config === undefined ? {} : await loadConfig(values.config);
    const logger: Logger = config.logger ?? cliLogger(values['log-format'] as (typeof LOG_FORMATS)[number]);
    const { worker: configWorker, transport, ...registryConfig } = config;
    if (
      transport !== undefined &&
      (values['ssrf-allow'].length > 0 || values['ssrf-allow-private-networks'])
    ) {
      logger.warn(
        {},
        'hookline: --ssrf-allow applies to the default transport only; the config gives its own transport',
      );
    }
    const ssrfFlags =
      values['ssrf-allow'].length > 0 || values['ssrf-allow-private-networks']
        ? {
            ssrf: {
              ...configWorker?.ssrf,
              ...(values['ssrf-allow'].length > 0
                ? { allow: [...(configWorker?.ssrf?.allow ?? []), ...values['ssrf-allow']] }
                : {}),
              ...(values['ssrf-allow-private-networks'] ? { allowPrivateNetworks: true } : {}),
            },
          }
        : {};
    const workerOptions: WorkerOptions = {
      ...configWorker,
      ...(transport === undefined ? {} : { transport }),
      ...ssrfFlags,
      concurrency: values.concurrency,
      perWebhookConcurrency: values['per-webhook-concurrency'],
      timeoutMs: values['timeout-ms'],
      ...(values['lease-ms'] === undefined ? {} : { leaseMs: values['lease-ms'] }),
      logger,
    };

    const connection = await connect({
      url: databaseUrl(values),
      schema: values.schema,
      poolSize: Math.min(20, Math.max(4, Math.ceil(values.concurrency / 8) + 2)),
    });
    const metrics = new MetricsCollector();
    let health: HealthServer | undefined;
    try {
      const registry = new WebhookRegistry(await registryOptions(connection, { ...registryConfig, logger }));
      // Fails early, with the migration hint, when the schema is missing or old.
      await registry.stats();
      const worker = registry.worker(workerOptions);
      metrics.start();
      if (values['health-port'] !== undefined) {
        health = await startHealthServer(
          {
            ping: () => connection.ping(),
            running: () => worker.running,
            gauges: () => registry.stats(),
            metrics,
          },
          { host: values['health-host'], port: values['health-port'] },
        );
        logger.info(
          { host: values['health-host'], port: health.port },
          `hookline: health server listening on http://${values['health-host']}:${health.port}`,
        );
      }
      const stopped = new Promise<string>((resolve) => {
        const onSignal = (signal: NodeJS.Signals) => {
          process.off('SIGTERM', onSignal);
          process.off('SIGINT', onSignal);
          // A second signal while stopping ends the process at once.
          const force = (again: NodeJS.Signals) => {
            logger.warn({ signal: again }, 'hookline: second signal, exiting without waiting');
            process.exit(again === 'SIGINT' ? 130 : 143);
          };
          process.once('SIGTERM', force);
          process.once('SIGINT', force);
          resolve(signal);
        };
        process.on('SIGTERM', onSignal);
        process.on('SIGINT', onSignal);
      });
      worker.start();
      logger.info(
        { store: connection.kind, database: connection.display, schema: values.schema, pid: process.pid },
        'hookline: worker process ready',
      );
      const signal = await stopped;
      logger.info(
        { signal, inFlight: worker.inFlight, timeoutMs: values['stop-timeout-ms'] },
        'hookline: stopping (claimed work not finished in time is given back)',
      );
      // stop() gives back what is still in flight after timeoutMs, then closes its transport,
      // which waits for requests still open (up to the attempt timeout). The deliveries are
      // given back by then, so the process does not wait for those answers.
      let timer: ReturnType<typeof setTimeout> | undefined;
      const overdue = await Promise.race([
        worker.stop({ timeoutMs: values['stop-timeout-ms'] }).then(() => false),
        new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(true), values['stop-timeout-ms'] + STOP_MARGIN_MS);
        }),
      ]);
      clearTimeout(timer);
      if (overdue) {
        logger.warn(
          { inFlight: worker.inFlight },
          'hookline: attempts still open after the stop timeout; their deliveries were given back, exiting',
        );
      }
      return 0;
    } finally {
      metrics.stop();
      await health?.close();
      await connection.close();
      logger.info({}, 'hookline: worker process exiting');
    }
  },
});
