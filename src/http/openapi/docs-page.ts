import { PAGE_ICON, PAGE_STYLE } from '../playground/page-style.ts';

// The page's own script, sent as it is: it fetches ./openapi.json and builds the reference with DOM calls and
// textContent only (no innerHTML), so that a function's description cannot inject markup. Written without template
// literals so that it can sit in this String.raw.
const DOCS_SCRIPT = String.raw`
'use strict';
var BACKTICK = '\x60';
var SAFE_INTEGER = 9007199254740991;

function element(tag, attributes, children) {
  var node = document.createElement(tag);
  Object.keys(attributes || {}).forEach(function (name) { node.setAttribute(name, attributes[name]); });
  (children || []).forEach(function (child) { if (child != null) node.append(child); });
  return node;
}

/** Text with its backtick spans as <code>: the only markup the descriptions use. */
function prose(tag, text) {
  var node = element(tag);
  String(text || '').split(BACKTICK).forEach(function (part, index) { node.append(index % 2 ? element('code', {}, [part]) : part); });
  return node;
}

function resolve(documentJson, value) {
  var seen = 0;
  while (value && value.$ref && seen++ < 16) {
    value = value.$ref.replace(/^#\//, '').split('/').reduce(function (parent, key) { return parent && parent[key]; }, documentJson);
  }
  return value || {};
}

function refName(value) { return value && value.$ref ? value.$ref.split('/').pop() : ''; }

/** A schema in a line: its type and constraints, with object properties left to describeProperties. */
function describeType(documentJson, schema) {
  var name = refName(schema);
  schema = resolve(documentJson, schema);
  var alternatives = schema.anyOf || schema.oneOf;
  if (alternatives) return alternatives.map(function (option) { return describeType(documentJson, option); }).join(' | ');
  if (schema.const !== undefined) return JSON.stringify(schema.const);
  if (schema.enum) return schema.enum.map(function (value) { return JSON.stringify(value); }).join(' | ');
  var type = Array.isArray(schema.type) ? schema.type.join(' | ') : schema.type || (name || 'any');
  if (schema.type === 'array') type = 'array of ' + describeType(documentJson, schema.items || {});
  if (schema.type === 'object' && name) type = name;
  var limits = [];
  if (schema.minLength !== undefined) limits.push('length >= ' + schema.minLength);
  if (schema.maxLength !== undefined) limits.push('length <= ' + schema.maxLength);
  if (schema.minItems !== undefined) limits.push('at least ' + schema.minItems);
  if (schema.maxItems !== undefined) limits.push('at most ' + schema.maxItems);
  if (schema.minimum !== undefined && schema.minimum > -SAFE_INTEGER) limits.push('>= ' + schema.minimum);
  if (schema.exclusiveMinimum !== undefined) limits.push('> ' + schema.exclusiveMinimum);
  if (schema.maximum !== undefined && schema.maximum < SAFE_INTEGER) limits.push('<= ' + schema.maximum);
  if (schema.exclusiveMaximum !== undefined) limits.push('< ' + schema.exclusiveMaximum);
  if (schema.pattern) limits.push('matches /' + schema.pattern + '/');
  return limits.length ? type + ' (' + limits.join(', ') + ')' : type;
}

/** The object schemas a schema stands for: itself, its items, or each alternative's, without repeats. */
function objectsOf(documentJson, schema, found) {
  found = found || [];
  schema = resolve(documentJson, schema);
  if (schema.properties) {
    var key = JSON.stringify(schema);
    if (!found.some(function (known) { return JSON.stringify(known) === key; })) found.push(schema);
  } else if (schema.type === 'array') {
    objectsOf(documentJson, schema.items || {}, found);
  } else {
    (schema.anyOf || schema.oneOf || []).forEach(function (option) { objectsOf(documentJson, option, found); });
  }
  return found;
}

/** A table of an object's properties, nested objects in their own rows' cells. */
function describeObject(documentJson, object, depth) {
  var required = object.required || [];
  var rows = Object.keys(object.properties).map(function (key) {
    var property = object.properties[key];
    var resolved = resolve(documentJson, property);
    var cell = element('td', {}, [prose('div', resolved.description || '')].concat(describeProperties(documentJson, property, depth + 1)));
    return element('tr', { 'data-property': key }, [
      element('td', { class: 'name' }, [element('code', {}, [key]), required.indexOf(key) >= 0 ? element('small', { class: 'muted' }, [' required']) : null]),
      element('td', {}, [element('code', {}, [describeType(documentJson, property)])]),
      cell,
    ]);
  });
  var head = element('tr', {}, [element('th', {}, ['name']), element('th', {}, ['type']), element('th', {}, ['description'])]);
  var table = element('table', {}, [head].concat(rows));
  if (object.additionalProperties === false) return element('div', {}, [table, element('div', { class: 'muted' }, ['No other keys are accepted.'])]);
  return table;
}

/** A table for each object the schema stands for; "or" between alternatives. */
function describeProperties(documentJson, schema, depth) {
  if (depth > 4) return [];
  var objects = objectsOf(documentJson, schema);
  var parts = [];
  objects.forEach(function (object, index) {
    if (index > 0) parts.push(element('div', { class: 'muted' }, ['or']));
    parts.push(describeObject(documentJson, object, depth));
  });
  return parts;
}

function describeSchema(documentJson, schema) {
  return element('div', {}, [element('p', {}, [element('code', {}, [describeType(documentJson, schema)])])].concat(describeProperties(documentJson, schema, 0)));
}

function describeOperation(documentJson, path, method, operation) {
  var id = method + '-' + path;
  var parts = [
    element('h3', { id: id }, [element('span', { class: 'method ' + method }, [method.toUpperCase()]), ' ', element('code', {}, [path]), ' ', operation.summary || '']),
  ];
  if (operation.description) operation.description.split('\n\n').forEach(function (paragraph) { parts.push(prose('p', paragraph)); });
  if (operation.security && operation.security.length) parts.push(element('p', { class: 'muted' }, ['Needs Authorization: Bearer <key>.']));
  var body = operation.requestBody && operation.requestBody.content && operation.requestBody.content['application/json'];
  if (body) {
    parts.push(element('h4', {}, ['Request body (application/json)']), describeSchema(documentJson, body.schema));
    Object.keys(body.examples || {}).forEach(function (name) {
      var example = body.examples[name];
      parts.push(element('div', { class: 'muted' }, ['Example: ' + (example.summary || name)]), element('pre', { class: 'example' }, [JSON.stringify(example.value, null, 2)]));
    });
  }
  parts.push(element('h4', {}, ['Responses']));
  var rows = Object.keys(operation.responses || {}).map(function (status) {
    var response = resolve(documentJson, operation.responses[status]);
    // Reusable error responses start with their status, which the row already shows.
    var cells = [prose('div', (response.description || '').replace(/^\d{3}: /, ''))];
    Object.keys(response.content || {}).forEach(function (mediaType) {
      var content = response.content[mediaType];
      var schema = content['x-honnx-event-schema'] || content.schema;
      if (status[0] === '2' && schema) cells.push(element('div', { class: 'muted' }, [mediaType]), describeSchema(documentJson, schema));
    });
    return element('tr', { 'data-status': status }, [element('td', {}, [element('code', {}, [status])]), element('td', {}, cells)]);
  });
  parts.push(element('table', { class: 'responses' }, [element('tr', {}, [element('th', {}, ['status']), element('th', {}, ['meaning'])])].concat(rows)));
  return element('article', { class: 'operation', 'data-path': path, 'data-method': method }, parts);
}

function render(documentJson) {
  var nav = document.querySelector('nav');
  var content = document.querySelector('section.content');
  content.replaceChildren(element('h2', {}, [documentJson.info.title + ' ', element('small', { class: 'muted' }, ['version ' + documentJson.info.version])]), prose('p', documentJson.info.description));
  nav.replaceChildren();
  Object.keys(documentJson.paths).forEach(function (path) {
    var item = documentJson.paths[path];
    ['get', 'post'].forEach(function (method) {
      if (!item[method]) return;
      nav.append(element('a', { href: '#' + method + '-' + path }, [element('span', { class: 'method ' + method }, [method.toUpperCase()]), ' ' + path]));
      content.append(describeOperation(documentJson, path, method, item[method]));
    });
    if (item.description) content.append(prose('p', item.description));
  });
  var errors = documentJson.components.responses || {};
  content.append(element('h3', { id: 'errors' }, ['Error responses']));
  content.append(element('table', { class: 'errors' }, Object.keys(errors).map(function (name) {
    return element('tr', {}, [element('td', {}, [element('code', {}, [name])]), element('td', {}, [prose('div', errors[name].description)])]);
  })));
  content.append(element('h4', {}, ['Error body']), describeSchema(documentJson, { $ref: '#/components/schemas/Error' }));
  document.body.setAttribute('data-ready', 'true');
}

fetch('openapi.json')
  .then(function (response) { if (!response.ok) throw new Error('openapi.json answered ' + response.status); return response.json(); })
  .then(render)
  .catch(function (error) { document.querySelector('section.content').replaceChildren(element('p', { class: 'error' }, [String(error)])); });
`;

/** `GET /docs`: the API reference, rendered in the browser from `/openapi.json`; self-contained, it works offline. */
export const DOCS_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>honnx API reference</title>
${PAGE_ICON}
<style>${PAGE_STYLE}
h3 { margin-top: 28px; padding-top: 12px; border-top: 1px solid var(--line); }
h4 { margin: 14px 0 4px; }
th, td.name, td:first-child code { white-space: nowrap; }
</style>
</head>
<body>
<header><h1>honnx API reference</h1><a href="./">Playground</a><a href="openapi.json">openapi.json</a></header>
<main><nav></nav><section class="content"><p class="muted">Loading openapi.json…</p></section></main>
<script>${DOCS_SCRIPT}</script>
</body>
</html>
`;
