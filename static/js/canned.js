// Canned responses in the reply box: search by shortcut or title, or type "/" and a shortcut in the reply
// itself; choosing one inserts its text, placeholders already filled in for this ticket by the server.
(function () {
  "use strict";

  function setup(box) {
    var url = box.getAttribute("data-canned-url");
    var textarea = document.getElementById(box.getAttribute("data-canned-target"));
    var search = box.querySelector(".canned__search");
    var list = box.querySelector(".canned__list");
    if (!textarea || !search || !list) return;
    var slashStart = -1; // where "/shortcut" begins in the textarea while the list answers it
    var pending = null;

    function load(query, fromTextarea) {
      if (pending) pending.abort();
      pending = new AbortController();
      fetch(url + "?q=" + encodeURIComponent(query), { credentials: "same-origin", signal: pending.signal })
        .then(function (response) { return response.ok ? response.json() : { results: [] }; })
        .then(function (data) { show(data.results || [], fromTextarea); })
        .catch(function () { /* aborted by a newer search, or offline: the list stays as it was */ });
    }

    function show(results, fromTextarea) {
      list.textContent = "";
      results.forEach(function (item, index) {
        var li = document.createElement("li");
        li.setAttribute("role", "option");
        li.setAttribute("tabindex", "-1");
        li.className = "canned__item" + (index === 0 ? " canned__item--active" : "");
        var code = document.createElement("span");
        code.className = "code";
        code.textContent = "/" + item.shortcut;
        li.appendChild(code);
        li.appendChild(document.createTextNode(" " + item.title));
        li.addEventListener("mousedown", function (event) {
          event.preventDefault();
          insert(item, fromTextarea);
        });
        list.appendChild(li);
      });
      list.hidden = results.length === 0;
      list.results = results;
      list.fromTextarea = fromTextarea;
    }

    function insert(item, fromTextarea) {
      var value = textarea.value;
      var start = textarea.selectionStart;
      var end = textarea.selectionEnd;
      if (fromTextarea && slashStart >= 0) {
        start = slashStart;
      }
      textarea.value = value.slice(0, start) + item.body + value.slice(end);
      var caret = start + item.body.length;
      textarea.focus();
      textarea.setSelectionRange(caret, caret);
      slashStart = -1;
      list.hidden = true;
      search.value = "";
    }

    function active() {
      return list.querySelector(".canned__item--active");
    }

    function move(step) {
      var items = Array.prototype.slice.call(list.children);
      var index = items.indexOf(active());
      if (index >= 0) items[index].classList.remove("canned__item--active");
      var next = items[(index + step + items.length) % items.length];
      if (next) next.classList.add("canned__item--active");
    }

    function keys(event, fromTextarea) {
      if (list.hidden) return;
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        move(event.key === "ArrowDown" ? 1 : -1);
      } else if (event.key === "Enter" || event.key === "Tab") {
        var items = Array.prototype.slice.call(list.children);
        var index = items.indexOf(active());
        if (index >= 0 && list.results) {
          event.preventDefault();
          insert(list.results[index], fromTextarea);
        }
      } else if (event.key === "Escape") {
        list.hidden = true;
        slashStart = -1;
      }
    }

    search.addEventListener("input", function () { load(search.value, false); });
    search.addEventListener("focus", function () { load(search.value, false); });
    search.addEventListener("keydown", function (event) { keys(event, false); });
    search.addEventListener("blur", function () { setTimeout(function () { list.hidden = true; }, 150); });

    textarea.addEventListener("keydown", function (event) { keys(event, true); });
    textarea.addEventListener("input", function () {
      // "/word" just typed at the start of a line or after a space: offer the shortcuts starting with it.
      var before = textarea.value.slice(0, textarea.selectionStart);
      var match = /(^|\s)\/([\w-]*)$/.exec(before);
      if (match) {
        slashStart = before.length - match[2].length - 1;
        load(match[2], true);
      } else if (slashStart >= 0) {
        slashStart = -1;
        list.hidden = true;
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("[data-canned-url]"), setup);
  });
})();
