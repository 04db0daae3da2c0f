// The live view (/live) follows the calls as they go: /live/events streams
// the tables, rendered and escaped by the server, as server-sent events,
// and each event replaces them. The browser reconnects by itself when the
// stream ends; a stream refused (the session ended) reloads the page,
// which then asks to sign in. Loaded from this origin only: the page's
// Content-Security-Policy allows no inline script.
"use strict";
(function () {
  var box = document.getElementById("live");
  if (!box || !window.EventSource) {
    return;
  }
  var source = new EventSource(box.getAttribute("data-stream"));
  source.addEventListener("live", function (ev) {
    // A link the keyboard is on keeps the focus across the update.
    var focused = document.activeElement;
    var href = focused && box.contains(focused) ? focused.getAttribute("href") : null;
    var doc = new DOMParser().parseFromString(ev.data, "text/html");
    box.replaceChildren.apply(box, Array.prototype.slice.call(doc.body.childNodes));
    if (href) {
      var again = box.querySelector('a[href="' + CSS.escape(href) + '"]');
      if (again) {
        again.focus();
      }
    }
  });
  source.addEventListener("error", function () {
    if (source.readyState === EventSource.CLOSED) {
      window.setTimeout(function () { window.location.reload(); }, 5000);
    }
  });
})();
