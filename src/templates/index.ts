/**
 * Taler-compatible templates: mustache rendering with mustach semantics, an opt-in JSON-safe
 * escape mode, header templates that cannot inject headers, write-time validation, and the
 * rendering of a whole outgoing request.
 *
 * @module
 */
export {
  type CompiledTemplate,
  clearTemplateCache,
  compileTemplate,
  MAX_SECTION_DEPTH,
  TEMPLATE_CACHE_MAX_CHARS,
  TEMPLATE_CACHE_MAX_ENTRIES,
  templateCacheSize,
} from './compile.js';
export { escapeHtml, escapeJson } from './escape.js';
export {
  FORBIDDEN_HEADER_NAMES,
  isForbiddenHeaderName,
  parseHeaderLines,
  type RenderHeadersOptions,
  renderHeaders,
} from './headers.js';
export { type RenderTemplateOptions, renderTemplate } from './render.js';
export {
  type DefaultPayloadOptions,
  defaultPayload,
  type PayloadStyle,
  PRETIX_FIXED_KEYS,
  type RenderableWebhook,
  type RenderRequestOptions,
  renderRequest,
} from './request.js';
export {
  DEFAULT_MAX_TEMPLATE_BYTES,
  type ValidateTemplateOptions,
  type ValidateWebhookTemplatesOptions,
  validateTemplate,
  validateWebhookTemplates,
} from './validate.js';
