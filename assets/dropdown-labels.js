// Dash's dropdown button names itself by its value (aria-labelledby), so a <label for> pointing at it
// is ignored by screen readers. Put the label first in its aria-labelledby: "Centre, Qinzhou".
(function () {
  "use strict";
  function label() {
    var buttons = document.querySelectorAll("button.dash-dropdown[id]");
    for (var i = 0; i < buttons.length; i++) {
      var button = buttons[i];
      var tag = document.querySelector('label[for="' + button.id + '"]');
      if (!tag) continue;
      if (!tag.id) tag.id = button.id + "-label";
      var names = (button.getAttribute("aria-labelledby") || "").split(" ").filter(Boolean);
      if (names[0] !== tag.id) {
        button.setAttribute("aria-labelledby", [tag.id].concat(names.filter(function (n) { return n !== tag.id; })).join(" "));
      }
    }
  }
  function start() {
    label();
    new MutationObserver(label).observe(document.body, { childList: true, subtree: true, attributes: true, attributeFilter: ["aria-labelledby"] });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
