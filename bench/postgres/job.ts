/**
 * The job every system in bench/postgres does: one Standard Webhooks-signed POST of a ~750-byte
 * JSON body to the loopback receiver, through an undici `Pool` per worker process (keep-alive).
 * hookline renders and signs in its worker; the peers' task functions below compute the same
 * headers over the same body shape with `node:crypto`, so the queue is the only difference.
 */
import { createHmac } from 'node:crypto';
import { Pool } from 'undici';

/** The webhook's signing secret (a bench constant; the receiver checks signatures with it). */
export const BENCH_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
export const BENCH_SCOPE = 'bench';
export const BENCH_TYPE = 'bench.order.paid';

/** Notification data of about 600 bytes: with hookline's generic envelope, a ~750-byte body. */
export function orderData(i: number): Record<string, unknown> {
  return {
    order: { code: `ORD${String(i).padStart(7, '0')}`, total: 'EUR:112.50', status: 'paid' },
    customer: { email: `customer${i}@example.com`, locale: 'de' },
    items: [
      { sku: 'tee-black-m', qty: 2, price: 'EUR:25.00' },
      { sku: 'hoodie-grey-l', qty: 1, price: 'EUR:62.50' },
    ],
    note: 'x'.repeat(360),
  };
}

/**
 * What a peer's job carries: the body's fields, as hookline's generic default payload has them
 * (`{ id, type, timestamp, scope, data }`), rendered when the job is added.
 */
export interface BenchPayload {
  id: string;
  type: string;
  timestamp: string;
  scope: string;
  data: Record<string, unknown>;
}

export function benchPayload(i: number, id: string): BenchPayload {
  return {
    id,
    type: BENCH_TYPE,
    timestamp: new Date().toISOString(),
    scope: BENCH_SCOPE,
    data: orderData(i),
  };
}

const hmacKey = Buffer.from(BENCH_SECRET.slice('whsec_'.length), 'base64');

/** The Standard Webhooks headers hookline sends, computed with `node:crypto`. */
export function signedHeaders(id: string, body: string): Record<string, string> {
  const timestamp = String(Math.floor(Date.now() / 1000));
  const signature = createHmac('sha256', hmacKey).update(`${id}.${timestamp}.${body}`).digest('base64');
  return {
    'content-type': 'application/json',
    'user-agent': 'hookline-bench-peer',
    'webhook-id': id,
    'webhook-timestamp': timestamp,
    'webhook-signature': `v1,${signature}`,
  };
}

/** A peer process's sender: one keep-alive undici `Pool` to the receiver (idle keep-alive 4 s, as hookline's). */
export function createSender(port: number): {
  send(id: string, payload: BenchPayload): Promise<void>;
  close(): Promise<void>;
} {
  const pool = new Pool(`http://127.0.0.1:${port}`, { keepAliveTimeout: 4_000 });
  return {
    async send(id, payload) {
      const body = JSON.stringify(payload);
      const response = await pool.request({
        path: '/hook',
        method: 'POST',
        headers: signedHeaders(id, body),
        body,
        headersTimeout: 30_000,
        bodyTimeout: 30_000,
      });
      await response.body.dump();
      // A non-2xx answer fails the job, so its queue retries it (as hookline retries a delivery).
      if (response.statusCode < 200 || response.statusCode >= 300) {
        throw new Error(`receiver answered ${response.statusCode}`);
      }
    },
    close: () => pool.close(),
  };
}
