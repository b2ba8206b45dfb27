// Admin process form: the short name (slug) follows the title until the admin edits it.
(function () {
  "use strict";

  var LETTERS = { "ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss" };

  function slugify(text) {
    return text
      .toLowerCase()
      .replace(/[äöüß]/g, function (letter) { return LETTERS[letter]; })
      .normalize("NFKD")
      .replace(/[\u0300-\u036f]/g, "")
      .replace(/[^a-z0-9]+/g, "-")
      .replace(/^-+|-+$/g, "")
      .slice(0, 63)
      .replace(/-+$/, "");
  }

  function follow(slug) {
    var source = document.getElementById(slug.dataset.slugFrom);
    if (!source) { return; }
    // A slug the admin typed (or an existing process's) stays; an empty one, or one that is
    // just the title's (a form shown again after an error), follows the title.
    var following = slug.value === "" || slug.value === slugify(source.value);
    slug.addEventListener("input", function () {
      following = slug.value === "";
    });
    source.addEventListener("input", function () {
      if (following) { slug.value = slugify(source.value); }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("input[data-slug-from]").forEach(follow);
  });
})();
