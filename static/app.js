// Progressive enhancement only: every page works without this file.
// htmx requests carry the CSRF token in a header (Litestar's CSRF middleware checks it).
document.addEventListener("htmx:configRequest", function (event) {
  var meta = document.querySelector('meta[name="csrf-token"]');
  if (meta) {
    event.detail.headers["X-CSRFToken"] = meta.content;
  }
});
