// The agent's chat panel: every running chat the agent owns, one at a time, with its transcript, a reply box,
// End chat and Transfer. Loaded from the server on each page (GET /chats/), kept current by the agent's push
// stream (window.Helpdesk.push from agent.js): chat.assigned, chat.message, chat.visitor_left,
// chat.visitor_returned, chat.ended and ticket.transferred.
(function () {
  "use strict";

  var root = document.querySelector("[data-chat-panel]");
  if (!root) {
    return;
  }
  var tabs = root.querySelector("[data-chat-tabs]");
  var list = root.querySelector("[data-chat-list]");
  var count = root.querySelector("[data-chat-count]");
  var chatsUrl = root.getAttribute("data-chats-url");
  var targetsUrl = root.getAttribute("data-targets-url");
  var chats = {};  // ticket id -> {data, tab, article}
  var selected = null;

  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : root.getAttribute("data-csrf-token");
  }

  function request(method, url, data) {
    var options = {method: method, credentials: "same-origin", headers: {"Accept": "application/json"}};
    if (data !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.headers["X-CSRFToken"] = csrfToken();
      options.body = JSON.stringify(data);
    }
    return fetch(url, options).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (body) {
        if (!response.ok) {
          var error = (body && body.error) || {};
          var fields = error.fields || {};
          var detail = Object.keys(fields).map(function (k) { return fields[k].join(" "); }).join(" ");
          throw new Error(detail || error.message || "Something went wrong.");
        }
        return body;
      });
    });
  }

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

  function time(iso) {
    var date = new Date(iso);
    return isNaN(date) ? "" : date.toLocaleTimeString([], {hour: "2-digit", minute: "2-digit"});
  }

  function refreshCount() {
    var ids = Object.keys(chats);
    count.textContent = ids.length ? "(" + ids.length + ")" : "";
    root.hidden = ids.length === 0;
  }

  function select(ticketId) {
    selected = String(ticketId);
    Object.keys(chats).forEach(function (id) {
      var on = id === selected;
      chats[id].tab.setAttribute("aria-selected", String(on));
      chats[id].article.hidden = !on;
      if (on) {
        chats[id].tab.classList.remove("is-unread");
      }
    });
  }

  function appendMessage(entry, message) {
    if (entry.log.querySelector('[data-message="' + message.id + '"]')) {
      return;  // the reply's own answer and its push both bring it
    }
    entry.log.appendChild(el("div", {"class": "chat-msg chat-msg--" + message.kind, "data-message": String(message.id)}, [
      el("span", {"class": "chat-msg__meta", text: message.author + " · " + time(message.at)}),
      el("p", {"class": "chat-msg__body", text: message.body}),
    ]));
    entry.log.scrollTop = entry.log.scrollHeight;
    if (String(entry.data.ticket_id) !== selected) {
      entry.tab.classList.add("is-unread");
    }
  }

  function systemLine(entry, text) {
    entry.log.appendChild(el("p", {"class": "chat-system", text: text}));
    entry.log.scrollTop = entry.log.scrollHeight;
  }

  function setStatus(entry, text) {
    entry.status.textContent = text;
  }

  function finish(entry, text) {
    entry.ended = true;
    entry.form.hidden = true;
    entry.actions.hidden = true;
    systemLine(entry, text);
    var close = el("button", {type: "button", "class": "button button--small", text: "Close"});
    close.addEventListener("click", function () { remove(entry.data.ticket_id); });
    entry.article.appendChild(close);
  }

  function remove(ticketId) {
    var entry = chats[ticketId];
    if (!entry) {
      return;
    }
    entry.tab.remove();
    entry.article.remove();
    delete chats[ticketId];
    var left = Object.keys(chats);
    if (selected === String(ticketId) && left.length) {
      select(left[0]);
    }
    refreshCount();
  }

  function transferForm(entry) {
    var form = el("form", {"class": "chat-transfer"});
    var label = "Transfer " + entry.data.ticket + " to";
    var choice = el("select", {"aria-label": label, name: "target"});
    choice.appendChild(el("option", {value: "", text: "Transfer to…"}));
    form.appendChild(choice);
    form.appendChild(el("button", {type: "submit", "class": "button button--small", text: "Transfer"}));
    var loaded = false;
    choice.addEventListener("focus", function load() {
      if (loaded) {
        return;
      }
      loaded = true;
      request("GET", targetsUrl).then(function (targets) {
        var departments = el("optgroup", {label: "Departments"});
        targets.departments.forEach(function (d) {
          departments.appendChild(el("option", {value: "department:" + d.id, text: d.name}));
        });
        var agents = el("optgroup", {label: "Agents online"});
        targets.agents.forEach(function (a) {
          agents.appendChild(el("option", {value: "agent:" + a.id, text: a.name}));
        });
        choice.appendChild(departments);
        choice.appendChild(agents);
      });
    });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var parts = choice.value.split(":");
      if (parts.length !== 2) {
        return;
      }
      var data = {};
      data[parts[0] + "_id"] = Number(parts[1]);
      request("POST", entry.url + "transfer/", data).then(function () {
        remove(entry.data.ticket_id);
      }, function (error) { setStatus(entry, error.message); });
    });
    return form;
  }

  function add(data) {
    var id = String(data.ticket_id);
    if (chats[id]) {
      return chats[id];
    }
    var url = chatsUrl + data.ticket_id + "/";
    var tab = el("button", {type: "button", role: "tab", "class": "chat-tab", "aria-selected": "false",
                            "data-chat-tab": id, text: data.customer});
    tab.addEventListener("click", function () { select(id); });
    var log = el("div", {"class": "chat-log", role: "log", "aria-label": "Transcript of " + data.ticket});
    var input = el("textarea", {rows: "2", maxlength: "5000", "aria-label": "Reply to " + data.customer});
    var form = el("form", {"class": "chat-reply"}, [input,
      el("button", {type: "submit", "class": "button button--primary button--small", text: "Send"})]);
    var endButton = el("button", {type: "button", "class": "button button--small button--danger", text: "End chat"});
    var status = el("p", {"class": "chat-status muted", role: "status"});
    var entry = {data: data, tab: tab, log: log, form: form, status: status, url: url, ended: false};
    var actions = el("div", {"class": "chat-actions"}, [endButton, transferForm(entry)]);
    entry.actions = actions;
    var article = el("article", {"class": "chat", "aria-label": "Chat with " + data.customer, "data-chat": id,
                                 hidden: ""}, [
      el("header", {"class": "chat__head"}, [
        el("a", {href: "/tickets/" + data.ticket + "/", text: data.ticket}),
        el("span", {"class": "chat__subject", text: " " + data.subject}),
      ]),
      log, status, form, actions,
    ]);
    entry.article = article;
    chats[id] = entry;
    tabs.appendChild(tab);
    list.appendChild(article);
    (data.messages || []).forEach(function (m) { appendMessage(entry, m); });
    if (data.visitor_left) {
      setStatus(entry, "The visitor has left.");
    }
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var body = input.value.trim();
      if (!body) {
        return;
      }
      request("POST", url + "messages/", {body: body}).then(function (answer) {
        input.value = "";
        setStatus(entry, "");
        appendMessage(entry, answer.message);
      }, function (error) { setStatus(entry, error.message); });
    });
    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.shiftKey) {
        event.preventDefault();
        form.requestSubmit();
      }
    });
    endButton.addEventListener("click", function () {
      request("POST", url + "end/", {}).then(function () {
        finish(entry, "You ended the chat.");
      }, function (error) { setStatus(entry, error.message); });
    });
    if (selected === null || !chats[selected]) {
      select(id);
    } else {
      tab.classList.add("is-unread");
    }
    refreshCount();
    return entry;
  }

  function fetchChat(ticketId, focus) {
    return request("GET", chatsUrl + ticketId + "/").then(function (data) {
      var entry = add(data);
      if (focus) {
        select(ticketId);
        entry.form.querySelector("textarea").focus();
      }
    });
  }

  function subscribe(push) {
    push.on("chat.assigned", function (event) {
      if (event.channel === "chat" || event.channel === undefined) {
        fetchChat(event.ticket_id, true).catch(function () { /* not a live chat (entered by hand) */ });
      }
    });
    push.on("chat.message", function (event) {
      var entry = chats[event.ticket_id];
      if (entry) {
        appendMessage(entry, event.message);
      } else {
        fetchChat(event.ticket_id, false).catch(function () {});
      }
    });
    push.on("chat.visitor_left", function (event) {
      var entry = chats[event.ticket_id];
      if (entry && !entry.ended) {
        setStatus(entry, "The visitor has left.");
        systemLine(entry, "The visitor left the chat.");
      }
    });
    push.on("chat.visitor_returned", function (event) {
      var entry = chats[event.ticket_id];
      if (entry && !entry.ended) {
        setStatus(entry, "");
        systemLine(entry, "The visitor is back.");
      }
    });
    push.on("chat.ended", function (event) {
      var entry = chats[event.ticket_id];
      if (entry && !entry.ended) {
        finish(entry, "The chat has ended.");
      }
    });
    push.on("ticket.transferred", function (event) {
      remove(String(event.ticket_id));
    });
  }

  // agent.js defines window.Helpdesk.push; both are deferred and it comes first, but wait a little in case.
  var attempts = 0;
  (function whenPushReady() {
    var push = window.Helpdesk && window.Helpdesk.push;
    if (push && typeof push.on === "function") {
      subscribe(push);
    } else if (attempts++ < 50) {
      setTimeout(whenPushReady, 100);
    }
  })();

  request("GET", chatsUrl).then(function (answer) {
    answer.chats.forEach(add);
  });
})();
