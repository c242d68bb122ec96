/**
 * Request validation, in one place: types are never coerced.
 *
 * - JSON bodies are validated as sent (Ajv's `coerceTypes` is off): `{"name": 123}` is
 *   `400 bad_request`, never the room "123".
 * - Query strings and path parameters are text by nature. Before validation, a value that the
 *   route's schema declares `integer` becomes a number when, and only when, it is a plain decimal
 *   integer (`0`, `42`, `-1`); `1.0`, `1e3`, `0x1`, `00001`, ` 1`, `Infinity` stay text, which the
 *   schema then refuses. A `boolean` one becomes true or false only from exactly `true` or
 *   `false`. Every other property (a presence `after=NAME`) stays text even when it looks like a
 *   number. The OpenAPI document keeps saying `integer`, which is what is accepted.
 */
import type { FastifyInstance, FastifyRequest, RouteOptions } from 'fastify';

/** What Fastify hands to Ajv; `removeAdditional: false` keeps unknown fields refusable. */
export const ajvOptions = { customOptions: { coerceTypes: false, removeAdditional: false } };

/** Decimal digits without leading zeros, optionally negative (so `-1` fails `minimum`, clearly). */
const PLAIN_INTEGER = /^(?:0|-?[1-9]\d*)$/;

/** The number a plain decimal integer stands for; undefined for any other text. */
export function plainInteger(text: string): number | undefined {
  return PLAIN_INTEGER.test(text) ? Number(text) : undefined;
}

interface ObjectSchema {
  properties?: Record<string, { type?: unknown }>;
}

const BOOLEANS: Record<string, boolean> = { true: true, false: false };

/** The properties an object schema declares `integer` or `boolean`. */
function typedProperties(schema: unknown): string[] {
  const properties = (schema as ObjectSchema | undefined)?.properties ?? {};
  return Object.keys(properties).filter((name) => {
    const type = properties[name]?.type;
    return type === 'integer' || type === 'boolean';
  });
}

function convert(values: unknown, names: readonly string[]): void {
  if (typeof values !== 'object' || values === null) return;
  const record = values as Record<string, unknown>;
  for (const name of names) {
    const value = record[name];
    if (typeof value !== 'string') continue;
    const converted = Object.hasOwn(BOOLEANS, value) ? BOOLEANS[value] : plainInteger(value);
    if (converted !== undefined) record[name] = converted;
  }
}

/**
 * Makes every route registered after this call read its integer query and path parameters as
 * described above. Call it before registering routes.
 */
export function readIntegersStrictly(app: FastifyInstance): void {
  app.addHook('onRoute', (route: RouteOptions) => {
    const query = typedProperties(route.schema?.querystring);
    const params = typedProperties(route.schema?.params);
    if (query.length === 0 && params.length === 0) return;
    const toNumbers = (request: FastifyRequest, _reply: unknown, done: () => void) => {
      convert(request.query, query);
      convert(request.params, params);
      done();
    };
    const existing = route.preValidation;
    route.preValidation = [toNumbers, ...(existing ? [existing].flat() : [])];
  });
}
