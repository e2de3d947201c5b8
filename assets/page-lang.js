// <html lang> follows the page's language: Dash changes pages (and the language switch) without
// reloading the document, so the header's lang is copied up whenever the page content changes.
(function () {
  "use strict";
  function sync() {
    var header = document.querySelector("header.wall-header[lang]");
    var lang = header && header.getAttribute("lang");
    if (lang && document.documentElement.getAttribute("lang") !== lang) {
      document.documentElement.setAttribute("lang", lang);
    }
  }
  function start() {
    sync();
    new MutationObserver(sync).observe(document.body, { childList: true, subtree: true });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
