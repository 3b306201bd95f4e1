/* papernotes: a Russian word in a search query is looked up by its stem, so any inflected form
   finds the others ("квантизацию" finds "квантизацией", "квантизации").
   Why here: the theme's search worker appends a trailing wildcard to every query term, and lunr
   never runs its pipeline (so never the stemmer) on a wildcard term; with the stemmer in the
   index pipeline, English prefixes would stop matching instead. So the index keeps whole words
   and each Cyrillic word of the query is replaced by its Snowball stem, which the wildcard then
   extends to every form in the index. `papernotes build` prepends this file to the theme's worker;
   it wraps the worker's message listener and rewrites QUERY messages only. */
(function () {
  "use strict";
  var QUERY = 2; // the theme's SearchMessageType.QUERY
  var MIN_STEM = 3; // shorter stems match too much

  function stem(word) {
    var lunr = self.lunr;
    if (!lunr || !lunr.ru || typeof lunr.ru.stemmer !== "function") return word;
    var lower = word.toLowerCase();
    var stemmed = String(lunr.ru.stemmer(lower));
    return stemmed.length >= MIN_STEM && lower.indexOf(stemmed) === 0 ? stemmed : word;
  }

  var addEventListener = self.addEventListener;
  self.addEventListener = function (type, listener, options) {
    if (type === "message") {
      var handle = listener;
      listener = function (event) {
        var message = event.data;
        if (message && message.type === QUERY && typeof message.data === "string") {
          return handle.call(this, { data: { type: QUERY, data: message.data.replace(/[\u0400-\u04FF]+/g, stem) } });
        }
        return handle.call(this, event);
      };
    }
    return addEventListener.call(self, type, listener, options);
  };
})();
