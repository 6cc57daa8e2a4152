/**
 * The schemas constrained decoding is tested on (issue 17): nested objects and arrays, item bounds, enum and const,
 * anyOf/oneOf, integer and number bounds, booleans, null, required and optional keys, additionalProperties false,
 * string lengths, $ref/$defs (recursive too), OpenAPI's nullable, and a free JSON object. Strings without a
 * maxLength are kept few: a random-weight model closes a string only by chance.
 */
export const SCHEMA_SUITE: { name: string; schema: Record<string, unknown> }[] = [
  { name: 'boolean', schema: { type: 'boolean' } },
  { name: 'null', schema: { type: 'null' } },
  { name: 'integer', schema: { type: 'integer' } },
  { name: 'number', schema: { type: 'number' } },
  { name: 'bounded integer', schema: { type: 'integer', minimum: -5, maximum: 12 } },
  { name: 'exclusive integer', schema: { type: 'integer', exclusiveMinimum: 100, exclusiveMaximum: 104 } },
  { name: 'positive integer', schema: { type: 'integer', minimum: 1 } },
  { name: 'negative number', schema: { type: 'number', maximum: -0.5 } },
  { name: 'unit number', schema: { type: 'number', minimum: 0, maximum: 1 } },
  { name: 'exclusive number', schema: { type: 'number', exclusiveMinimum: 2.5, exclusiveMaximum: 3 } },
  { name: 'short string', schema: { type: 'string', maxLength: 8 } },
  { name: 'fixed-length string', schema: { type: 'string', minLength: 3, maxLength: 3 } },
  { name: 'string with a minimum', schema: { type: 'string', minLength: 2, maxLength: 12 } },
  { name: 'empty string only', schema: { type: 'string', maxLength: 0 } },
  { name: 'string enum', schema: { enum: ['red', 'green', 'blue', 'reddish'] } },
  { name: 'mixed enum', schema: { enum: [1, 12, 'one', null, true, { a: [1] }] } },
  { name: 'const', schema: { const: { version: 2, tags: ['x'] } } },
  { name: 'typed const', schema: { type: 'string', const: 'fixed "quoted" \\ text' } },
  { name: 'nullable string', schema: { type: 'string', maxLength: 5, nullable: true } },
  { name: 'type list', schema: { type: ['integer', 'null', 'boolean'] } },
  { name: 'empty object', schema: { type: 'object', additionalProperties: false } },
  {
    name: 'person',
    schema: {
      type: 'object',
      properties: { name: { type: 'string', minLength: 1, maxLength: 12 }, age: { type: 'integer', minimum: 0, maximum: 130 } },
      required: ['name', 'age'],
      additionalProperties: false,
    },
  },
  {
    name: 'optional keys',
    schema: {
      type: 'object',
      properties: { a: { type: 'boolean' }, b: { type: 'integer', maximum: 9, minimum: 0 }, c: { type: 'null' } },
      additionalProperties: false,
    },
  },
  {
    name: 'required after optional',
    schema: {
      type: 'object',
      properties: { note: { type: 'string', maxLength: 4 }, id: { type: 'integer', minimum: 1, maximum: 999 }, flag: { type: 'boolean' } },
      required: ['id'],
      additionalProperties: false,
    },
  },
  { name: 'bounded array', schema: { type: 'array', items: { type: 'integer', minimum: 0, maximum: 9 }, minItems: 2, maxItems: 4 } },
  { name: 'empty array only', schema: { type: 'array', items: { type: 'string' }, maxItems: 0 } },
  { name: 'array of enums', schema: { type: 'array', items: { enum: ['a', 'b', 'c'] }, minItems: 1, maxItems: 5 } },
  { name: 'array of booleans', schema: { type: 'array', items: { type: 'boolean' }, maxItems: 6 } },
  { name: 'matrix', schema: { type: 'array', items: { type: 'array', items: { type: 'number', minimum: -1, maximum: 1 }, minItems: 2, maxItems: 2 }, minItems: 2, maxItems: 3 } },
  {
    name: 'nested objects',
    schema: {
      type: 'object',
      properties: {
        user: {
          type: 'object',
          properties: { id: { type: 'integer', minimum: 0, maximum: 99 }, admin: { type: 'boolean' } },
          required: ['id', 'admin'],
          additionalProperties: false,
        },
        meta: { type: 'object', properties: { v: { const: 1 } }, required: ['v'], additionalProperties: false },
      },
      required: ['user', 'meta'],
      additionalProperties: false,
    },
  },
  {
    name: 'array of objects',
    schema: {
      type: 'array',
      items: {
        type: 'object',
        properties: { sku: { type: 'string', minLength: 2, maxLength: 6 }, quantity: { type: 'integer', minimum: 1, maximum: 20 } },
        required: ['sku', 'quantity'],
        additionalProperties: false,
      },
      minItems: 1,
      maxItems: 3,
    },
  },
  { name: 'anyOf', schema: { anyOf: [{ type: 'integer', minimum: 0, maximum: 3 }, { type: 'string', maxLength: 3 }, { type: 'null' }] } },
  { name: 'oneOf by type', schema: { oneOf: [{ type: 'boolean' }, { type: 'array', items: { type: 'null' }, maxItems: 2 }] } },
  {
    name: 'oneOf by const',
    schema: {
      oneOf: [
        { const: 'circle' },
        { const: 'square' },
      ],
    },
  },
  {
    name: 'tagged union',
    schema: {
      type: 'object',
      properties: {
        shape: {
          anyOf: [
            { type: 'object', properties: { kind: { const: 'circle' }, radius: { type: 'number', minimum: 0, maximum: 10 } }, required: ['kind', 'radius'], additionalProperties: false },
            { type: 'object', properties: { kind: { const: 'box' }, side: { type: 'integer', minimum: 1, maximum: 5 } }, required: ['kind', 'side'], additionalProperties: false },
          ],
        },
      },
      required: ['shape'],
      additionalProperties: false,
    },
  },
  {
    name: '$ref and $defs',
    schema: {
      $defs: { point: { type: 'object', properties: { x: { type: 'integer', minimum: 0, maximum: 9 }, y: { type: 'integer', minimum: 0, maximum: 9 } }, required: ['x', 'y'], additionalProperties: false } },
      type: 'object',
      properties: { from: { $ref: '#/$defs/point' }, to: { $ref: '#/$defs/point' } },
      required: ['from', 'to'],
      additionalProperties: false,
    },
  },
  {
    name: 'definitions (draft 7)',
    schema: { definitions: { level: { enum: ['low', 'high'] } }, type: 'array', items: { $ref: '#/definitions/level' }, minItems: 1, maxItems: 2 },
  },
  {
    name: 'recursive tree',
    schema: {
      $defs: {
        node: {
          type: 'object',
          properties: { value: { type: 'integer', minimum: 0, maximum: 9 }, children: { type: 'array', items: { $ref: '#/$defs/node' }, maxItems: 2 } },
          required: ['value'],
          additionalProperties: false,
        },
      },
      $ref: '#/$defs/node',
    },
  },
  { name: 'map of integers', schema: { type: 'object', additionalProperties: { type: 'integer', minimum: 0, maximum: 5 } } },
  { name: 'any JSON', schema: {} },
  { name: 'json object', schema: { type: 'object' } },
  {
    name: 'invoice',
    schema: {
      type: 'object',
      properties: {
        number: { type: 'integer', minimum: 1000, maximum: 9999 },
        paid: { type: 'boolean' },
        currency: { enum: ['EUR', 'USD'] },
        lines: {
          type: 'array',
          items: { type: 'object', properties: { amount: { type: 'number', minimum: 0, maximum: 100 }, tax: { type: ['number', 'null'], minimum: 0, maximum: 1 } }, required: ['amount'], additionalProperties: false },
          maxItems: 2,
        },
      },
      required: ['number', 'paid', 'currency', 'lines'],
      additionalProperties: false,
    },
  },
  {
    name: 'classification answer',
    schema: {
      type: 'object',
      properties: { label: { enum: ['positive', 'negative', 'neutral'] }, confidence: { type: 'number', minimum: 0, maximum: 1 } },
      required: ['label', 'confidence'],
      additionalProperties: false,
    },
  },
  {
    name: 'annotated',
    schema: {
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      title: 'Annotated',
      description: 'annotations change nothing',
      type: 'object',
      properties: { ok: { type: 'boolean', description: 'a flag', default: true, examples: [false] } },
      required: ['ok'],
      additionalProperties: false,
    },
  },
  { name: 'deep nesting', schema: { type: 'array', items: { type: 'array', items: { type: 'array', items: { const: 0 }, maxItems: 2 }, maxItems: 2 }, minItems: 1, maxItems: 2 } },
];

/** Schemas the engine must refuse, with the keyword the 400 names. */
export const UNSUPPORTED_SCHEMAS: { schema: Record<string, unknown>; keyword: string }[] = [
  { schema: { type: 'string', pattern: '^(a)\\1$' }, keyword: 'pattern' },
  { schema: { type: 'string', pattern: '^(?=a)\\w+$' }, keyword: 'pattern' },
  { schema: { type: 'string', pattern: '^a\\bb' }, keyword: 'pattern' },
  { schema: { type: 'string', pattern: '[' }, keyword: 'pattern' },
  { schema: { type: 'string', format: 'hostname' }, keyword: 'format' },
  { schema: { type: 'number', multipleOf: 0.5 }, keyword: 'multipleOf' },
  { schema: { type: 'array', uniqueItems: true }, keyword: 'uniqueItems' },
  { schema: { type: 'array', contains: { const: 1 } }, keyword: 'contains' },
  { schema: { allOf: [{ type: 'integer' }] }, keyword: 'allOf' },
  { schema: { not: { type: 'null' } }, keyword: 'not' },
  { schema: { if: { type: 'string' }, then: { maxLength: 2 } }, keyword: 'if' },
  { schema: { type: 'object', dependentRequired: { a: ['b'] } }, keyword: 'dependentRequired' },
  { schema: { type: 'object', patternProperties: { '^x': { type: 'integer' } } }, keyword: 'patternProperties' },
  { schema: { type: 'object', minProperties: 1 }, keyword: 'minProperties' },
  { schema: { $ref: 'https://example.com/schema.json' }, keyword: '$ref' },
  { schema: { oneOf: [{ type: 'integer' }, { type: 'number' }] }, keyword: 'oneOf' },
  { schema: { type: 'array', prefixItems: [{ type: 'integer' }] }, keyword: 'prefixItems' },
  { schema: { type: 'string', minLength: 5, maxLength: 2 }, keyword: 'minLength' },
];

/**
 * Strings under `pattern` and `format` (each format is a pattern of what the decoder writes). Patterns are
 * anchored where a random-weight model could otherwise wander: an unanchored one matches anywhere, so its string
 * closes only by chance.
 */
export const PATTERN_SUITE: { name: string; schema: Record<string, unknown> }[] = [
  ...['date', 'time', 'date-time', 'email', 'uuid', 'ipv4', 'uri'].map((format) => ({ name: `format ${format}`, schema: { type: 'string', format } })),
  { name: 'code', schema: { type: 'string', pattern: '^[A-Z]{2}-\\d{3}$' } },
  { name: 'alternatives', schema: { type: 'string', pattern: '^(cat|dog|bird)s?$' } },
  { name: 'negated class', schema: { type: 'string', pattern: '^[^a-z]{1,4}$' } },
  { name: 'escaped characters', schema: { type: 'string', pattern: '^[\\n\\t"\\\\]{2}x$' } },
  { name: 'non-ASCII characters', schema: { type: 'string', pattern: '^[é-ü]{2}(ß|€)$' } },
  { name: 'unanchored', schema: { type: 'string', pattern: '\\d', maxLength: 6 } },
  { name: 'pattern with lengths', schema: { type: 'string', pattern: '^[ab]+$', minLength: 2, maxLength: 4 } },
  { name: 'pattern and format', schema: { type: 'string', format: 'date', pattern: '^2024-' } },
  {
    name: 'object with patterns',
    schema: {
      type: 'object',
      properties: { id: { type: 'string', format: 'uuid' }, zip: { type: 'string', pattern: '^\\d{5}$' }, day: { type: 'string', format: 'date' } },
      required: ['id', 'zip', 'day'],
      additionalProperties: false,
    },
  },
];

