// The agent's live page: one socket per tab to the agent's own push stream, and what the pushes change on
// the page (ringing offers, toasts, the presence select, department counts). Every page still works without
// it: the ringing panel and the presence select are plain forms.
//
// Other scripts subscribe to event types with window.Helpdesk.push.on(type, handler) and off(type, handler).
// Events carry {seq, type, at, ...payload}; hints that are not kept (counters.changed) have no seq.
(function () {
  "use strict";

  var configElement = document.getElementById("agent-push-config");
  if (!configElement || !window.WebSocket) {
    return;
  }
  var config = JSON.parse(configElement.textContent);

  // --- the stream ----------------------------------------------------------------------------------------

  var SYNC_EVERY_MS = 15000;
  var RETRY_FIRST_MS = 500;
  var RETRY_MAX_MS = 15000;
  var storageKey = "helpdesk.push.last." + config.stream;
  var handlers = {};
  var socket = null;
  var retryMs = RETRY_FIRST_MS;
  var retryTimer = null;
  var connectedBefore = false;
  var streaming = false; // the server said hello on the current socket
  // The page shows the state as of config.position; this tab may already have seen later events (a page
  // shown again from the browser's cache), so the larger of the two is where it stands.
  var last = Math.max(config.position, readStored());

  function readStored() {
    try {
      var value = parseInt(window.sessionStorage.getItem(storageKey), 10);
      return isNaN(value) ? 0 : value;
    } catch (error) {
      return 0; // storage disabled: the page's position alone still works
    }
  }

  function remember(seq) {
    last = seq;
    try {
      window.sessionStorage.setItem(storageKey, String(seq));
    } catch (error) {
      // Storage disabled or full: the position is still kept in memory for this page.
    }
  }

  function emit(type, event) {
    (handlers[type] || []).slice().forEach(function (handler) {
      try {
        handler(event);
      } catch (error) {
        // One broken subscriber must not keep the others from hearing about the event.
        window.console && window.console.error(error);
      }
    });
  }

  function send(command) {
    if (socket && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify(command));
    }
  }

  // The server fills gaps from the database when it notices them; asking now and then also delivers an event
  // whose live copy was lost with nothing published after it.
  function sync() {
    send({ type: "sync", after: last });
  }

  function receive(frame) {
    if (frame.type === "hello") {
      retryMs = RETRY_FIRST_MS;
      streaming = true;
      sync();
      emit("connected", { reconnected: connectedBefore });
      connectedBefore = true;
      return;
    }
    if (frame.type === "pong") {
      return;
    }
    if (typeof frame.seq !== "number") {
      emit(frame.type, frame); // a transient hint
      return;
    }
    if (frame.seq <= last) {
      return; // seen already (a replay after sync, or another copy)
    }
    // The server sends a socket's events in order and fills gaps itself, so anything newer is next.
    remember(frame.seq);
    emit(frame.type, frame);
  }

  function connect() {
    retryTimer = null;
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    try {
      socket = new WebSocket(scheme + window.location.host + config.socket + "?after=" + last);
    } catch (error) {
      socket = null;
      reconnectLater();
      return;
    }
    socket.onmessage = function (message) {
      var frame;
      try {
        frame = JSON.parse(message.data);
      } catch (error) {
        return;
      }
      receive(frame);
    };
    socket.onclose = function () {
      socket = null;
      streaming = false;
      emit("disconnected", {});
      reconnectLater();
    };
  }

  function reconnectLater() {
    if (retryTimer !== null) {
      return;
    }
    // Jitter keeps every tab of a restarted server from reconnecting in the same instant.
    var delay = retryMs / 2 + Math.random() * retryMs / 2;
    retryMs = Math.min(retryMs * 2, RETRY_MAX_MS);
    retryTimer = window.setTimeout(connect, delay);
  }

  window.addEventListener("online", function () {
    if (socket === null && retryTimer !== null) {
      window.clearTimeout(retryTimer);
      connect();
    }
  });
  window.setInterval(sync, SYNC_EVERY_MS);

  var api = {
    on: function (type, handler) {
      (handlers[type] = handlers[type] || []).push(handler);
    },
    off: function (type, handler) {
      handlers[type] = (handlers[type] || []).filter(function (h) { return h !== handler; });
    },
    last: function () { return last; },
    connected: function () { return streaming; }
  };
  window.Helpdesk = window.Helpdesk || {};
  window.Helpdesk.push = api;

  // --- small helpers -------------------------------------------------------------------------------------

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text !== undefined && text !== null) {
      node.textContent = text;
    }
    return node;
  }

  function ticketUrl(code) {
    return config.urls.ticket.replace("CODE", encodeURIComponent(code));
  }

  function offerUrl(template, offerId) {
    return template.replace("/0/", "/" + offerId + "/");
  }

  // POST a form's fields asking for JSON; resolves to {ok, status, data}, rejects only when unreachable.
  function postJson(url, body) {
    return window.fetch(url, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "Accept": "application/json", "X-CSRFToken": config.csrfToken }
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        return { ok: response.ok, status: response.status, data: data };
      });
    });
  }

  // --- toasts --------------------------------------------------------------------------------------------

  var TOAST_MS = 10000;
  var toasts = document.querySelector("[data-toasts]");

  function toast(text, link, kind) {
    if (!toasts) {
      return;
    }
    var item = element("div", "toast toast--" + (kind || "info"));
    item.appendChild(element("p", "toast__text", text));
    if (link) {
      var anchor = element("a", "toast__link", link.label);
      anchor.href = link.href;
      item.appendChild(anchor);
    }
    var close = element("button", "toast__close", "×");
    close.type = "button";
    close.setAttribute("aria-label", "Dismiss");
    close.addEventListener("click", function () { item.remove(); });
    item.appendChild(close);
    toasts.appendChild(item);
    var expire = function () {
      // Never pull a toast away from under the keyboard or the pointer.
      if (item.contains(document.activeElement) || item.matches(":hover")) {
        window.setTimeout(expire, TOAST_MS / 2);
      } else {
        item.remove();
      }
    };
    window.setTimeout(expire, TOAST_MS);
  }

  function ticketToast(event) {
    var code = event.ticket;
    var text;
    if (event.type === "ticket.transferred") {
      text = event.by + " transferred " + code + " to you";
    } else if (event.via === "to_solve") {
      text = "You took " + code;
    } else if (event.via === "routing") {
      text = code + " is yours";
    } else {
      text = event.by + " assigned " + code + " to you";
    }
    toast(text + ": " + event.subject, { href: ticketUrl(code), label: "Open " + code });
  }

  api.on("ticket.assigned", ticketToast);
  api.on("ticket.transferred", ticketToast);

  // --- the ringing panel ---------------------------------------------------------------------------------

  var CHANNEL_LABELS = { chat: "Chat", call: "Call", ticket: "Ticket" };
  var panel = document.querySelector("[data-ringing]");
  var offerList = panel && panel.querySelector("[data-ringing-list]");
  var announcer = document.querySelector("[data-ringing-announce]");
  // Client clock minus server clock, so a countdown is right on a machine whose clock is off.
  var clockOffset = Date.now() - Date.parse(config.serverNow);

  function expiresAt(item) {
    var time = item.querySelector("time[datetime]");
    return Date.parse(item.getAttribute("data-expires") || (time && time.getAttribute("datetime"))) + clockOffset;
  }

  function updatePanel() {
    var ringing = offerList.children.length > 0;
    panel.hidden = !ringing;
    panel.querySelector(".ringing__title").textContent = ringing ? "Ringing for you" : "";
  }

  function removeOffer(item) {
    if (!item || !item.parentNode) {
      return;
    }
    if (item.contains(document.activeElement)) {
      // Keep keyboard users in the panel when another offer rings, else take them to the page.
      var next = item.nextElementSibling || item.previousElementSibling;
      var target = next ? next.querySelector("button") : document.getElementById("main");
      item.remove();
      target && target.focus();
    } else {
      item.remove();
    }
    updatePanel();
  }

  function offerForm(action, urlTemplate, event, label, primary) {
    var form = element("form");
    form.method = "post";
    form.action = offerUrl(urlTemplate, event.offer_id);
    form.setAttribute("data-offer-action", action);
    [["csrfmiddlewaretoken", config.csrfToken], ["next", window.location.pathname + window.location.search]]
      .forEach(function (pair) {
        var input = element("input");
        input.type = "hidden";
        input.name = pair[0];
        input.value = pair[1];
        form.appendChild(input);
      });
    var button = element("button", "button button--small" + (primary ? " button--primary" : ""), label);
    button.type = "submit";
    button.setAttribute("aria-label", label + " " + event.ticket);
    form.appendChild(button);
    return form;
  }

  function showOffer(event) {
    if (!offerList || offerList.querySelector('[data-offer="' + event.offer_id + '"]')) {
      return;
    }
    if (Date.parse(event.expires_at) + clockOffset <= Date.now()) {
      return; // replayed after it rang out
    }
    var channel = CHANNEL_LABELS[event.channel] || event.channel;
    var item = element("li", "ringing__offer ringing__offer--new");
    item.setAttribute("data-offer", event.offer_id);
    item.setAttribute("data-code", event.ticket);
    item.setAttribute("data-channel", event.channel);
    item.setAttribute("data-expires", event.expires_at);
    item.appendChild(element("span", "chip", channel));
    var what = element("span", "ringing__what");
    what.appendChild(element("span", "code", event.ticket));
    what.appendChild(document.createTextNode(" " + event.subject + " "));
    what.appendChild(element("span", "muted",
      "· " + event.customer + (event.department ? " · " + event.department : "")));
    if (event.first_message) {
      what.appendChild(element("span", "ringing__first", event.first_message));
    }
    item.appendChild(what);
    item.appendChild(element("span", "muted ringing__until", ""));
    item.lastChild.setAttribute("data-countdown", "");
    item.appendChild(offerForm("accept", config.urls.offerAccept, event, "Accept", true));
    item.appendChild(offerForm("decline", config.urls.offerDecline, event, "Decline", false));
    offerList.appendChild(item);
    updatePanel();
    tick();
    if (announcer) {
      announcer.textContent = channel + " ringing: " + event.ticket + ", " + event.subject + ", from " + event.customer;
    }
  }

  function tick() {
    Array.prototype.forEach.call(offerList.children, function (item) {
      var left = Math.round((expiresAt(item) - Date.now()) / 1000);
      if (isNaN(left)) {
        return;
      }
      if (left <= 0) {
        removeOffer(item); // rang out; the server moves it on
        return;
      }
      item.querySelector("[data-countdown]").textContent = left + " s left";
    });
  }

  function answerOffer(form) {
    var item = form.closest("[data-offer]");
    var accepting = form.getAttribute("data-offer-action") === "accept";
    var buttons = item.querySelectorAll("button");
    Array.prototype.forEach.call(buttons, function (button) { button.disabled = true; });
    postJson(form.action, new FormData(form)).then(function (answer) {
      if (answer.ok && accepting && item.getAttribute("data-channel") !== "chat") {
        window.location.assign(answer.data.url);
        return;
      }
      // A chat stays on this page: the chat panel opens it on chat.assigned.
      removeOffer(item);
      toast(answer.data.message || "That did not work; the offer is gone.", null, answer.ok ? "info" : "warning");
    }).catch(function () {
      Array.prototype.forEach.call(buttons, function (button) { button.disabled = false; });
      toast("The server could not be reached. Try again.", null, "warning");
    });
  }

  if (offerList) {
    panel.addEventListener("submit", function (event) {
      var form = event.target.closest("form[data-offer-action]");
      if (form) {
        event.preventDefault();
        answerOffer(form);
      }
    });
    api.on("offer.ringing", showOffer);
    api.on("offer.withdrawn", function (event) {
      removeOffer(offerList.querySelector('[data-offer="' + event.offer_id + '"]'));
    });
    tick();
    window.setInterval(tick, 1000);
  }

  // --- presence ------------------------------------------------------------------------------------------

  var presenceForm = document.querySelector("form[data-presence-form]");
  var presenceSelect = presenceForm && presenceForm.querySelector("select[name=status]");
  var presenceDot = presenceForm && presenceForm.querySelector("[data-presence-dot]");
  var currentStatus = presenceSelect && presenceSelect.value;

  function applyStatus(status, label) {
    presenceSelect.value = status;
    presenceDot.className = "presence__dot presence__dot--" + status;
    if (status !== currentStatus) {
      currentStatus = status;
      toast("Your status is now " + label + ".");
    }
  }

  if (presenceForm) {
    presenceForm.addEventListener("submit", function (event) {
      event.preventDefault();
      postJson(presenceForm.action, new FormData(presenceForm)).then(function (answer) {
        if (answer.ok) {
          applyStatus(answer.data.status, answer.data.label);
        } else {
          presenceSelect.value = currentStatus;
          toast(answer.data.message || "Your status could not be changed.", null, "warning");
        }
      }).catch(function () {
        presenceSelect.value = currentStatus;
        toast("The server could not be reached. Try again.", null, "warning");
      });
    });
    // Another tab, the admin, or going offline after the last tab closed.
    api.on("agent.status_changed", function (event) {
      applyStatus(event.status, event.label);
    });
  }

  // --- department counts in the inbox --------------------------------------------------------------------

  var COUNTS_AT_MOST_EVERY_MS = 3000;
  var departmentLinks = document.querySelectorAll("a[data-department]");
  var countsFetchedAt = 0;
  var countsTimer = null;

  function showCounts(data) {
    Array.prototype.forEach.call(departmentLinks, function (link) {
      var counts = (data.departments || {})[link.getAttribute("data-department")];
      var badge = link.querySelector("[data-count]");
      if (!counts) {
        return;
      }
      if (!badge) {
        badge = element("span", "count");
        badge.setAttribute("data-count", "");
        link.appendChild(badge);
      }
      badge.textContent = "";
      badge.appendChild(element("span", null, String(counts.open))).setAttribute("aria-hidden", "true");
      badge.appendChild(element("span", "visually-hidden", ", " + counts.open + " open"));
      badge.title = counts.open + " open, " + counts.unassigned + " unassigned";
    });
  }

  function fetchCounts() {
    countsTimer = null;
    countsFetchedAt = Date.now();
    window.fetch(config.urls.counts, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) { data && showCounts(data); })
      .catch(function () { /* the next hint or page load fetches again */ });
  }

  // A burst of changes (a mail import, a busy queue) becomes at most one request every few seconds.
  function countsChanged() {
    if (countsTimer !== null) {
      return;
    }
    var wait = Math.max(0, countsFetchedAt + COUNTS_AT_MOST_EVERY_MS - Date.now());
    countsTimer = window.setTimeout(fetchCounts, wait);
  }

  if (departmentLinks.length) {
    fetchCounts();
    api.on("counters.changed", countsChanged);
    // Hints sent while the socket was down are lost; the counts may have moved meanwhile.
    api.on("connected", function (event) {
      if (event.reconnected) {
        countsChanged();
      }
    });
  }

  connect();
})();
