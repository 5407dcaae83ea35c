/**
 * The pretix wire format: field names, DRF-style input parsing with pretix's messages, and the
 * mapping of registry validation issues to `{field: [message, ...]}` bodies.
 */
import type { ValidationIssue } from '../../errors.js';
import type { EventCatalog } from '../../matching/index.js';
import {
  checkUrl,
  hasNullCharacter,
  NULL_CHARACTER_MESSAGE,
  type Webhook,
  type WebhookPatch,
} from '../../model.js';

/** The resource's fields, in the order pretix returns them. */
export const PRETIX_FIELDS = [
  'id',
  'enabled',
  'target_url',
  'all_events',
  'limit_events',
  'action_types',
  'comment',
] as const;

/** A webhook as pretix returns it. */
export interface PretixWebhook {
  id: number;
  enabled: boolean;
  target_url: string;
  all_events: boolean;
  limit_events: string[];
  action_types: string[];
  comment: string | null;
}

/** A 400 body: field name (or `non_field_errors`) to messages. */
export type PretixFieldErrors = Record<string, string[]>;

/**
 * Serializes a webhook in pretix's field order; `action_types` sorted and unique.
 *
 * @example
 * ```ts
 * JSON.stringify(toPretixWebhook(await registry.get('bigevents', 1))); // {"id":1,"enabled":true,...}
 * ```
 */
export function toPretixWebhook(webhook: Webhook): PretixWebhook {
  return {
    id: webhook.id,
    enabled: webhook.enabled,
    target_url: webhook.url,
    all_events: webhook.allEvents,
    limit_events: [...webhook.limitEvents],
    action_types: [...new Set(webhook.eventTypes)].sort(),
    comment: webhook.comment,
  };
}

const WIRE_NAMES: Readonly<Record<string, string>> = {
  url: 'target_url',
  eventTypes: 'action_types',
  allEvents: 'all_events',
  limitEvents: 'limit_events',
  enabled: 'enabled',
  comment: 'comment',
  // The ordering extension's body (`PUT .../webhooks/{id}/ordering/`), not webhook fields.
  ordering: 'ordering',
  on_failure: 'on_failure',
};

const FIELD_ORDER: readonly string[] = [...PRETIX_FIELDS, 'non_field_errors'];

/** Orders an error body like DRF (declaration order) and keeps one message per list field. */
function ordered(errors: Map<string, string[]>): PretixFieldErrors {
  const out: PretixFieldErrors = {};
  const keys = [...errors.keys()].sort((a, b) => rank(a) - rank(b));
  for (const key of keys) out[key] = errors.get(key) ?? [];
  return out;
}

function rank(field: string): number {
  const index = FIELD_ORDER.indexOf(field);
  return index === -1 ? FIELD_ORDER.length - 1 : index;
}

/**
 * Maps registry issues to a pretix 400 body. Field paths become wire names
 * (`url` → `target_url`, ...); path `[]` and unknown paths become `non_field_errors`, which
 * (as in DRF) are only reported when no field has an error. List fields keep their first message.
 *
 * @example
 * ```ts
 * pretixErrorsFromIssues([{ path: ['url'], code: 'invalid_url', message: 'Enter a valid URL.' }]);
 * // { target_url: ['Enter a valid URL.'] }
 * ```
 */
export function pretixErrorsFromIssues(issues: readonly ValidationIssue[]): PretixFieldErrors {
  const fields = new Map<string, string[]>();
  const general: string[] = [];
  for (const issue of issues) {
    const head = issue.path[0];
    const wire = typeof head === 'string' ? WIRE_NAMES[head] : undefined;
    if (wire === undefined) {
      if (!general.includes(issue.message)) general.push(issue.message);
      continue;
    }
    const list = fields.get(wire) ?? [];
    const single = wire === 'action_types' || wire === 'limit_events';
    if (!list.includes(issue.message) && !(single && list.length > 0)) list.push(issue.message);
    fields.set(wire, list);
  }
  if (fields.size === 0) fields.set('non_field_errors', general.length > 0 ? general : ['Invalid data.']);
  return ordered(fields);
}

/** Python's `type(x).__name__` for a JSON value, as DRF puts it into messages. */
function pythonType(value: unknown): string {
  if (value === null) return 'NoneType';
  if (Array.isArray(value)) return 'list';
  switch (typeof value) {
    case 'string':
      return 'str';
    case 'boolean':
      return 'bool';
    case 'number':
      return Number.isInteger(value) ? 'int' : 'float';
    default:
      return 'dict';
  }
}

/** Python's `str(x)` for a JSON value (what pretix interpolates into `Invalid action type`). */
function pythonStr(value: unknown): string {
  if (value === null) return 'None';
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (typeof value === 'string' || typeof value === 'number') return String(value);
  // Cannot throw: the value comes from JSON.parse (no cycles, BigInts or toJSON functions) of a
  // request body at most MAX_BODY_JSON_DEPTH deep (see readJsonBody), so no stack overflow.
  return JSON.stringify(value);
}

const TRUE_VALUES = new Set<unknown>([
  't',
  'T',
  'y',
  'Y',
  'yes',
  'Yes',
  'YES',
  'true',
  'True',
  'TRUE',
  'on',
  'On',
  'ON',
  '1',
  1,
  true,
]);
const FALSE_VALUES = new Set<unknown>([
  'f',
  'F',
  'n',
  'N',
  'no',
  'No',
  'NO',
  'false',
  'False',
  'FALSE',
  'off',
  'Off',
  'OFF',
  '0',
  0,
  false,
]);

type Parsed<T> = { ok: true; value: T } | { ok: false; message: string };

function parseBoolean(value: unknown): Parsed<boolean> {
  if (value === null) return { ok: false, message: 'This field may not be null.' };
  if (TRUE_VALUES.has(value)) return { ok: true, value: true };
  if (FALSE_VALUES.has(value)) return { ok: true, value: false };
  return { ok: false, message: 'Must be a valid boolean.' };
}

function parseChar(value: unknown, options: { nullable: boolean; blank: boolean }): Parsed<string | null> {
  if (value === null) {
    return options.nullable
      ? { ok: true, value: null }
      : { ok: false, message: 'This field may not be null.' };
  }
  if (typeof value !== 'string' && typeof value !== 'number')
    return { ok: false, message: 'Not a valid string.' };
  const text = String(value).trim();
  if (text === '' && !options.blank) return { ok: false, message: 'This field may not be blank.' };
  // DRF's CharField refuses NUL (ProhibitNullCharactersValidator); PostgreSQL cannot store it.
  if (hasNullCharacter(text)) return { ok: false, message: NULL_CHARACTER_MESSAGE };
  return { ok: true, value: text };
}

function parseTargetUrl(value: unknown): Parsed<string> {
  const text = parseChar(value, { nullable: false, blank: false });
  if (!text.ok) return text;
  const url = text.value ?? '';
  const problem = checkUrl(url, { allowCredentials: true });
  return problem === null ? { ok: true, value: url } : { ok: false, message: problem };
}

function parseList(value: unknown): Parsed<unknown[]> {
  if (value === null) return { ok: false, message: 'This field may not be null.' };
  if (!Array.isArray(value)) {
    return { ok: false, message: `Expected a list of items but got type "${pythonType(value)}".` };
  }
  return { ok: true, value };
}

function parseSlugs(value: unknown): Parsed<string[]> {
  const list = parseList(value);
  if (!list.ok) return list;
  const slugs: string[] = [];
  for (const item of list.value) {
    if (typeof item !== 'string' && typeof item !== 'number') return { ok: false, message: 'Invalid value.' };
    if (typeof item === 'string' && hasNullCharacter(item))
      return { ok: false, message: NULL_CHARACTER_MESSAGE };
    slugs.push(String(item));
  }
  return { ok: true, value: slugs };
}

function parseActionTypes(value: unknown, catalog: EventCatalog | undefined): Parsed<string[]> {
  const list = parseList(value);
  if (!list.ok) return list;
  const types: string[] = [];
  for (const item of list.value) {
    if (typeof item === 'string' && hasNullCharacter(item))
      return { ok: false, message: NULL_CHARACTER_MESSAGE };
    if (typeof item !== 'string' || (catalog !== undefined && !catalog.has(item))) {
      return { ok: false, message: `Invalid action type "${pythonStr(item)}".` };
    }
    types.push(item);
  }
  return { ok: true, value: types };
}

/** How a body is parsed: `create` and `replace` require `target_url` and `action_types`. */
export type PretixParseMode = 'create' | 'replace' | 'update';

/** The outcome of {@link parsePretixBody}. */
export type PretixParseResult = { ok: true; patch: WebhookPatch } | { ok: false; errors: PretixFieldErrors };

/**
 * Parses a request body like pretix's serializer: unknown and read-only fields (`id`) are
 * ignored, values are coerced as DRF does (`"true"`, `1`, trimmed strings), and every field
 * error is reported at once. For `replace` (PUT) omitted optional fields take their defaults.
 */
export function parsePretixBody(
  body: unknown,
  mode: PretixParseMode,
  catalog: EventCatalog | undefined,
): PretixParseResult {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return {
      ok: false,
      errors: { non_field_errors: [`Invalid data. Expected a dictionary, but got ${pythonType(body)}.`] },
    };
  }
  const input = body as Record<string, unknown>;
  const has = (key: string) => Object.hasOwn(input, key);
  const errors = new Map<string, string[]>();
  const patch: WebhookPatch = {};
  const required = mode !== 'update';
  const field = <T>(
    name: string,
    parse: (v: unknown) => Parsed<T>,
    assign: (v: T) => void,
    need: boolean,
  ) => {
    if (!has(name)) {
      if (need) errors.set(name, ['This field is required.']);
      return;
    }
    const parsed = parse(input[name]);
    if (parsed.ok) assign(parsed.value);
    else errors.set(name, [parsed.message]);
  };
  field('enabled', parseBoolean, (v) => (patch.enabled = v), false);
  field('target_url', parseTargetUrl, (v) => (patch.url = v), required);
  field('all_events', parseBoolean, (v) => (patch.allEvents = v), false);
  field('limit_events', parseSlugs, (v) => (patch.limitEvents = v), false);
  field(
    'action_types',
    (v) => parseActionTypes(v, catalog),
    (v) => (patch.eventTypes = v),
    required,
  );
  field(
    'comment',
    (v) => parseChar(v, { nullable: true, blank: true }),
    (v) => (patch.comment = v),
    false,
  );
  if (errors.size > 0) return { ok: false, errors: ordered(errors) };
  if (mode === 'replace') {
    patch.enabled ??= true;
    patch.allEvents ??= true;
    patch.limitEvents ??= [];
    if (!has('comment')) patch.comment = null;
  }
  return { ok: true, patch };
}
