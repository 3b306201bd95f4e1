/* papernotes: the search index is fetched when the reader reaches for the search box (pointer over
   it, focus, or the keyboard shortcut that opens it), not by every page as soon as it loads. Every
   page of the theme fetches the whole index at start-up: for 74 notes 1.4 MB (390 KB gzip), for
   3,000 notes 13-18 MB, on the first page of every visit, searched or not. The theme requests it
   with XMLHttpRequest; this holds that one request back until the reader wants to search, and the
   theme's worker then builds the index as before. `papernotes build` prepends this file to the
   theme's bundle. */
(function () {
  "use strict";
  var INDEX = /\/search\/search_index\.json$/;
  var wanted = false;
  var held = [];

  function want() {
    if (wanted) return;
    wanted = true;
    held.splice(0).forEach(function (send) { send(); });
  }

  var open = XMLHttpRequest.prototype.open;
  var send = XMLHttpRequest.prototype.send;
  XMLHttpRequest.prototype.open = function (method, url) {
    this.pnSearchIndex = INDEX.test(String(url).split(/[?#]/)[0]);
    return open.apply(this, arguments);
  };
  XMLHttpRequest.prototype.send = function () {
    var request = this, args = arguments;
    if (!request.pnSearchIndex || wanted) return send.apply(request, args);
    held.push(function () { send.apply(request, args); });
  };

  function inSearch(target) {
    return target && target.closest && target.closest(".md-search, label[for='__search']");
  }
  document.addEventListener("pointerover", function (e) { if (inSearch(e.target)) want(); }, true);
  document.addEventListener("focusin", function (e) { if (inSearch(e.target)) want(); }, true);
  document.addEventListener("change", function (e) { if (e.target.id === "__search" && e.target.checked) want(); }, true);
})();
