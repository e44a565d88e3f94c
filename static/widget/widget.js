// The help desk's chat widget, embedded on a customer's site with
//   <script src="https://<help desk>/static/widget/widget.js" data-widget-key="hdw_..." defer></script>
// Self-contained (no dependencies, its own styles under the "hdw-" prefix). The chat survives page loads: the
// chat id and the visitor's token are kept in localStorage, and the socket replays the transcript on connect.
(function () {
  "use strict";

  var script = document.currentScript || document.querySelector("script[data-widget-key]");
  if (!script || window.__helpdeskChatWidget) {
    return;
  }
  window.__helpdeskChatWidget = true;
  var KEY = script.getAttribute("data-widget-key") || "";
  var BASE = new URL(script.src, window.location.href).origin;
  var STORE = "helpdesk-chat:" + KEY;
  var PING_MS = 25000;

  var CSS = [
    ".hdw-launcher{position:fixed;right:20px;bottom:20px;z-index:2147483000;border:0;border-radius:24px;",
    "padding:12px 20px;background:#2457d6;color:#fff;font:600 15px/1.2 system-ui,sans-serif;cursor:pointer;",
    "box-shadow:0 4px 14px rgba(0,0,0,.2)}",
    ".hdw-panel{position:fixed;right:20px;bottom:76px;z-index:2147483000;width:340px;max-width:calc(100vw - 40px);",
    "height:460px;max-height:calc(100vh - 100px);display:flex;flex-direction:column;background:#fff;color:#1f2933;",
    "border-radius:10px;box-shadow:0 8px 30px rgba(0,0,0,.25);font:14px/1.4 system-ui,sans-serif;overflow:hidden}",
    ".hdw-panel[hidden]{display:none}",
    ".hdw-head{display:flex;align-items:center;justify-content:space-between;padding:10px 14px;background:#2457d6;color:#fff}",
    ".hdw-head h2{margin:0;font-size:15px}",
    ".hdw-head button{background:transparent;border:1px solid rgba(255,255,255,.6);color:#fff;border-radius:4px;",
    "padding:2px 8px;cursor:pointer;font:inherit}",
    ".hdw-body{flex:1;overflow:auto;padding:12px 14px}",
    ".hdw-form label{display:block;font-weight:600;margin:8px 0 2px}",
    ".hdw-form input,.hdw-form textarea{width:100%;box-sizing:border-box;border:1px solid #9aa5b1;border-radius:4px;",
    "padding:6px 8px;font:inherit}",
    ".hdw-form button,.hdw-compose button{margin-top:10px;border:0;border-radius:4px;background:#2457d6;color:#fff;",
    "padding:8px 14px;font:600 14px system-ui,sans-serif;cursor:pointer}",
    ".hdw-error{color:#b42318;margin:2px 0 0;font-size:13px}",
    ".hdw-note{color:#52606d;font-size:13px;margin:6px 0}",
    ".hdw-log{display:flex;flex-direction:column;gap:6px}",
    ".hdw-msg{max-width:85%;padding:6px 10px;border-radius:10px;white-space:pre-wrap;overflow-wrap:anywhere}",
    ".hdw-msg--visitor{align-self:flex-end;background:#2457d6;color:#fff}",
    ".hdw-msg--agent{align-self:flex-start;background:#e4e7eb}",
    ".hdw-msg__author{display:block;font-size:11px;opacity:.8}",
    ".hdw-system{align-self:center;color:#52606d;font-size:12px;text-align:center}",
    ".hdw-rate{align-self:center;margin:6px 0;padding:6px 12px;border-radius:10px;background:#eef2fb;font-size:13px}",
    ".hdw-rate a{color:#2457d6;font-weight:600}",
    ".hdw-compose{display:flex;gap:6px;padding:8px 10px;border-top:1px solid #e4e7eb}",
    ".hdw-compose textarea{flex:1;resize:none;border:1px solid #9aa5b1;border-radius:4px;padding:6px;font:inherit}",
    ".hdw-compose button{margin-top:0}",
    ".hdw-compose[hidden]{display:none}",
    ".hdw-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}",
  ].join("");

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      if (name === "text") {
        node.textContent = attrs[name];
      } else {
        node.setAttribute(name, attrs[name]);
      }
    });
    (children || []).forEach(function (child) { node.appendChild(child); });
    return node;
  }

  function load() {
    try {
      return JSON.parse(window.localStorage.getItem(STORE) || "null");
    } catch (e) {
      return null;
    }
  }

  function save(value) {
    try {
      if (value) {
        window.localStorage.setItem(STORE, JSON.stringify(value));
      } else {
        window.localStorage.removeItem(STORE);
      }
    } catch (e) { /* private mode: the chat lasts as long as the page */ }
  }

  function post(path, data) {
    return fetch(BASE + path + "?key=" + encodeURIComponent(KEY), {
      method: "POST", mode: "cors", credentials: "omit",
      headers: {"Content-Type": "application/json"}, body: JSON.stringify(data || {}),
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (body) {
        return {status: response.status, body: body};
      });
    });
  }

  // --- the frame ---------------------------------------------------------------------------------------------
  document.head.appendChild(el("style", {text: CSS}));
  var launcher = el("button", {type: "button", "class": "hdw-launcher", "aria-expanded": "false",
                               "aria-controls": "hdw-panel", text: "Chat with us"});
  var title = el("h2", {id: "hdw-title", text: "Chat with us"});
  var leaveButton = el("button", {type: "button", text: "End chat", hidden: ""});
  var body = el("div", {"class": "hdw-body"});
  var log = el("div", {"class": "hdw-log", role: "log", "aria-live": "polite", "aria-label": "Chat transcript"});
  var composeInput = el("textarea", {id: "hdw-compose", rows: "2", maxlength: "5000"});
  var compose = el("form", {"class": "hdw-compose", hidden: ""}, [
    el("label", {"for": "hdw-compose", "class": "hdw-hidden", text: "Type your message"}), composeInput,
    el("button", {type: "submit", text: "Send"}),
  ]);
  var panel = el("section", {id: "hdw-panel", "class": "hdw-panel", role: "dialog", "aria-labelledby": "hdw-title",
                             hidden: ""}, [
    el("div", {"class": "hdw-head"}, [title, leaveButton]), body, compose,
  ]);
  document.body.appendChild(panel);
  document.body.appendChild(launcher);

  launcher.addEventListener("click", function () {
    var open = panel.hasAttribute("hidden");
    panel.toggleAttribute("hidden", !open);
    launcher.setAttribute("aria-expanded", String(open));
    if (open && !state.started) {
      start();
    }
  });

  var state = {started: false, chat: null, socket: null, position: 0, retry: 0, ended: false, ping: null};

  function note(text) {
    var p = el("p", {"class": "hdw-note", role: "status", text: text});
    body.appendChild(p);
    return p;
  }

  function showFields(form, errors) {
    form.querySelectorAll(".hdw-error").forEach(function (n) { n.remove(); });
    Object.keys(errors || {}).forEach(function (field) {
      var input = form.querySelector('[name="' + field + '"]');
      var message = el("p", {"class": "hdw-error", text: errors[field].join(" ")});
      if (input) {
        input.setAttribute("aria-invalid", "true");
        input.insertAdjacentElement("afterend", message);
      } else {
        form.insertBefore(message, form.firstChild);
      }
    });
  }

  function field(id, label, input) {
    input.id = id;
    return [el("label", {"for": id, text: label}), input];
  }

  function visitorForm(kind) {
    var offline = kind === "offline";
    var form = el("form", {"class": "hdw-form", novalidate: ""});
    var children = [].concat(
      offline ? [el("p", {"class": "hdw-note", text: "Nobody is available to chat right now. Leave a message and we will answer by email."})] : [],
      field("hdw-name", "Your name" + (offline ? "" : " (optional)"), el("input", {name: "name", maxlength: "120", autocomplete: "name"})),
      field("hdw-email", "Your email" + (offline ? "" : " (optional)"), el("input", {name: "email", type: "email", autocomplete: "email"})),
      field("hdw-message", offline ? "Your message" : "How can we help?", el("textarea", {name: "message", rows: "3", maxlength: "5000"})),
      [el("button", {type: "submit", text: offline ? "Send message" : "Start chat"})]
    );
    children.forEach(function (child) { form.appendChild(child); });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var data = {name: form.elements.name.value, email: form.elements.email.value,
                  message: form.elements.message.value};
      var button = form.querySelector("button[type=submit]");
      button.disabled = true;
      post(offline ? "/widget/api/messages/" : "/widget/api/chats/", data).then(function (result) {
        button.disabled = false;
        if (result.status === 201 && offline) {
          body.textContent = "";
          note("Thank you: your message has arrived (ticket " + result.body.ticket + "). We will answer by email.");
        } else if (result.status === 201) {
          body.textContent = "";
          state.chat = {chat: result.body.chat, token: result.body.token};
          save(state.chat);
          openChat();
        } else if (result.status === 409 && !offline) {
          body.textContent = "";
          body.appendChild(visitorForm("offline"));
        } else {
          var error = (result.body && result.body.error) || {};
          showFields(form, Object.keys(error.fields || {}).length ? error.fields : {form: [error.message || "Something went wrong: try again."]});
        }
      }, function () {
        button.disabled = false;
        showFields(form, {form: ["No connection: try again."]});
      });
    });
    return form;
  }

  function start() {
    state.started = true;
    state.chat = load();
    if (state.chat) {
      openChat();
      return;
    }
    var waiting = note("Connecting…");
    post("/widget/api/status/").then(function (result) {
      waiting.remove();
      if (result.status !== 200) {
        note((result.body.error && result.body.error.message) || "The chat is not available.");
        return;
      }
      body.appendChild(visitorForm(result.body.available ? "chat" : "offline"));
    }, function () {
      waiting.textContent = "The chat is not reachable right now.";
    });
  }

  // --- a running chat --------------------------------------------------------------------------------------
  function openChat() {
    body.textContent = "";
    body.appendChild(log);
    log.textContent = "";
    state.position = 0;
    state.ended = false;
    compose.hidden = false;
    leaveButton.hidden = false;
    connect();
  }

  function system(text) {
    log.appendChild(el("p", {"class": "hdw-system", text: text}));
    body.scrollTop = body.scrollHeight;
  }

  function showMessage(message) {
    if (log.querySelector('[data-message="' + message.id + '"]')) {
      return;
    }
    log.appendChild(el("div", {"class": "hdw-msg hdw-msg--" + message.kind, "data-message": String(message.id)}, [
      el("span", {"class": "hdw-msg__author", text: message.kind === "visitor" ? "You" : message.author}),
      document.createTextNode(message.body),
    ]));
    body.scrollTop = body.scrollHeight;
  }

  // The rating page lives on the help desk, not on the site the widget is embedded in; only http(s) links are
  // shown, so a pushed payload can never make the prompt run script.
  function ratingUrl(link) {
    try {
      var url = new URL(link, BASE);
      return url.protocol === "https:" || url.protocol === "http:" ? url.href : null;
    } catch (error) {
      return null;
    }
  }

  function ratingPrompt(link) {
    var url = link && ratingUrl(link);
    if (!url) {
      return;
    }
    log.appendChild(el("p", {"class": "hdw-rate", "data-rating-prompt": ""}, [
      document.createTextNode("How was this chat? "),
      el("a", {href: url, target: "_blank", rel: "noopener", text: "Rate it"}),
    ]));
    body.scrollTop = body.scrollHeight;
  }

  function ended(text, ratingLink) {
    state.ended = true;
    compose.hidden = true;
    leaveButton.hidden = true;
    save(null);
    system(text);
    ratingPrompt(ratingLink);
    var again = el("button", {type: "button", "class": "hdw-launcher", style: "position:static;margin:12px auto 0;display:block",
                              text: "Start a new chat"});
    again.addEventListener("click", function () {
      body.textContent = "";
      state.chat = null;
      state.started = false;
      start();
    });
    body.appendChild(again);
  }

  function handle(event) {
    if (event.type === "chat.message") {
      showMessage(event.message);
    } else if (event.type === "chat.agent_joined") {
      system(event.agent + " joined the chat.");
    } else if (event.type === "chat.transferred") {
      system("Transferring you to " + event.to + "…");
    } else if (event.type === "chat.ended") {
      ended("The chat has ended. Thank you!", event.rating_link);
    }
  }

  function connect() {
    if (!state.chat || state.ended) {
      return;
    }
    var url = BASE.replace(/^http/, "ws") + "/ws/chat/?key=" + encodeURIComponent(KEY) + "&chat=" +
      encodeURIComponent(state.chat.chat) + "&token=" + encodeURIComponent(state.chat.token) +
      "&after=" + state.position;
    var socket = new WebSocket(url);
    state.socket = socket;
    socket.addEventListener("open", function () {
      state.retry = 0;
      clearInterval(state.ping);
      state.ping = setInterval(function () { socket.send(JSON.stringify({type: "ping"})); }, PING_MS);
    });
    socket.addEventListener("message", function (frame) {
      var data;
      try {
        data = JSON.parse(frame.data);
      } catch (e) {
        return;
      }
      if (typeof data.seq === "number") {
        if (data.seq <= state.position) {
          return;
        }
        if (data.seq > state.position + 1) {
          // A gap: ask for what is missing; the server sends it in order.
          socket.send(JSON.stringify({type: "sync", after: state.position}));
          return;
        }
        state.position = data.seq;
        handle(data);
      } else if (data.type === "error" && data.code === "refused") {
        save(null);
      } else if (data.type === "error") {
        system(data.message);
      }
    });
    socket.addEventListener("close", function (event) {
      clearInterval(state.ping);
      if (state.socket !== socket || state.ended) {
        return;
      }
      if (event.code >= 4000) {
        // Refused for good (the chat is over or not this browser's): start afresh.
        state.chat = null;
        save(null);
        log.textContent = "";
        compose.hidden = true;
        leaveButton.hidden = true;
        body.textContent = "";
        state.started = false;
        start();
        return;
      }
      state.retry = Math.min(state.retry + 1, 6);
      setTimeout(connect, 500 * Math.pow(2, state.retry - 1));
    });
  }

  compose.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = composeInput.value.trim();
    if (!text || !state.socket || state.socket.readyState !== WebSocket.OPEN) {
      return;
    }
    state.socket.send(JSON.stringify({type: "message", body: text, ref: String(Date.now())}));
    composeInput.value = "";
  });
  composeInput.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      compose.requestSubmit ? compose.requestSubmit() : compose.dispatchEvent(new Event("submit"));
    }
  });

  leaveButton.addEventListener("click", function () {
    if (state.socket && state.socket.readyState === WebSocket.OPEN) {
      state.socket.send(JSON.stringify({type: "leave"}));
    }
    ended("You left the chat.");
  });

  // A chat in progress reopens by itself on the next page of the site.
  if (load()) {
    panel.removeAttribute("hidden");
    launcher.setAttribute("aria-expanded", "true");
    start();
  }
})();
