import { CHAT_MARKUP, CHAT_SCRIPT, CHAT_STYLE } from './chat-view.ts';
import { PAGE_ICON, PAGE_STYLE } from './page-style.ts';

// The page's own script, sent as it is. It lists the functions from ./openapi.json (the `x-honnx-task` of each POST
// operation), and shows each task's answer in its own way. Model output only ever reaches the page as textContent,
// never as markup. Written without template literals so that it can sit in this String.raw.
const PLAYGROUND_SCRIPT = String.raw`
'use strict';
var ENTITY_COLOURS = { PER: '#ffd166', ORG: '#8fd3a7', LOC: '#9cc9ff', MISC: '#e0b3ff' };
var SPARE_COLOURS = ['#ffb3a7', '#b8e986', '#f5c6e8', '#c3d7a4', '#ffe08a'];
var state = { functions: [], current: null, running: null };

function element(tag, attributes, children) {
  var node = document.createElement(tag);
  Object.keys(attributes || {}).forEach(function (name) { node.setAttribute(name, attributes[name]); });
  (children || []).forEach(function (child) { if (child != null) node.append(child); });
  return node;
}

function $(selector) { return document.querySelector(selector); }

function entityColour(type) {
  if (ENTITY_COLOURS[type]) return ENTITY_COLOURS[type];
  var hash = 0;
  for (var index = 0; index < type.length; index++) hash = (hash * 31 + type.charCodeAt(index)) >>> 0;
  return SPARE_COLOURS[hash % SPARE_COLOURS.length];
}

/** Every POST operation the document marks with its task: the functions this server runs. */
function listFunctions(documentJson) {
  var functions = [];
  Object.keys(documentJson.paths).forEach(function (path) {
    var operation = documentJson.paths[path].post;
    if (!operation || !operation['x-honnx-task']) return;
    var content = operation.requestBody.content['application/json'];
    var examples = content.examples || {};
    var first = examples[Object.keys(examples)[0]];
    functions.push({
      name: operation['x-honnx-function'],
      task: operation['x-honnx-task'],
      path: path,
      summary: operation.summary || '',
      example: first ? first.value : { inputs: '' },
    });
  });
  return functions;
}

function showFunction(fn) {
  state.current = fn;
  document.querySelectorAll('nav button').forEach(function (button) { button.setAttribute('aria-current', String(button.dataset.function === fn.name)); });
  $('#function-name').textContent = fn.name;
  $('#function-task').textContent = fn.task;
  $('#function-summary').textContent = fn.summary;
  var inputs = fn.example.inputs;
  $('#inputs').value = Array.isArray(inputs) ? inputs[0] : inputs;
  $('#parameters').value = JSON.stringify(fn.example.parameters || {});
  $('#stream-option').hidden = fn.task !== 'generate';
  $('#result').replaceChildren();
  $('#status').textContent = '';
  $('#status').className = 'muted';
  // The chat view (./chat-view.ts) shows itself for the functions that serve chat.
  document.dispatchEvent(new CustomEvent('honnx-function', { detail: fn }));
}

function headers() {
  var values = { 'content-type': 'application/json' };
  var key = $('#api-key').value.trim();
  if (key) values.authorization = 'Bearer ' + key;
  return values;
}

function showError(status, body) {
  var error = body && body.error ? body.error : { code: 'error', message: String(body) };
  $('#status').className = 'error';
  $('#status').textContent = (status ? status + ' ' : '') + error.code + ': ' + error.message;
}

function showClassification(answer) {
  var result = $('#result');
  answer.forEach(function (item) {
    // With return_confidence a generative classifier answers {labels, confidence} per input.
    var labels = Array.isArray(item) ? item : item.labels;
    var list = element('div', { class: 'labels' });
    labels.forEach(function (entry) {
      var percent = Math.max(0, Math.min(1, entry.score)) * 100;
      var bar = element('div', { class: 'bar' });
      // Through the CSSOM: the page's Content-Security-Policy refuses style attributes.
      bar.style.width = percent.toFixed(2) + '%';
      list.append(element('div', { class: 'label-row', 'data-label': entry.label, 'data-score': String(entry.score) }, [
        element('span', { class: 'label' }, [entry.label]),
        element('div', { class: 'bar-track' }, [bar]),
        element('span', { class: 'score' }, [entry.score.toFixed(4)]),
      ]));
    });
    result.append(list);
  });
}

/** The text with each entity wrapped in a <mark>, placed by its character offsets. */
function showEntities(text, entities) {
  var container = element('div', { class: 'highlighted-text' });
  var legend = element('div', { class: 'legend' });
  var seenTypes = {};
  var position = 0;
  entities.slice().sort(function (a, b) { return a.start - b.start; }).forEach(function (entity) {
    if (entity.start < position || entity.end > text.length) return;
    var type = (entity.entity_group || entity.entity || '').replace(/^[BIES]-/, '');
    container.append(text.slice(position, entity.start));
    var mark = element('mark', { class: 'entity', 'data-entity': type, title: type + ' ' + entity.score.toFixed(3) }, [text.slice(entity.start, entity.end)]);
    mark.style.backgroundColor = entityColour(type);
    container.append(mark);
    position = entity.end;
    if (!seenTypes[type]) {
      seenTypes[type] = true;
      var swatch = element('mark', { class: 'swatch' }, [type]);
      swatch.style.backgroundColor = entityColour(type);
      legend.append(swatch);
    }
  });
  container.append(text.slice(position));
  $('#result').append(container, legend);
}

function showSummaries(answer) {
  answer.forEach(function (summary) { $('#result').append(element('blockquote', { class: 'summary' }, [summary.summary_text])); });
}

function showGeneration(prompt) {
  var output = element('span', { class: 'generated-text' });
  $('#result').append(element('p', { class: 'generation' }, [element('span', { class: 'prompt-text' }, [prompt]), output]));
  return output;
}

/** Reads server-sent events from a fetch body and calls onEvent with each one's name and data, as they arrive. */
function readEvents(body, onEvent) {
  var reader = body.getReader();
  var decoder = new TextDecoder();
  var buffered = '';
  function dispatch(block) {
    var name = 'message';
    var data = [];
    block.split(/\r?\n/).forEach(function (line) {
      if (line.indexOf('event:') === 0) name = line.slice(6).trim();
      else if (line.indexOf('data:') === 0) data.push(line.slice(5).replace(/^ /, ''));
    });
    if (data.length) onEvent(name, data.join('\n'));
  }
  function pump() {
    return reader.read().then(function (chunk) {
      buffered += decoder.decode(chunk.value || new Uint8Array(), { stream: !chunk.done });
      var blocks = buffered.split(/\r?\n\r?\n/);
      buffered = chunk.done ? '' : blocks.pop();
      blocks.forEach(function (block) { if (block.trim()) dispatch(block); });
      if (!chunk.done) return pump();
    });
  }
  return pump();
}

function streamGeneration(fn, request, prompt) {
  request.stream = true;
  return fetch('.' + fn.path, { method: 'POST', headers: headers(), body: JSON.stringify(request) }).then(function (response) {
    if (!response.ok) return response.json().then(function (body) { showError(response.status, body); });
    var output = showGeneration(prompt);
    var streamed = '';
    var failed = false;
    return readEvents(response.body, function (name, data) {
      var event = JSON.parse(data);
      if (name === 'error') { failed = true; showError(0, event); return; }
      // One text node per token, appended as it arrives.
      output.append(event.token.text);
      streamed += event.token.text;
      if (event.generated_text != null && event.generated_text !== streamed) output.textContent = event.generated_text;
    }).then(function () { if (!failed) $('#status').textContent = 'done'; });
  });
}

/** An entity recognizer's answer; a generative extract function answers its own schema's value, shown as JSON. */
function isEntityList(answer) {
  return Array.isArray(answer) && answer.every(function (entity) { return entity !== null && typeof entity === 'object' && typeof entity.start === 'number' && typeof entity.end === 'number'; });
}

function showAnswer(fn, text, answer) {
  if (fn.task === 'classify') showClassification(answer);
  else if (fn.task === 'extract' && isEntityList(Array.isArray(answer[0]) ? answer[0] : answer)) showEntities(text, Array.isArray(answer[0]) ? answer[0] : answer);
  else if (fn.task === 'summarize') showSummaries(answer);
  else if (fn.task === 'generate') showGeneration(text).textContent = answer[0].generated_text;
  else $('#result').append(element('pre', {}, [JSON.stringify(answer, null, 2)]));
}

function run() {
  var fn = state.current;
  var text = $('#inputs').value;
  var parameters;
  try {
    parameters = JSON.parse($('#parameters').value.trim() || '{}');
  } catch (error) {
    showError(0, { error: { code: 'invalid_parameters', message: 'parameters are not JSON: ' + error.message } });
    return Promise.resolve();
  }
  var request = { inputs: text, parameters: parameters };
  $('#result').replaceChildren();
  $('#raw').textContent = '';
  $('#status').className = 'muted';
  $('#status').textContent = 'running…';
  $('#run').disabled = true;
  var answered = fn.task === 'generate' && $('#stream').checked
    ? streamGeneration(fn, request, text)
    : fetch('.' + fn.path, { method: 'POST', headers: headers(), body: JSON.stringify(request) }).then(function (response) {
        return response.json().then(function (body) {
          if (!response.ok) return showError(response.status, body);
          showAnswer(fn, text, body);
          $('#raw').textContent = JSON.stringify(body, null, 2);
          $('#status').textContent = 'done';
        });
      });
  state.running = answered
    .catch(function (error) { showError(0, { error: { code: 'network_error', message: String(error) } }); })
    .then(function () { $('#run').disabled = false; });
  return state.running;
}

fetch('openapi.json')
  .then(function (response) { if (!response.ok) throw new Error('openapi.json answered ' + response.status); return response.json(); })
  .then(function (documentJson) {
    state.functions = listFunctions(documentJson);
    var nav = $('nav');
    state.functions.forEach(function (fn) {
      var button = element('button', { type: 'button', 'data-function': fn.name }, [fn.name, element('small', {}, [fn.task + ' · ' + fn.path])]);
      button.addEventListener('click', function () { showFunction(fn); });
      nav.append(button);
    });
    $('#run').addEventListener('click', run);
    if (state.functions.length) showFunction(state.functions[0]);
    else $('#status').textContent = 'This server has no functions.';
    document.body.setAttribute('data-ready', 'true');
  })
  .catch(function (error) { showError(0, { error: { code: 'openapi_unavailable', message: String(error) } }); });
`;

/** `GET /`: try each function in the browser. Self-contained (no fetches but the API's own), so it works offline. */
export const PLAYGROUND_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>honnx playground</title>
${PAGE_ICON}
<style>${PAGE_STYLE}
textarea { width: 100%; padding: 8px; border: 1px solid var(--line); border-radius: 6px; }
#inputs { min-height: 110px; font: 15px/1.5 system-ui, sans-serif; }
.controls { display: flex; flex-wrap: wrap; gap: 8px 12px; align-items: center; margin: 8px 0 14px; }
/* A long error wraps beside the button, never narrows it. */
#status { flex: 1 1 12em; min-width: 0; overflow-wrap: anywhere; }
#api-key { width: 26ch; max-width: 100%; padding: 2px 4px; }
#run { flex: none; padding: 6px 18px; border: 0; border-radius: 6px; background: var(--accent); color: #fff; font: 600 14px system-ui, sans-serif; cursor: pointer; }
#run:disabled { opacity: 0.5; }
.badge { font-size: 12px; padding: 1px 8px; border-radius: 10px; background: #e4e9f5; color: var(--accent); }
.labels { margin: 8px 0 16px; }
.label-row { display: grid; grid-template-columns: minmax(80px, 180px) 1fr 70px; gap: 10px; align-items: center; margin: 4px 0; }
.bar-track { height: 14px; background: var(--panel); border-radius: 3px; overflow: hidden; }
.bar { height: 100%; background: var(--accent); }
.score { font: 13px ui-monospace, monospace; text-align: right; }
.highlighted-text { font-size: 18px; line-height: 2; padding: 12px 14px; border: 1px solid var(--line); border-radius: 6px; background: #fff; color: var(--ink); }
mark.entity { padding: 3px 0; border-radius: 3px; color: var(--ink); }
.legend { margin: 8px 0; } .legend mark { margin-right: 8px; padding: 1px 6px; border-radius: 3px; font-size: 12px; }
.summary { margin: 8px 0; padding: 8px 14px; border-left: 3px solid var(--accent); background: var(--panel); }
.generation { font-size: 16px; white-space: pre-wrap; } .prompt-text { color: var(--muted); }${CHAT_STYLE}</style>
</head>
<body>
<header><h1>honnx playground</h1><a href="docs">API reference</a><a href="openapi.json">openapi.json</a>
<label>API key <input id="api-key" type="password" autocomplete="off" placeholder="if the server needs one"></label></header>
<main><nav aria-label="functions"></nav>
<section class="content">
<h2><span id="function-name"></span> <span id="function-task" class="badge"></span></h2>
<p id="function-summary" class="muted"></p>
<label for="inputs">Text</label>
<textarea id="inputs" spellcheck="false"></textarea>
<label for="parameters">Parameters (JSON)</label>
<textarea id="parameters" rows="2" spellcheck="false"></textarea>
<div class="controls"><button id="run" type="button">Run</button>
<label id="stream-option" hidden><input id="stream" type="checkbox" checked> stream tokens</label>
<span id="status" class="muted" role="status"></span></div>
<div id="result"></div>
<details><summary class="muted">Answer as JSON</summary><pre id="raw"></pre></details>
${CHAT_MARKUP}
</section></main>
<script>${PLAYGROUND_SCRIPT}</script>
<script>${CHAT_SCRIPT}</script>
</body>
</html>
`;
