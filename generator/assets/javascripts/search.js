/* papernotes: the header's search box, answered by the Pagefind index that `papernotes build` writes
   (generator/search.py): one bundle per language under pagefind/<lang>/ (a language with many pages
   in several, pagefind/<lang>.<part>/), listed with the engines that search them in
   pagefind/languages.json.

   What a first query costs, and why it is quick:
   - the engines (Pagefind's module and WebAssembly, each bundle's entry and metadata: no index) start
     when the browser is idle after the page has loaded, or at once when the reader reaches for the
     box first; they run on the page's own thread (a worker would be another script to fetch and
     start, for searches that take a few milliseconds);
   - each query fetches only the index chunks of its words, from every bundle at once;
   - a query typed while another runs waits for it and only the newest one runs then, so a fast
     typist does not queue a search per keystroke; a one- or two-letter term (a prefix of many
     words) waits for the reader to pause;
   - only the results the panel shows are fetched (PAGE at a time, more as the list scrolls), and
     each is shown as soon as its own fragment has arrived and those above it are shown.
   Opening a result highlights the matched words on the page (?h=word, as the theme's own search
   does). Every address is relative to the site's root (__md_scope), so the site works from any host
   and sub-path. */
(() => {
  "use strict";

  const BUNDLES = "pagefind/";
  const HIGHLIGHT = "h";
  const PAGE = 5;
  const MAX_SUB_RESULTS = 3;
  // A term of one or two letters matches as a prefix every word it starts: many index chunks, a slow
  // search, usually on its way to a longer word. It is searched only once the reader pauses on it.
  // (One Chinese character is a word: searched at once.)
  const SHORT = /^[^\p{Script=Han}]{1,2}$/u;
  const PAUSE_MS = 300;
  // equation blocks are anchored #eq-<label> (generator/render/note_body.py)
  const EQUATION_ANCHOR = /^eq-/;

  const root = () => new URL(".", window.__md_scope || document.baseURI);
  const bundles = () => new URL(BUNDLES, root());
  let manifest = null;   // a promise of pagefind/languages.json
  let engines = null;    // a promise of [instance, ...], one per engine

  function fetched(url, init) {
    return fetch(url, init).then((response) => {
      if (!response.ok) throw new Error(`search index missing: ${response.status} ${response.url}`);
      return response;
    });
  }

  /* {engines: [[own, merged...], ...], tag}: revalidated on every page load (a rebuilt site's bundles
     have new file names); ``tag`` changes with the bundles, so Pagefind's own entry files can be cached. */
  function languages() {
    manifest = manifest || fetched(new URL("languages.json", bundles()), { cache: "no-cache" }).then((r) => r.json());
    manifest.catch(() => { manifest = null; });
    return manifest;
  }

  /* Each engine is its own copy of Pagefind's module (downloaded once, instantiated from a blob):
     wasm-bindgen keeps one WebAssembly instance per module, and each engine has its own stemmer.
     The promise resolves when every bundle is ready to answer (its metadata loaded). */
  function load() {
    if (engines) return engines;
    engines = languages().then(async ({ engines: list, tag }) => {
      const code = await fetched(new URL(`${list[0][0]}/pagefind.js`, bundles())).then((r) => r.text());
      const options = { baseUrl: root().pathname, highlightParam: HIGHLIGHT, excerptLength: 24, metaCacheTag: tag };
      return Promise.all(list.map(async ([own, ...merged]) => {
        const { createInstance } = await import(URL.createObjectURL(new Blob([code], { type: "text/javascript" })));
        const path = (bundle) => new URL(`${bundle}/`, bundles()).pathname;
        const instance = createInstance({ basePath: path(own), noWorker: true, ...options });
        // a bundle is named by its language, or, for a part of a language's pages, ``<language>.<part>``
        await Promise.all(merged.map((bundle) => instance.mergeIndex(path(bundle), { language: bundle.split(".")[0], ...options })));
        await instance.search("");  // returns once every bundle of the engine has loaded its metadata
        return instance;
      }));
    });
    engines.catch(() => { engines = null; });
    return engines;
  }

  /* Every engine's hits for ``term``, best first (Pagefind's scores are comparable across bundles). */
  async function hits(term) {
    const answers = await Promise.all((await load()).map((instance) => instance.search(term)));
    return answers.flatMap((answer) => (answer ? answer.results : [])).sort((a, b) => b.score - a.score);
  }

  /* Where a result links: the equations whose id (indexed at the start of the block, see
     note_body.equation_markdown) the query matched, then the page's matching sections (Pagefind's
     sub-results), each carrying the highlight parameter. */
  function equationHits(data) {
    const matched = new Set(data.locations);
    return (data.anchors || []).filter((anchor) => EQUATION_ANCHOR.test(anchor.id) && matched.has(anchor.location));
  }

  function withAnchor(url, id) {
    return `${url.split("#")[0]}#${id}`;
  }

  function article(tag, title, excerpt, icon) {
    const node = document.createElement("article");
    node.className = "md-search-result__article md-typeset";
    if (icon) {
      const div = document.createElement("div");
      div.className = "md-search-result__icon md-icon";
      node.append(div);
    }
    const heading = document.createElement(tag);
    heading.textContent = title;
    const text = document.createElement("p");
    text.innerHTML = excerpt;  // Pagefind's excerpt: the page's text, escaped, with <mark> around matches
    node.append(heading, text);
    return node;
  }

  function link(href, child) {
    const a = document.createElement("a");
    a.className = "md-search-result__link";
    a.href = href;
    a.tabIndex = -1;
    a.append(child);
    return a;
  }

  function item(data) {
    const li = document.createElement("li");
    li.className = "md-search-result__item";
    const title = (data.meta && data.meta.title) || data.url;
    li.append(link(data.url, article("h1", title, data.excerpt, true)));
    const subs = equationHits(data).map((anchor) => ({
      url: withAnchor(data.url, anchor.id), title: anchor.id.replace(EQUATION_ANCHOR, "Equation "), excerpt: anchor.text,
    }));
    for (const sub of data.sub_results || []) {
      if (sub.url.split("#")[0] !== sub.url) subs.push(sub);  // the page itself is the first link already
    }
    for (const sub of subs.slice(0, MAX_SUB_RESULTS)) li.append(link(sub.url, article("h2", sub.title, sub.excerpt, false)));
    return li;
  }

  /* The result list of one query: its hits, shown PAGE at a time in rank order, each as soon as its
     fragment is in. A newer query makes it ``stale``: nothing more is fetched or shown for it. */
  class Listing {
    constructor(result, found) {
      this.result = result;
      this.found = found;
      this.shown = 0;
      this.showing = null;
      this.stale = false;
    }

    count() {
      const n = this.found.length;
      const { pnNone, pnOne, pnOther } = this.result.dataset;
      return (n === 0 ? pnNone : n === 1 ? pnOne : pnOther).replace("#", String(n));
    }

    async start() {
      this.result.querySelector(".md-search-result__meta").textContent = this.count();
      if (!this.found.length) this.result.querySelector(".md-search-result__list").replaceChildren();
      await this.more();
    }

    /* The next PAGE results, fetched together, each appended as soon as it and those above it are in
       (the previous query's items stay until this one's first arrives). */
    more() {
      if (this.showing || this.stale || this.shown >= this.found.length) return this.showing;
      const list = this.result.querySelector(".md-search-result__list");
      const page = this.found.slice(this.shown, this.shown + PAGE).map((hit) => hit.data());
      this.showing = (async () => {
        for (const data of page) {
          const answer = await data;
          if (this.stale) return;
          if (this.shown === 0) list.replaceChildren();
          list.append(item(answer));
          this.shown += 1;
        }
      })().finally(() => { this.showing = null; });
      return this.showing;
    }

    /* More results when the reader has scrolled near the end of the list. */
    scrolled(wrap) {
      if (wrap.scrollTop + wrap.clientHeight >= wrap.scrollHeight - wrap.clientHeight / 2) this.more();
    }
  }

  /* The box's queries, newest first: at most one search runs; a term typed meanwhile waits, and only
     the last of them runs next; a short term runs once the reader has paused on it. */
  class Searcher {
    constructor(result) {
      this.result = result;
      this.term = "";
      this.running = null;
      this.listing = null;
      this.pause = null;
      this.ready = false;  // whether this.term may be searched now (a short one: once the reader pauses)
    }

    ask(term) {
      this.term = term;
      this.ready = !SHORT.test(term);
      clearTimeout(this.pause);
      if (this.listing) this.listing.stale = true;
      if (!term) return Promise.resolve(this.placeholder());
      if (this.ready) return this.start();
      return new Promise((resolve) => {
        this.pause = setTimeout(() => { this.ready = true; resolve(this.start()); }, PAUSE_MS);
      });
    }

    start() {
      if (!this.running) this.running = this.run().finally(() => { this.running = null; });
      return this.running;
    }

    async run() {
      let term = null;
      while (this.ready && this.term && this.term !== term) {
        term = this.term;
        const found = await hits(term);
        if (this.term !== term) continue;
        this.listing = new Listing(this.result, found);
        this.listing.start().catch((error) => console.error(error));
      }
    }

    placeholder() {
      this.result.querySelector(".md-search-result__meta").textContent = this.result.dataset.pnPlaceholder;
      this.result.querySelector(".md-search-result__list").replaceChildren();
    }
  }

  function open(toggle, input) {
    toggle.checked = true;
    toggle.dispatchEvent(new Event("change"));
    input.focus();
  }

  function close(toggle, input) {
    toggle.checked = false;
    toggle.dispatchEvent(new Event("change"));
    input.blur();
  }

  /* The theme's keys: "/", "s" or "f" opens the box; arrows move between the box and the results;
     Enter follows the focused result; Escape closes. */
  function keyboard(event, toggle, input, result) {
    const typing = event.target instanceof HTMLElement && event.target.closest("input, textarea, select, [contenteditable]");
    if (!toggle.checked) {
      if (!typing && !event.ctrlKey && !event.metaKey && !event.altKey && ["/", "s", "f"].includes(event.key)) {
        event.preventDefault();
        open(toggle, input);
      }
      return;
    }
    const links = [...result.querySelectorAll(".md-search-result__link")];
    const at = links.indexOf(document.activeElement);
    if (event.key === "Escape") {
      event.preventDefault();
      close(toggle, input);
    } else if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      if (!links.length) return;
      event.preventDefault();
      const step = event.key === "ArrowDown" ? 1 : -1;
      const next = at === -1 ? (step === 1 ? 0 : links.length - 1) : at + step;
      if (next < 0 || next >= links.length) input.focus();
      else links[next].focus();
    } else if (event.key === "Enter" && at !== -1) {
      event.preventDefault();
      links[at].click();
    }
  }

  /* Start the engines once the page has loaded and the browser is idle (a few tens of KB, then cached):
     the reader who reaches for the box finds them ready. */
  function preload() {
    const start = () => load().catch((error) => console.error(error));
    const idle = window.requestIdleCallback || ((callback) => setTimeout(callback, 200));
    const later = () => idle(start, { timeout: 3000 });
    if (document.readyState === "complete") later(); else window.addEventListener("load", later, { once: true });
  }

  function mount() {
    const form = document.querySelector("[data-pn-search] .md-search__form");
    const input = form && form.querySelector(".md-search__input");
    const result = document.querySelector("[data-pn-search-result]");
    const toggle = document.getElementById("__search");
    if (!input || !result || !toggle) return;
    const searcher = new Searcher(result);
    const ask = () => searcher.ask(input.value.trim()).catch((error) => console.error(error));
    input.addEventListener("focus", () => { if (!toggle.checked) open(toggle, input); load().catch(() => {}); });
    input.addEventListener("input", ask);
    form.addEventListener("submit", (event) => event.preventDefault());
    form.addEventListener("reset", () => { input.value = ""; ask(); input.focus(); });
    toggle.addEventListener("change", () => { if (toggle.checked) input.focus(); });
    result.addEventListener("click", (event) => { if (event.target.closest("a")) close(toggle, input); });
    const wrap = result.closest(".md-search__scrollwrap");
    if (wrap) wrap.addEventListener("scroll", () => { if (searcher.listing) searcher.listing.scrolled(wrap); }, { passive: true });
    document.addEventListener("keydown", (event) => keyboard(event, toggle, input, result), true);
    preload();
  }

  /* On the page a result opened: mark the words it matched (Pagefind's highlighter, loaded only then). */
  async function highlight() {
    if (!new URLSearchParams(location.search).has(HIGHLIGHT)) return;
    const { engines: list } = await languages();
    const { default: PagefindHighlight } = await import(new URL(`${list[0][0]}/pagefind-highlight.js`, bundles()).href);
    new PagefindHighlight({ highlightParam: HIGHLIGHT, markContext: "article.md-content__inner", addStyles: false });
  }

  mount();  // the header survives the theme's instant navigation: once
  const onPage = () => { highlight().catch((error) => console.error(error)); };
  if (window.document$) window.document$.subscribe(onPage); else onPage();
})();
