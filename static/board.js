// The cluster board: drag and drop (SortableJS) and live updates (server-sent events).
// Without JavaScript every card has a "move to theme" form; this file only adds comfort.
(function () {
  "use strict";

  function board() {
    return document.getElementById("board");
  }

  var pending = null;

  // Several changes in a short time (an accepted suggestion moves many cards) make one reload.
  function refresh() {
    if (pending) { return; }
    pending = setTimeout(function () {
      pending = null;
      var current = board();
      if (!current) { return; }
      if (current.classList.contains("dragging")) { refresh(); return; }
      htmx.ajax("GET", current.dataset.url, { target: "#board", swap: "outerHTML" });
    }, 300);
  }

  function enableDragAndDrop() {
    var current = board();
    if (!current || current.dataset.sortable !== "yes" || typeof Sortable === "undefined") {
      return;
    }
    current.querySelectorAll(".theme-cards").forEach(function (list) {
      Sortable.create(list, {
        group: "ideas",
        // Native HTML5 drag and drop and classes only: no cloned ghost with copied styles.
        forceFallback: false,
        ghostClass: "card-ghost",
        chosenClass: "card-chosen",
        dragClass: "card-dragged",
        animation: 150,
        // From the moment a card is pressed, not only once it moves: a reload arriving in
        // between would take the card from under the hand.
        onChoose: function () { current.classList.add("dragging"); },
        onUnchoose: function () { current.classList.remove("dragging"); },
        onEnd: function (event) {
          current.classList.remove("dragging");
          if (event.from === event.to) { return; }
          var ideaId = event.item.dataset.ideaId;
          htmx.ajax("POST", "/ideas/" + ideaId + "/theme", {
            target: "#board",
            swap: "outerHTML",
            values: { theme_id: event.to.dataset.themeId || "" },
          });
        },
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var current = board();
    if (!current) { return; }
    document.body.classList.add("js");
    enableDragAndDrop();
    document.body.addEventListener("htmx:afterSettle", function (event) {
      if (event.target.id === "board") { enableDragAndDrop(); }
    });
    // A reload that arrives while a card is being dragged would drop the board under the hand
    // (the card and its target gone): keep the board, reload once the card is dropped.
    document.body.addEventListener("htmx:beforeSwap", function (event) {
      var current = board();
      if (current && event.detail.target === current && current.classList.contains("dragging")
          && event.detail.requestConfig && event.detail.requestConfig.verb === "get") {
        event.detail.shouldSwap = false;
        refresh();
      }
    });
    // A refused move (locked theme, phase over) comes back as an error: show it, and put the
    // card back where the server says it is.
    document.body.addEventListener("htmx:responseError", function (event) {
      var current = board();
      if (!current || !current.contains(event.detail.elt) && event.detail.elt !== document.body) {
        return;
      }
      var message = document.getElementById("board-message");
      if (message) {
        message.innerHTML = event.detail.xhr.responseText;
      }
      refresh();
    });
    // Others' changes: the server sends one event per change; EventSource reconnects itself.
    var events = new EventSource(current.dataset.events);
    events.onmessage = refresh;
  });
})();
