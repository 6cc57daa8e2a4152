import type * as z from 'zod/mini';

/*
 * zod's mini build carries no message locale (decision 2: bundle size), so every issue it reports reads "Invalid
 * input". A client needs the field and what it may hold: this writes both from the issue and the schema itself,
 * e.g. `parameters.top_k: must be null or an integer of at least 0, got "3"`.
 */

/** The parts of a zod schema's definition read here (zod 4's `_zod.def`). */
interface SchemaDefinition {
  type: string;
  format?: string;
  innerType?: Schema;
  in?: Schema;
  shape?: Record<string, Schema>;
  element?: Schema;
  options?: readonly Schema[];
  entries?: Record<string, string | number>;
  values?: readonly unknown[];
  checks?: readonly { _zod: { def: { check: string; value?: unknown; inclusive?: boolean; minimum?: number; maximum?: number } } }[];
}

type Schema = z.core.$ZodType;

const definitionOf = (schema: Schema): SchemaDefinition => schema._zod.def as unknown as SchemaDefinition;

const WRAPPERS = new Set(['optional', 'default', 'prefault', 'nonoptional', 'readonly', 'catch']);

/** The schema without optional/default wrappers (null stays: it is a value a client may send). */
function unwrap(schema: Schema): Schema {
  let current = schema;
  for (;;) {
    const definition = definitionOf(current);
    if (WRAPPERS.has(definition.type) && definition.innerType) current = definition.innerType;
    else if (definition.type === 'pipe' && definition.in) current = definition.in;
    else return current;
  }
}

/** The schema that checks the value at `path` inside `schema`, or undefined where the path leaves it. */
function findSchemaAt(schema: Schema, path: readonly PropertyKey[]): Schema | undefined {
  let current: Schema | undefined = schema;
  for (const key of path) {
    if (!current) return undefined;
    current = findChild(unwrap(current), key);
  }
  return current;
}

function findChild(schema: Schema, key: PropertyKey): Schema | undefined {
  const definition = definitionOf(schema);
  if (definition.type === 'object') return definition.shape?.[String(key)];
  if (definition.type === 'array') return typeof key === 'number' ? definition.element : undefined;
  if (definition.type === 'nullable' && definition.innerType) return findChild(unwrap(definition.innerType), key);
  if (definition.type === 'union') {
    for (const option of definition.options ?? []) {
      const child = findChild(unwrap(option), key);
      if (child) return child;
    }
  }
  return undefined;
}

function describeBounds(definition: SchemaDefinition, unit: (count: number) => string): string {
  const bounds: string[] = [];
  for (const check of definition.checks ?? []) {
    const { check: kind, value, inclusive, minimum, maximum } = check._zod.def;
    if (kind === 'greater_than') bounds.push(inclusive ? `at least ${String(value)}` : `greater than ${String(value)}`);
    else if (kind === 'less_than') bounds.push(inclusive ? `at most ${String(value)}` : `less than ${String(value)}`);
    else if (kind === 'min_length' && minimum !== undefined) bounds.push(`at least ${unit(minimum)}`);
    else if (kind === 'max_length' && maximum !== undefined) bounds.push(`at most ${unit(maximum)}`);
  }
  return bounds.join(' and ');
}

const plural = (word: string) => (count: number) => `${count} ${word}${count === 1 ? '' : 's'}`;

/** What a schema allows, in words: "an integer of at least 1", `one of "none", "simple"`, "a list of strings". */
export function describeAllowed(schema: Schema): string {
  const unwrapped = unwrap(schema);
  const definition = definitionOf(unwrapped);
  switch (definition.type) {
    case 'nullable':
      return `null or ${describeAllowed(definition.innerType!)}`;
    case 'number': {
      const noun = definition.format?.includes('int') ? 'an integer' : 'a number';
      const bounds = describeBounds(definition, String);
      if (!bounds) return noun;
      return bounds.startsWith('at ') ? `${noun} of ${bounds}` : `${noun} ${bounds}`;
    }
    case 'string': {
      const bounds = describeBounds(definition, plural('character'));
      return bounds === 'at least 1 character' ? 'a non-empty string' : bounds ? `a string of ${bounds}` : 'a string';
    }
    case 'boolean':
      return 'true or false';
    case 'enum':
      return `one of ${Object.values(definition.entries ?? {}).map((value) => JSON.stringify(value)).join(', ')}`;
    case 'literal':
      return (definition.values ?? []).map((value) => JSON.stringify(value)).join(' or ');
    case 'array': {
      const bounds = describeBounds(definition, plural('item'));
      const item = describeAllowed(definition.element!);
      // "a non-empty string" → "non-empty strings"; anything longer reads as a clause.
      const items = /^an? [a-z -]+$/.test(item) && !item.includes(' of ') ? `${item.replace(/^an? /, '')}s` : `items that are each ${item}`;
      if (bounds === 'at least 1 item') return `a non-empty list of ${items}`;
      return bounds ? `a list of ${items}, ${bounds}` : `a list of ${items}`;
    }
    case 'union':
      return (definition.options ?? []).map(describeAllowed).join(' or ');
    case 'object': {
      // A tagged object reads by its tag: `an object with type "text"`.
      const tag = Object.entries(definition.shape ?? {}).find(([, field]) => definitionOf(unwrap(field)).type === 'literal');
      return tag ? `an object with ${tag[0]} ${describeAllowed(tag[1])}` : 'an object';
    }
    case 'record':
      return 'an object';
    default:
      return 'a valid value';
  }
}

/** A short picture of what the client sent, for "got ...". */
function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return `a list of ${value.length}`;
  if (typeof value === 'object' && value !== null) return 'an object';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

function readValueAt(data: unknown, path: readonly PropertyKey[]): unknown {
  let current = data;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

/** `parameters.top_k`, `inputs[1]`. */
function formatPath(prefix: string, path: readonly PropertyKey[]): string {
  let text = prefix;
  for (const key of path) text += typeof key === 'number' ? `[${key}]` : text ? `.${String(key)}` : String(key);
  return text;
}

// zod's own message when the schema gave none: "Invalid input" from the mini build, or an English one once any
// module in the process has loaded classic zod, which installs its locale for every zod (a dependency may). Every
// other message was written by honnx's schemas ("must not be empty").
const ZOD_DEFAULT_MESSAGE = /^(Invalid |Too (small|big)|Unrecognized key)/;

function describeIssue(issue: z.core.$ZodIssue, schema: Schema, data: unknown, prefix: string, base: readonly PropertyKey[]): string[] {
  const path = [...base, ...issue.path];
  const field = formatPath(prefix, path) || 'request body';
  if (issue.code === 'unrecognized_keys') {
    const allowed = Object.keys(definitionOf(unwrap(findSchemaAt(schema, path) ?? schema)).shape ?? {});
    const noun = prefix === 'parameters' && path.length === 0 ? 'parameter' : 'field';
    const names = issue.keys.map((key) => `"${key}"`).join(', ');
    return [`${field}: unknown ${noun}${issue.keys.length === 1 ? '' : 's'} ${names}; allowed: ${allowed.join(', ') || 'none'}`];
  }
  if (!ZOD_DEFAULT_MESSAGE.test(issue.message)) return [`${field}: ${issue.message}`];
  if (issue.code === 'invalid_union') {
    // The branch whose type the value has (a text, or a list whose items are wrong) says what is wrong with it.
    // Among objects, the branch whose tag (`type: "json_schema"`) the value carries; where no single branch fits,
    // the whole union is described, instead of the first branch's complaints.
    const ofItsType = issue.errors.filter((branch) => branch.length > 0 && !branch.some((inner) => inner.code === 'invalid_type' && inner.path.length === 0));
    const ofItsTag = ofItsType.filter((branch) => !branch.some((inner) => inner.code === 'invalid_value' && inner.path.length === 1));
    const matching = ofItsType.length === 1 ? ofItsType[0] : ofItsTag.length === 1 ? ofItsTag[0] : undefined;
    if (matching) return matching.flatMap((inner) => describeIssue(inner, schema, data, prefix, path));
  }
  const checked = findSchemaAt(schema, path);
  const allowed = checked ? describeAllowed(checked) : 'a valid value';
  return [`${field}: must be ${allowed}, got ${describeValue(readValueAt(data, path))}`];
}

/**
 * One message for a failed parse: each issue names its field (`prefix` and the issue's path) and what is allowed
 * there, read from `schema`, the schema that `data` failed.
 */
export function describeIssues(error: z.core.$ZodError, schema: Schema, data: unknown, prefix: string): string {
  return error.issues.flatMap((issue) => describeIssue(issue, schema, data, prefix, [])).join('; ');
}
