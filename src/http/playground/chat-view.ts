// The playground's chat view: for a generate function (every one answers /v1/chat/completions), a conversation
// whose answers stream through OpenAI's chat API, as a client of it would see them. A second script of the page: it
// runs after the playground's own and uses its helpers (element, $, headers, showError, readEvents), and hears which
// function is shown from the `honnx-function` event the playground dispatches. Model output reaches the page as
// textContent only. Its sampling comes from the Parameters box, in the generate task's names. Written without template literals so that it can sit in this String.raw.
export const CHAT_SCRIPT = String.raw`
'use strict';
var chat = { fn: null, messages: [], busy: false };

/** OpenAI's fields for what the Parameters box holds in the generate task's names (max_new_tokens is max_tokens). */
var CHAT_FIELDS = { max_new_tokens: 'max_tokens', temperature: 'temperature', top_p: 'top_p', top_k: 'top_k', seed: 'seed', do_sample: 'do_sample', repetition_penalty: 'repetition_penalty', stop: 'stop' };

function chatSampling() {
  var parameters;
  try { parameters = JSON.parse($('#parameters').value.trim() || '{}'); } catch (error) { parameters = {}; }
  var fields = {};
  Object.keys(CHAT_FIELDS).forEach(function (name) { if (parameters && parameters[name] !== undefined) fields[CHAT_FIELDS[name]] = parameters[name]; });
  return fields;
}

function showChatMessage(role, text) {
  var body = element('div', { class: 'chat-text' }, [text]);
  var item = element('li', { class: 'chat-message ' + role, 'data-role': role }, [element('small', { class: 'muted' }, [role]), body]);
  $('#chat-messages').append(item);
  return item;
}

function clearChat() {
  chat.messages = [];
  $('#chat-messages').replaceChildren();
  $('#chat-status').textContent = '';
}

function sendChat() {
  var text = $('#chat-input').value;
  if (chat.busy || !chat.fn || !text.trim()) return Promise.resolve();
  chat.busy = true;
  $('#chat-send').disabled = true;
  $('#chat-input').value = '';
  chat.messages.push({ role: 'user', content: text });
  showChatMessage('user', text);
  var answer = showChatMessage('assistant', '');
  answer.setAttribute('data-state', 'streaming');
  var output = answer.querySelector('.chat-text');
  $('#chat-status').className = 'muted';
  $('#chat-status').textContent = 'answering…';
  var request = Object.assign(chatSampling(), { model: chat.fn.name, messages: chat.messages.slice(), stream: true });
  var failed = false;
  return fetch('./v1/chat/completions', { method: 'POST', headers: headers(), body: JSON.stringify(request) })
    .then(function (response) {
      if (!response.ok) return response.json().then(function (body) { failed = true; showChatError(response.status, body); });
      return readEvents(response.body, function (name, data) {
        if (data === '[DONE]') return;
        var event = JSON.parse(data);
        if (name === 'error') { failed = true; showChatError(0, event); return; }
        var choice = event.choices && event.choices[0];
        // One text node per chunk, appended as it arrives.
        if (choice && choice.delta && choice.delta.content) output.append(choice.delta.content);
        if (choice && choice.finish_reason) answer.setAttribute('data-finish-reason', choice.finish_reason);
      });
    })
    .catch(function (error) { failed = true; showChatError(0, { error: { code: 'network_error', message: String(error) } }); })
    .then(function () {
      answer.setAttribute('data-state', failed ? 'failed' : 'done');
      if (failed) chat.messages.pop();
      else {
        chat.messages.push({ role: 'assistant', content: output.textContent });
        $('#chat-status').textContent = 'done';
      }
      chat.busy = false;
      $('#chat-send').disabled = false;
    });
}

function showChatError(status, body) {
  var error = body && body.error ? body.error : { code: 'error', message: String(body) };
  $('#chat-status').className = 'error';
  $('#chat-status').textContent = (status ? status + ' ' : '') + (error.code || error.type) + ': ' + error.message;
}

document.addEventListener('honnx-function', function (event) {
  var fn = event.detail;
  var serves = fn.task === 'generate';
  $('#chat').hidden = !serves;
  if (!chat.fn || chat.fn.name !== fn.name) clearChat();
  chat.fn = serves ? fn : null;
});
$('#chat-send').addEventListener('click', sendChat);
$('#chat-clear').addEventListener('click', clearChat);
$('#chat-input').addEventListener('keydown', function (event) {
  if (event.key === 'Enter' && !event.shiftKey) { event.preventDefault(); sendChat(); }
});
`;

/** The chat view's markup, hidden until a generate function is shown. */
export const CHAT_MARKUP = `<section id="chat" hidden aria-label="chat">
<h3>Chat <small class="muted">through /v1/chat/completions, streamed</small></h3>
<ol id="chat-messages"></ol>
<label for="chat-input">Message</label>
<textarea id="chat-input" rows="2" spellcheck="false" placeholder="Enter sends, Shift+Enter a new line"></textarea>
<div class="controls"><button id="chat-send" type="button">Send</button><button id="chat-clear" type="button">Clear</button>
<span id="chat-status" class="muted" role="status"></span></div>
</section>`;

export const CHAT_STYLE = `
#chat { margin-top: 20px; padding-top: 8px; border-top: 1px solid var(--line); }
#chat-messages { list-style: none; margin: 8px 0; padding: 0; }
.chat-message { margin: 6px 0; padding: 6px 10px; border-radius: 8px; max-width: 100%; }
.chat-message.user { background: #e4e9f5; margin-left: 15%; }
.chat-message.assistant { background: var(--panel); margin-right: 15%; }
.chat-text { white-space: pre-wrap; overflow-wrap: anywhere; }
#chat-send, #chat-clear { flex: none; padding: 6px 14px; border: 1px solid var(--accent); border-radius: 6px; font: 600 14px system-ui, sans-serif; cursor: pointer; }
#chat-send { border: 0; background: var(--accent); color: #fff; } #chat-clear { background: #fff; color: var(--accent); }
#chat-send:disabled { opacity: 0.5; }
#chat-status { flex: 1 1 12em; min-width: 0; overflow-wrap: anywhere; }
`;
