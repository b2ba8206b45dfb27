// Progressive enhancement only: every page works without this file.
// htmx requests carry the CSRF token in a header (Litestar's CSRF middleware checks it).
document.addEventListener("htmx:configRequest", function (event) {
  var meta = document.querySelector('meta[name="csrf-token"]');
  if (meta) {
    event.detail.headers["X-CSRFToken"] = meta.content;
  }
});

// A failed htmx request must never leave the page silent: htmx does not swap error answers,
// so the message is shown here, next to the form (or link) that sent the request.
(function () {
  "use strict";

  var MAX_MESSAGE = 300;

  function generic(kind) {
    var body = document.body;
    return (body && body.getAttribute("data-error-" + kind)) || "Something went wrong. Please try again.";
  }

  // The server's own words when it answered with a short message (the error fragment, plain
  // text or the API's JSON detail); otherwise null.
  function serverMessage(xhr) {
    var type = (xhr.getResponseHeader("Content-Type") || "").toLowerCase();
    var text = xhr.responseText || "";
    var message = null;
    if (type.indexOf("application/json") !== -1) {
      try {
        message = JSON.parse(text).detail;
      } catch (ignored) {
        message = null;
      }
    } else if (type.indexOf("text/html") !== -1) {
      var doc = new DOMParser().parseFromString(text, "text/html");
      var found = doc.querySelector('[role="alert"], .flash-error, .field-error');
      message = found ? found.textContent : null;
    } else if (type.indexOf("text/plain") !== -1) {
      message = text;
    }
    message = typeof message === "string" ? message.replace(/\s+/g, " ").trim() : "";
    return message && message.length <= MAX_MESSAGE ? message : null;
  }

  function anchorOf(elt) {
    if (!elt || elt === document.body || !elt.isConnected) { return null; }
    return elt.closest("form") || elt;
  }

  function clearMessage(anchor) {
    var next = anchor && anchor.nextElementSibling;
    if (next && next.classList.contains("htmx-error")) { next.remove(); }
  }

  function show(elt, message) {
    var anchor = anchorOf(elt);
    var box = document.createElement("p");
    box.className = "flash flash-error htmx-error";
    box.setAttribute("role", "alert");
    box.textContent = message;
    if (anchor) {
      clearMessage(anchor);
      anchor.insertAdjacentElement("afterend", box);
      return;
    }
    // The sender is gone (or was the page itself): the page's message area, in view.
    var area = document.getElementById("flash-area");
    if (!area) { return; }
    area.replaceChildren(box);
    area.scrollIntoView({ block: "nearest" });
  }

  // The theme board shows its own errors and reloads itself (board.js).
  function handledElsewhere(elt) {
    var board = document.getElementById("board");
    return !!board && (elt === document.body || board.contains(elt));
  }

  document.addEventListener("htmx:responseError", function (event) {
    var elt = event.detail.elt;
    if (handledElsewhere(elt)) { return; }
    var xhr = event.detail.xhr;
    show(elt, serverMessage(xhr) || generic(xhr.status >= 500 ? "server" : "generic"));
  });
  document.addEventListener("htmx:sendError", function (event) {
    if (handledElsewhere(event.detail.elt)) { return; }
    show(event.detail.elt, generic("network"));
  });
  document.addEventListener("htmx:timeout", function (event) {
    if (handledElsewhere(event.detail.elt)) { return; }
    show(event.detail.elt, generic("timeout"));
  });
  // A later success of the same form takes its old message away.
  document.addEventListener("htmx:afterRequest", function (event) {
    if (event.detail.successful) { clearMessage(anchorOf(event.detail.elt)); }
  });
})();

// The idea list's filter is folded on a phone (app.css); on a wide screen it is open. Where
// the browser cannot style a <details> open by CSS alone, it is opened here.
(function () {
  "use strict";
  var supported = window.CSS && CSS.supports && CSS.supports("selector(::details-content)");
  if (supported) { return; }
  document.addEventListener("DOMContentLoaded", function () {
    if (!window.matchMedia("(min-width: 48rem)").matches) { return; }
    document.querySelectorAll("details.filters-fold").forEach(function (details) {
      details.open = true;
    });
  });
})();
