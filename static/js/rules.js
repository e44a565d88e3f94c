// The rule builder: condition groups and actions with inputs that fit each field, written into the form's JSON
// fields on submit, and the dry run, which asks the API. Without this script the JSON fields stay editable.
(function () {
  "use strict";

  var form = document.querySelector("[data-rule-form]");
  if (!form) {
    return;
  }
  var catalog = JSON.parse(document.getElementById("rule-catalog").textContent);
  var errors = JSON.parse(document.getElementById("rule-errors").textContent) || {};
  var fields = {};
  catalog.fields.forEach(function (f) { fields[f.name] = f; });
  var actionSpecs = {};
  catalog.actions.forEach(function (a) { actionSpecs[a.type] = a; });
  var conditionsText = form.querySelector('[data-builder="conditions"]');
  var actionsText = form.querySelector('[data-builder="actions"]');
  var conditionsMount = form.querySelector('[data-builder-mount="conditions"]');
  var actionsMount = form.querySelector('[data-builder-mount="actions"]');

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === "text") {
        node.textContent = attrs[key];
      } else {
        node.setAttribute(key, attrs[key]);
      }
    });
    (children || []).forEach(function (child) { if (child) { node.appendChild(child); } });
    return node;
  }

  function select(label, options, selected, multiple) {
    var wanted = [].concat(selected === null || selected === undefined ? [] : selected).map(String);
    var node = el("select", {"aria-label": label});
    if (multiple) {
      node.multiple = true;
      node.size = Math.min(6, Math.max(2, options.length));
    }
    options.forEach(function (pair) {
      var option = el("option", {value: String(pair[0]), text: pair[1]});
      option.selected = wanted.indexOf(String(pair[0])) !== -1;
      node.appendChild(option);
    });
    return node;
  }

  function parse(textarea) {
    try {
      var value = JSON.parse(textarea.value || "[]");
      return Array.isArray(value) ? value : [];
    } catch (e) {
      return [];
    }
  }

  function errorNote(key) {
    var messages = errors[key];
    return messages ? el("p", {"class": "errorlist rule-row__error", role: "alert", text: messages.join(" ")}) : null;
  }

  function localDateTime(iso) {
    if (!iso) { return ""; }
    var d = new Date(iso);
    var pad = function (n) { return String(n).padStart(2, "0"); };
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + "T" + pad(d.getHours()) + ":" +
      pad(d.getMinutes());
  }

  // --- conditions ---------------------------------------------------------------------------------------

  function choicesFor(field) {
    if (field.kind === "choice") { return field.choices; }
    if (field.kind === "priority") { return catalog.priorities; }
    if (field.kind === "ref") { return catalog.references[field.ref]; }
    if (field.kind === "bool") { return [["true", "Yes"], ["false", "No"]]; }
    return null;
  }

  function valueInput(field, operator, value) {
    if (catalog.valueless.indexOf(operator) !== -1) { return null; }
    var listed = operator === "in" || operator === "not_in";
    var choices = choicesFor(field);
    if (choices) { return select("Value", choices, value, listed); }
    var input = el("input", {"aria-label": "Value"});
    if (field.kind === "datetime") {
      input.type = "datetime-local";
      input.value = localDateTime(value);
    } else if (field.kind === "time") {
      input.type = "time";
      input.value = value || "";
    } else {
      input.type = "text";
      input.value = Array.isArray(value) ? value.join(", ") : (value || "");
      if (listed) { input.placeholder = "Comma-separated"; }
      if (operator === "matches") { input.placeholder = "A pattern, e.g. order #\\d+"; }
    }
    return input;
  }

  function readValue(field, operator, input) {
    if (!input) { return null; }
    var convert = function (v) {
      if (field.kind === "ref") { return Number(v); }
      if (field.kind === "bool") { return v === "true"; }
      return v;
    };
    if (input.tagName === "SELECT") {
      var picked = Array.prototype.map.call(input.selectedOptions, function (o) { return convert(o.value); });
      return input.multiple ? picked : (picked.length ? picked[0] : null);
    }
    if (operator === "in" || operator === "not_in") {
      return input.value.split(",").map(function (s) { return s.trim(); }).filter(Boolean);
    }
    if (input.type === "datetime-local") {
      return input.value ? new Date(input.value).toISOString() : "";
    }
    return input.value;
  }

  function conditionRow(condition, key) {
    var row = el("div", {"class": "rule-row", "data-condition": ""});
    var fieldSelect = select("Field", catalog.fields.map(function (f) { return [f.name, f.label]; }),
                             condition.field || catalog.fields[0].name);
    var operatorSelect = el("select", {"aria-label": "Operator"});
    var slot = el("span", {"class": "rule-row__value"});
    var remove = el("button", {type: "button", "class": "button button--small button--ghost", text: "Remove",
                               "aria-label": "Remove condition"});
    var input = null;

    function field() { return fields[fieldSelect.value] || catalog.fields[0]; }

    function fillOperators(wanted) {
      operatorSelect.replaceChildren();
      field().operators.forEach(function (op) {
        operatorSelect.appendChild(el("option", {value: op, text: catalog.operators[op]}));
      });
      if (wanted && field().operators.indexOf(wanted) !== -1) { operatorSelect.value = wanted; }
    }

    function fillValue(value) {
      input = valueInput(field(), operatorSelect.value, value);
      slot.replaceChildren();
      if (input) { slot.appendChild(input); }
    }

    fillOperators(condition.operator);
    fillValue(condition.value);
    fieldSelect.addEventListener("change", function () { fillOperators(null); fillValue(null); });
    operatorSelect.addEventListener("change", function () { fillValue(null); });
    remove.addEventListener("click", function () { row.remove(); });
    row.read = function () {
      return {field: fieldSelect.value, operator: operatorSelect.value,
              value: readValue(field(), operatorSelect.value, input)};
    };
    [fieldSelect, operatorSelect, slot, remove].forEach(function (n) { row.appendChild(n); });
    ["", ".field", ".operator", ".value"].forEach(function (suffix) {
      var note = key && errorNote(key + suffix);
      if (note) { row.classList.add("rule-row--error"); row.appendChild(note); }
    });
    return row;
  }

  function groupBox(group, index) {
    var list = el("div", {"class": "rule-group__conditions"});
    var box = el("div", {"class": "rule-group", "data-group": "", role: "group",
                         "aria-label": "Condition group " + (index + 1)});
    box.appendChild(el("p", {"class": "rule-group__title", text: "All of these"}));
    box.appendChild(list);
    group.forEach(function (condition, i) {
      list.appendChild(conditionRow(condition, "condition_groups[" + index + "][" + i + "]"));
    });
    var add = el("button", {type: "button", "class": "button button--small", text: "Add condition"});
    add.addEventListener("click", function () {
      var row = conditionRow({}, null);
      list.appendChild(row);
      row.querySelector("select").focus();
    });
    var removeGroup = el("button", {type: "button", "class": "button button--small button--ghost",
                                    text: "Remove group"});
    removeGroup.addEventListener("click", function () { box.remove(); });
    box.appendChild(el("div", {"class": "button-row"}, [add, removeGroup]));
    var note = errorNote("condition_groups[" + index + "]");
    if (note) { box.appendChild(note); }
    return box;
  }

  var groupsList = el("div", {"class": "rule-groups"});
  parse(conditionsText).forEach(function (group, index) { groupsList.appendChild(groupBox(group, index)); });
  var addGroup = el("button", {type: "button", "class": "button button--small", text: "Add group (or)"});
  addGroup.addEventListener("click", function () {
    var box = groupBox([{}], groupsList.children.length);
    groupsList.appendChild(box);
    box.querySelector("select").focus();
  });
  conditionsMount.appendChild(groupsList);
  conditionsMount.appendChild(addGroup);
  var groupsError = errorNote("condition_groups");
  if (groupsError) { conditionsMount.appendChild(groupsError); }

  function readConditions() {
    return Array.prototype.map.call(groupsList.querySelectorAll("[data-group]"), function (box) {
      return Array.prototype.map.call(box.querySelectorAll("[data-condition]"), function (row) { return row.read(); });
    }).filter(function (group) { return group.length; });
  }

  // --- actions -----------------------------------------------------------------------------------------

  function actionValueInput(spec, value) {
    var kind = spec.value;
    if (kind === "none") { return null; }
    if (catalog.references[kind]) {
      return select("Value", catalog.references[kind], value, false);
    }
    if (kind === "priority") { return select("Value", catalog.priorities, value, false); }
    if (kind === "status") { return select("Value", catalog.statuses, value, false); }
    if (kind === "text") {
      var area = el("textarea", {"aria-label": "Value", rows: "2"});
      area.value = value || "";
      return area;
    }
    var input = el("input", {"aria-label": "Value"});
    if (kind === "minutes" || kind === "template" || kind === "sla") {
      input.type = "number";
      input.min = "1";
      input.value = value || "";
    } else {
      input.type = "text";
      input.placeholder = "Comma-separated";
      input.value = Array.isArray(value) ? value.join(", ") : (value || "");
    }
    return input;
  }

  function readActionValue(spec, input) {
    if (!input) { return null; }
    var kind = spec.value;
    if (["department", "agent", "category", "minutes", "template", "sla"].indexOf(kind) !== -1) {
      return input.value ? Number(input.value) : null;
    }
    if (kind === "tags") {
      return input.value.split(",").map(function (s) { return s.trim(); }).filter(Boolean);
    }
    return input.value;
  }

  function actionRow(action, key) {
    var row = el("div", {"class": "rule-row", "data-action": ""});
    var typeSelect = select("Action", catalog.actions.map(function (a) { return [a.type, a.label]; }),
                            action.type || catalog.actions[0].type);
    var slot = el("span", {"class": "rule-row__value"});
    var remove = el("button", {type: "button", "class": "button button--small button--ghost", text: "Remove",
                               "aria-label": "Remove action"});
    var input = null;

    function spec() { return actionSpecs[typeSelect.value] || catalog.actions[0]; }

    function fillValue(value) {
      input = actionValueInput(spec(), value);
      slot.replaceChildren();
      if (input) { slot.appendChild(input); }
    }

    fillValue(action.value);
    typeSelect.addEventListener("change", function () { fillValue(null); });
    remove.addEventListener("click", function () { row.remove(); });
    row.read = function () { return {type: typeSelect.value, value: readActionValue(spec(), input)}; };
    [typeSelect, slot, remove].forEach(function (n) { row.appendChild(n); });
    ["", ".type", ".value"].forEach(function (suffix) {
      var note = key && errorNote(key + suffix);
      if (note) { row.classList.add("rule-row--error"); row.appendChild(note); }
    });
    return row;
  }

  var actionsList = el("div", {"class": "rule-actions"});
  parse(actionsText).forEach(function (action, index) {
    actionsList.appendChild(actionRow(action, "actions[" + index + "]"));
  });
  var addAction = el("button", {type: "button", "class": "button button--small", text: "Add action"});
  addAction.addEventListener("click", function () {
    var row = actionRow({}, null);
    actionsList.appendChild(row);
    row.querySelector("select").focus();
  });
  actionsMount.appendChild(actionsList);
  actionsMount.appendChild(addAction);
  var actionsError = errorNote("actions");
  if (actionsError) { actionsMount.appendChild(actionsError); }

  function readActions() {
    return Array.prototype.map.call(actionsList.querySelectorAll("[data-action]"), function (row) {
      return row.read();
    });
  }

  // The JSON fields are the builder's output now.
  conditionsText.closest(".field").hidden = true;
  actionsText.closest(".field").hidden = true;
  form.addEventListener("submit", function () {
    conditionsText.value = JSON.stringify(readConditions());
    actionsText.value = JSON.stringify(readActions());
  });

  // --- trigger options: only those the chosen trigger takes ------------------------------------------------

  var trigger = form.querySelector('select[name="trigger"]');
  function showOptions() {
    var t = trigger.value;
    var timed = t.indexOf("time_") === 0 || t.indexOf("sla_") === 0;
    form.querySelector("[data-option-minutes]").hidden = !timed;
    form.querySelector("[data-option-status]").hidden = t !== "time_in_status";
    form.querySelector("[data-option-fields]").hidden = t !== "ticket_updated";
    form.querySelector("[data-trigger-options]").hidden = !timed && t !== "ticket_updated";
  }
  trigger.addEventListener("change", showOptions);
  showOptions();

  // --- dry run ------------------------------------------------------------------------------------------

  var start = form.querySelector("[data-dry-run-start]");
  var end = form.querySelector("[data-dry-run-end]");
  var result = form.querySelector("[data-dry-run-result]");
  var today = new Date();
  var monthAgo = new Date(today.getTime() - 30 * 24 * 3600 * 1000);
  end.value = today.toISOString().slice(0, 10);
  start.value = monthAgo.toISOString().slice(0, 10);

  function definition() {
    var t = trigger.value;
    var options = {};
    if (t === "ticket_updated") {
      var watched = Array.prototype.map.call(form.querySelectorAll('input[name="watched_fields"]:checked'),
                                             function (box) { return box.value; });
      if (watched.length) { options.fields = watched; }
    }
    if (t.indexOf("time_") === 0 || t.indexOf("sla_") === 0) {
      options.minutes = Number(form.querySelector('input[name="minutes"]').value) || null;
    }
    if (t === "time_in_status") { options.status = form.querySelector('select[name="status"]').value; }
    return {
      name: form.querySelector('input[name="name"]').value || "Dry run",
      trigger: t, trigger_options: options, condition_groups: readConditions(), actions: readActions(),
    };
  }

  function describe(changes, also) {
    var parts = Object.keys(changes).map(function (name) {
      var pair = changes[name];
      var show = function (v) { return v === null || v === undefined ? "none" : (Array.isArray(v) ? v.join(", ") || "none" : v); };
      return name + ": " + show(pair[0]) + " → " + show(pair[1]);
    });
    return parts.concat(also).join("; ") || "nothing to change";
  }

  function showResult(data) {
    result.replaceChildren();
    var counted = data.complete ? data.matched + " ticket" + (data.matched === 1 ? "" : "s")
      : "at least " + data.matched + " tickets (of the newest " + data.scanned + " checked)";
    result.appendChild(el("p", {"class": "rule-dry-run__count", text: "Would match " + counted + "."}));
    if (!data.tickets.length) { return; }
    var body = el("tbody");
    data.tickets.forEach(function (t) {
      var link = el("a", {href: form.getAttribute("data-ticket-url").replace("CODE", t.code), text: t.code});
      body.appendChild(el("tr", {"data-dry-run-ticket": t.code}, [
        el("td", {}, [link]), el("td", {text: t.subject}),
        el("td", {text: new Date(t.created_at).toLocaleString()}), el("td", {text: describe(t.changes, t.also)}),
      ]));
    });
    var head = el("thead", {}, [el("tr", {}, ["Ticket", "Subject", "Created", "Would change"].map(function (h) {
      return el("th", {scope: "col", text: h});
    }))]);
    result.appendChild(el("div", {"class": "table-scroll"}, [el("table", {"class": "table"}, [head, body])]));
  }

  function showErrors(body) {
    result.replaceChildren();
    var error = (body && body.error) || {message: "The dry run failed."};
    var list = el("ul", {"class": "errorlist"});
    Object.keys(error.fields || {}).forEach(function (key) {
      list.appendChild(el("li", {text: key.replace(/^rule\./, "") + ": " + error.fields[key].join(" ")}));
    });
    result.appendChild(el("div", {"class": "alert alert--error", role: "alert"}, [
      el("p", {text: error.message}), list,
    ]));
  }

  form.querySelector("[data-dry-run-button]").addEventListener("click", function () {
    var from = new Date(start.value + "T00:00:00");
    var until = new Date(end.value + "T00:00:00");
    until.setDate(until.getDate() + 1);
    result.replaceChildren(el("p", {"class": "muted", text: "Trying the rule…"}));
    fetch(form.getAttribute("data-dry-run-url"), {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "Accept": "application/json",
                "X-CSRFToken": form.querySelector('input[name="csrfmiddlewaretoken"]').value},
      body: JSON.stringify({start: from.toISOString(), end: until.toISOString(), rule: definition()}),
    }).then(function (response) {
      return response.json().then(function (body) {
        if (response.ok) { showResult(body); } else { showErrors(body); }
      });
    }).catch(function () { showErrors(null); });
  });
})();
