import { InputError } from '../input-error.ts';
import { compilePattern, intersectAutomata, UnsupportedPatternError, type CharacterAutomaton } from './pattern-automaton.ts';
import { STRING_FORMATS } from './string-formats.ts';

/**
 * A JSON Schema compiled to the grammar the constraint engine walks: one node per kind of JSON value, always
 * written compactly (no whitespace: with whitespace allowed, random-weight models write kilobytes of it).
 */
export type GrammarNode =
  | { kind: 'literal'; id: number; texts: Uint8Array[] }
  | { kind: 'string'; id: number; minLength: number; maxLength: number; pattern?: CharacterAutomaton }
  | { kind: 'number'; id: number; integer: boolean; bounds: NumberBounds | undefined }
  | { kind: 'array'; id: number; items: GrammarNode; minItems: number; maxItems: number }
  | { kind: 'object'; id: number; properties: GrammarProperty[] }
  | { kind: 'map'; id: number; key: GrammarNode; value: GrammarNode; colon: GrammarNode }
  | { kind: 'choice'; id: number; options: GrammarNode[] }
  | { kind: 'reference'; id: number; resolve: () => GrammarNode };

export interface GrammarProperty {
  /** `"name":`, the key and its colon, as one literal. */
  key: GrammarNode;
  value: GrammarNode;
  required: boolean;
}

/** Inclusive bounds, already tightened from exclusive ones where the type allows (integers). */
export interface NumberBounds {
  minimum: number;
  maximum: number;
  exclusiveMinimum: boolean;
  exclusiveMaximum: boolean;
}

/** Keywords that only describe: they never change which values are valid. */
const ANNOTATIONS = new Set(['$schema', '$id', '$comment', 'title', 'description', 'default', 'examples', 'deprecated', 'readOnly', 'writeOnly', 'strict']);
/** Keywords the engine honours, by where they may appear. */
const HONOURED = new Set([
  'type', 'enum', 'const', 'anyOf', 'oneOf', '$ref', '$defs', 'definitions', 'nullable',
  'properties', 'required', 'additionalProperties',
  'items', 'minItems', 'maxItems',
  'minLength', 'maxLength', 'pattern', 'format',
  'minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum',
]);
const TYPES = ['string', 'number', 'integer', 'boolean', 'null', 'object', 'array'] as const;
type JsonType = (typeof TYPES)[number];

/** The schema asks for something the engine cannot guarantee: a 400 that names the keyword, never an unconstrained answer. */
export class UnsupportedSchemaError extends InputError {
  constructor(
    readonly keyword: string,
    readonly path: string,
    detail = 'is not supported by the constrained decoder',
  ) {
    super('invalid', `schema keyword "${keyword}" at ${path} ${detail}; supported: ${[...HONOURED].join(', ')}`);
    this.name = 'UnsupportedSchemaError';
  }
}

type Schema = Record<string, unknown>;
/** A node before it has its id (Omit over each member of the union). */
type NodeFields = GrammarNode extends infer Node ? (Node extends GrammarNode ? Omit<Node, 'id'> : never) : never;

const encoder = new TextEncoder();

/** Bytes compared in order, so literals sort as the constraint's literal frames expect. */
function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const length = Math.min(a.length, b.length);
  for (let index = 0; index < length; index++) if (a[index] !== b[index]) return a[index] - b[index];
  return a.length - b.length;
}

/** JSON text as the engine writes it: compact, which is what JSON.stringify writes. */
function literalTexts(values: readonly unknown[]): Uint8Array[] {
  const unique = [...new Set(values.map((value) => JSON.stringify(value)))];
  return unique.map((text) => encoder.encode(text)).sort(compareBytes);
}

const typesOf = (value: unknown): JsonType[] => {
  if (value === null) return ['null'];
  if (Array.isArray(value)) return ['array'];
  if (typeof value === 'number') return Number.isInteger(value) ? ['integer', 'number'] : ['number'];
  return [typeof value as JsonType];
};

/**
 * Compiles a JSON Schema to a grammar. Every keyword is either honoured, an annotation, or refused: an
 * `UnsupportedSchemaError` names the first that is not, before anything is generated.
 */
export function compileJsonGrammar(root: unknown): GrammarNode {
  let nextId = 0;
  const references = new Map<string, GrammarNode>();
  const node = (fields: NodeFields): GrammarNode => ({ ...fields, id: nextId++ }) as GrammarNode;
  const literal = (values: readonly unknown[]) => node({ kind: 'literal', texts: literalTexts(values) });

  const resolvePointer = (pointer: string, path: string): Schema => {
    if (!pointer.startsWith('#/')) throw new UnsupportedSchemaError('$ref', path, `"${pointer}" is not a local reference (#/$defs/...)`);
    let target: unknown = root;
    for (const part of pointer.slice(2).split('/')) {
      const key = decodeURIComponent(part).replace(/~1/g, '/').replace(/~0/g, '~');
      target = target && typeof target === 'object' ? (target as Schema)[key] : undefined;
    }
    if (target === undefined) throw new UnsupportedSchemaError('$ref', path, `"${pointer}" points at nothing`);
    return target as Schema;
  };

  const compile = (schema: unknown, path: string): GrammarNode => {
    if (schema === true || (schema && typeof schema === 'object' && Object.keys(schema).every((key) => ANNOTATIONS.has(key)))) {
      return compileAny();
    }
    if (schema === false) throw new UnsupportedSchemaError('false', path, 'allows no value at all');
    if (!schema || typeof schema !== 'object' || Array.isArray(schema)) throw new UnsupportedSchemaError('(schema)', path, 'must be an object or a boolean');
    const object = schema as Schema;
    for (const key of Object.keys(object)) {
      if (!HONOURED.has(key) && !ANNOTATIONS.has(key)) throw new UnsupportedSchemaError(key, path);
    }
    if (typeof object.$ref === 'string') {
      const others = Object.keys(object).filter((key) => key !== '$ref' && !ANNOTATIONS.has(key) && key !== '$defs' && key !== 'definitions');
      if (others.length > 0) throw new UnsupportedSchemaError(others[0], path, 'beside $ref is not supported');
      const pointer = object.$ref;
      const known = references.get(pointer);
      if (known) return known;
      let target: GrammarNode | undefined;
      const reference = node({ kind: 'reference', resolve: () => target! });
      references.set(pointer, reference);
      target = compile(resolvePointer(pointer, path), pointer);
      return reference;
    }
    if ('const' in object) return checked(object, path, literal([object.const]));
    if (Array.isArray(object.enum)) {
      if (object.enum.length === 0) throw new UnsupportedSchemaError('enum', path, 'is empty: no value is allowed');
      return checked(object, path, literal(object.enum));
    }
    const alternatives = (object.anyOf ?? object.oneOf) as unknown;
    if (alternatives !== undefined) {
      const keyword = object.anyOf !== undefined ? 'anyOf' : 'oneOf';
      if (object.anyOf !== undefined && object.oneOf !== undefined) throw new UnsupportedSchemaError('oneOf', path, 'beside anyOf is not supported');
      if (!Array.isArray(alternatives) || alternatives.length === 0) throw new UnsupportedSchemaError(keyword, path, 'must be a non-empty array');
      const siblings = Object.keys(object).filter((key) => !ANNOTATIONS.has(key) && !['anyOf', 'oneOf', '$defs', 'definitions'].includes(key));
      if (siblings.length > 0) throw new UnsupportedSchemaError(siblings[0], path, `beside ${keyword} is not supported`);
      if (keyword === 'oneOf') requireDisjoint(alternatives as Schema[], path);
      return node({ kind: 'choice', options: alternatives.map((alternative, index) => compile(alternative, `${path}/${keyword}/${index}`)) });
    }
    const declared = object.type === undefined ? undefined : Array.isArray(object.type) ? object.type : [object.type];
    for (const type of declared ?? []) if (!TYPES.includes(type as JsonType)) throw new UnsupportedSchemaError('type', path, `"${String(type)}" is not a JSON type`);
    const types = new Set<JsonType>((declared as JsonType[] | undefined) ?? inferTypes(object));
    if (object.nullable === true) types.add('null');
    if (types.has('integer') && types.has('number')) types.delete('integer');
    const options = [...types].map((type) => compileTyped(type, object, path));
    return options.length === 1 ? options[0] : node({ kind: 'choice', options });
  };

  /** A type-free schema with type-specific keywords (`{"properties": ...}`) means that type. */
  const inferTypes = (object: Schema): JsonType[] => {
    if ('properties' in object || 'required' in object || 'additionalProperties' in object) return ['object'];
    if ('items' in object || 'minItems' in object || 'maxItems' in object) return ['array'];
    if (['minLength', 'maxLength', 'pattern', 'format'].some((key) => key in object)) return ['string'];
    if (['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum'].some((key) => key in object)) return ['number'];
    return [...TYPES].filter((type) => type !== 'integer');
  };

  /** `enum` and `const` with other keywords: each value must satisfy them, which is checked here once. */
  const checked = (object: Schema, path: string, compiled: GrammarNode): GrammarNode => {
    const values = 'const' in object ? [object.const] : (object.enum as unknown[]);
    const declared = object.type === undefined ? undefined : Array.isArray(object.type) ? object.type : [object.type];
    if (declared && !values.every((value) => typesOf(value).some((type) => declared.includes(type)))) {
      throw new UnsupportedSchemaError('enum', path, 'holds a value of another type than "type" allows');
    }
    const constraining = Object.keys(object).filter((key) => !ANNOTATIONS.has(key) && !['const', 'enum', 'type', '$defs', 'definitions'].includes(key));
    if (constraining.length > 0) throw new UnsupportedSchemaError(constraining[0], path, 'beside enum/const is not supported');
    return compiled;
  };

  const compileAny = (): GrammarNode => {
    // Any JSON value, objects and arrays of any values included: a recursive grammar through one reference.
    let any: GrammarNode | undefined;
    const reference = node({ kind: 'reference', resolve: () => any! });
    const key = node({ kind: 'string', minLength: 0, maxLength: Infinity });
    any = node({
      kind: 'choice',
      options: [
        node({ kind: 'string', minLength: 0, maxLength: Infinity }),
        node({ kind: 'number', integer: false, bounds: undefined }),
        literal([true, false, null]),
        node({ kind: 'array', items: reference, minItems: 0, maxItems: Infinity }),
        node({ kind: 'map', key, value: reference, colon: literalText(':') }),
      ],
    });
    return reference;
  };

  const literalText = (text: string) => node({ kind: 'literal', texts: [encoder.encode(text)] });

  const compileTyped = (type: JsonType, object: Schema, path: string): GrammarNode => {
    const refuseOthers = (allowed: readonly string[]) => {
      const common = ['type', 'nullable', '$defs', 'definitions'];
      for (const key of Object.keys(object)) {
        if (ANNOTATIONS.has(key) || common.includes(key) || allowed.includes(key)) continue;
        // A keyword of another type in a multi-type schema applies only to that type's values.
        if ((Array.isArray(object.type) && object.type.length > 1) || object.nullable === true) continue;
        throw new UnsupportedSchemaError(key, path, `does not apply to type "${type}"`);
      }
    };
    switch (type) {
      case 'null':
        refuseOthers([]);
        return literal([null]);
      case 'boolean':
        refuseOthers([]);
        return literal([false, true]);
      case 'string': {
        refuseOthers(['minLength', 'maxLength', 'pattern', 'format']);
        const minLength = readCount(object, 'minLength', path, 0);
        const maxLength = readCount(object, 'maxLength', path, Infinity);
        if (minLength > maxLength) throw new UnsupportedSchemaError('minLength', path, 'is above maxLength: no value is allowed');
        const pattern = readPattern(object, path);
        return node({ kind: 'string', minLength, maxLength, ...(pattern && { pattern }) });
      }
      case 'integer':
      case 'number': {
        refuseOthers(['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum']);
        return node({ kind: 'number', integer: type === 'integer', bounds: readBounds(object, type === 'integer', path) });
      }
      case 'array': {
        refuseOthers(['items', 'minItems', 'maxItems']);
        if (Array.isArray(object.items)) throw new UnsupportedSchemaError('items', path, 'as an array (tuple) is not supported');
        const minItems = readCount(object, 'minItems', path, 0);
        const maxItems = readCount(object, 'maxItems', path, Infinity);
        if (minItems > maxItems) throw new UnsupportedSchemaError('minItems', path, 'is above maxItems: no value is allowed');
        const items = object.items === undefined ? compileAny() : compile(object.items, `${path}/items`);
        return node({ kind: 'array', items, minItems, maxItems });
      }
      case 'object': {
        refuseOthers(['properties', 'required', 'additionalProperties']);
        const properties = (object.properties ?? {}) as Record<string, unknown>;
        const required = new Set((object.required ?? []) as string[]);
        for (const name of required) {
          if (!(name in properties)) throw new UnsupportedSchemaError('required', path, `names "${name}", which "properties" does not define`);
        }
        const names = Object.keys(properties);
        const additional = object.additionalProperties;
        if (names.length === 0 && additional !== false) {
          // Only additional properties: a map of string keys to values of their schema.
          const value = additional === undefined || additional === true ? compileAny() : compile(additional, `${path}/additionalProperties`);
          return node({ kind: 'map', key: node({ kind: 'string', minLength: 0, maxLength: Infinity }), value, colon: literalText(':') });
        }
        if (additional !== undefined && typeof additional !== 'boolean') compile(additional, `${path}/additionalProperties`);
        // Listed properties are written in their order, optional ones possibly left out; extra keys never are.
        return node({
          kind: 'object',
          properties: names.map((name) => ({
            key: literalText(`${JSON.stringify(name)}:`),
            value: compile(properties[name], `${path}/properties/${name}`),
            required: required.has(name),
          })),
        });
      }
    }
  };

  const compiled = compile(root, '#');
  return compiled;
}

function readCount(object: Schema, keyword: string, path: string, fallback: number): number {
  const value = object[keyword];
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) throw new UnsupportedSchemaError(keyword, path, 'must be a non-negative integer');
  return value;
}

function readBounds(object: Schema, integer: boolean, path: string): NumberBounds | undefined {
  const read = (keyword: string) => {
    const value = object[keyword];
    if (value === undefined) return undefined;
    // Draft 4's boolean exclusiveMinimum/exclusiveMaximum are refused: draft 6 on writes them as numbers.
    if (typeof value !== 'number' || !Number.isFinite(value)) throw new UnsupportedSchemaError(keyword, path, 'must be a finite number');
    return value;
  };
  const minimum = read('minimum');
  const maximum = read('maximum');
  const exclusiveMinimum = read('exclusiveMinimum');
  const exclusiveMaximum = read('exclusiveMaximum');
  if ([minimum, maximum, exclusiveMinimum, exclusiveMaximum].every((value) => value === undefined)) return undefined;
  let low = -Infinity;
  let lowExclusive = false;
  if (minimum !== undefined) low = minimum;
  if (exclusiveMinimum !== undefined && exclusiveMinimum >= low) [low, lowExclusive] = [exclusiveMinimum, true];
  let high = Infinity;
  let highExclusive = false;
  if (maximum !== undefined) high = maximum;
  if (exclusiveMaximum !== undefined && exclusiveMaximum <= high) [high, highExclusive] = [exclusiveMaximum, true];
  if (integer) {
    low = lowExclusive ? Math.floor(low) + 1 : Math.ceil(low);
    high = highExclusive ? Math.ceil(high) - 1 : Math.floor(high);
    lowExclusive = highExclusive = false;
  }
  if (low > high || (low === high && (lowExclusive || highExclusive))) throw new UnsupportedSchemaError('minimum', path, 'and maximum leave no value');
  return { minimum: low, maximum: high, exclusiveMinimum: lowExclusive, exclusiveMaximum: highExclusive };
}

/** Every string pattern in the grammar (references followed once), for what the constraint precomputes per pattern. */
export function listPatterns(root: GrammarNode): CharacterAutomaton[] {
  const patterns = new Set<CharacterAutomaton>();
  const seen = new Set<number>();
  const visit = (node: GrammarNode): void => {
    if (seen.has(node.id)) return;
    seen.add(node.id);
    if (node.kind === 'string' && node.pattern) patterns.add(node.pattern);
    else if (node.kind === 'reference') visit(node.resolve());
    else if (node.kind === 'choice') node.options.forEach(visit);
    else if (node.kind === 'array') visit(node.items);
    else if (node.kind === 'map') [node.key, node.value].forEach(visit);
    else if (node.kind === 'object') for (const property of node.properties) visit(property.value);
  };
  visit(root);
  return [...patterns];
}

/** A pattern's automaton, once per pattern text (formats are patterns too, shared by every schema using them). */
const patternCache = new Map<string, CharacterAutomaton>();
const PATTERN_CACHE_LIMIT = 256;

function compileCachedPattern(source: string, keyword: string, path: string): CharacterAutomaton {
  let automaton = patternCache.get(source);
  if (automaton) return automaton;
  try {
    automaton = compilePattern(source);
  } catch (error) {
    if (error instanceof UnsupportedPatternError) throw new UnsupportedSchemaError(keyword, path, error.message);
    throw error;
  }
  if (patternCache.size >= PATTERN_CACHE_LIMIT) patternCache.clear();
  patternCache.set(source, automaton);
  return automaton;
}

/** A string's `pattern` and `format` as one automaton (both must match), or undefined when it has neither. */
function readPattern(object: Record<string, unknown>, path: string): CharacterAutomaton | undefined {
  const automata: CharacterAutomaton[] = [];
  if (object.pattern !== undefined) {
    if (typeof object.pattern !== 'string') throw new UnsupportedSchemaError('pattern', path, 'must be a string');
    automata.push(compileCachedPattern(object.pattern, 'pattern', path));
  }
  if (object.format !== undefined) {
    const format = STRING_FORMATS[String(object.format)];
    if (typeof object.format !== 'string' || format === undefined) {
      throw new UnsupportedSchemaError('format', path, `${JSON.stringify(object.format)} is not supported; supported formats: ${Object.keys(STRING_FORMATS).join(', ')}`);
    }
    automata.push(compileCachedPattern(format, 'format', path));
  }
  return automata.length === 0 ? undefined : automata.reduce(intersectAutomata);
}

/**
 * `oneOf` means exactly one alternative matches. The engine writes a value of one alternative, so it is honoured
 * only where no value can match two: alternatives of distinct types, or of distinct const/enum values.
 */
function requireDisjoint(alternatives: Schema[], path: string): void {
  const describe = (schema: Schema): { types: Set<string>; values?: string[] } | undefined => {
    if (!schema || typeof schema !== 'object') return undefined;
    if ('const' in schema) return { types: new Set(typesOf(schema.const)), values: [JSON.stringify(schema.const)] };
    if (Array.isArray(schema.enum)) return { types: new Set(schema.enum.flatMap(typesOf)), values: schema.enum.map((value) => JSON.stringify(value)) };
    if (schema.type === undefined || typeof schema.$ref === 'string' || schema.anyOf || schema.oneOf) return undefined;
    const types = new Set(Array.isArray(schema.type) ? (schema.type as string[]) : [schema.type as string]);
    if (types.has('number')) types.add('integer');
    if (types.has('integer')) types.add('number');
    if (schema.nullable === true) types.add('null');
    return { types };
  };
  const described = alternatives.map(describe);
  for (let a = 0; a < described.length; a++) {
    for (let b = a + 1; b < described.length; b++) {
      const [first, second] = [described[a], described[b]];
      const disjoint =
        first !== undefined &&
        second !== undefined &&
        (![...first.types].some((type) => second.types.has(type)) ||
          (first.values !== undefined && second.values !== undefined && !first.values.some((value) => second.values!.includes(value))));
      if (!disjoint) throw new UnsupportedSchemaError('oneOf', `${path}/oneOf/${b}`, `overlaps alternative ${a}: only alternatives of distinct types or distinct const/enum values are supported (use anyOf)`);
    }
  }
}
