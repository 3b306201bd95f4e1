/* papernotes: the header's search box, answered by the Pagefind index that `papernotes build` writes
   (generator/search.py): one bundle per language under pagefind/<lang>/, listed in
   pagefind/languages.json. Pagefind's engine is loaded when the reader reaches for the box, each
   query fetches only the index chunks of its words, and every language's bundle is searched with its
   own stemmer and segmenter; results are merged by score into the theme's own result list. Opening a
   result highlights the matched words on the page (?h=word, as the theme's own search does). Every
   address is relative to the site's root (__md_scope), so the site works from any host and sub-path. */
(() => {
  "use strict";

  const BUNDLES = "pagefind/";
  const HIGHLIGHT = "h";
  const MAX_RESULTS = 10;
  const MAX_SUB_RESULTS = 3;
  // equation blocks are anchored #eq-<label> (generator/render/note_body.py)
  const EQUATION_ANCHOR = /^eq-/;

  const root = () => new URL(".", window.__md_scope || document.baseURI);
  let engine = null;     // a promise of [instance, ...], one per language bundle
  let latest = 0;        // the newest query; older answers are dropped

  /* pagefind/languages.json lists engines, each a list of bundles: the first is the engine's own
     (its stemmer), the others are merged into it (generator/search.py, engines). Each engine is its
     own copy of Pagefind's module (downloaded once, instantiated from a blob), so each has its own
     web worker. */
  function load() {
    if (engine) return engine;
    const bundles = new URL(BUNDLES, root());
    const json = (response) => {
      if (!response.ok) throw new Error(`search index missing: ${response.status} ${response.url}`);
      return response;
    };
    engine = fetch(new URL("languages.json", bundles)).then(json).then((r) => r.json()).then(async (engines) => {
      const code = await fetch(new URL(`${engines[0][0]}/pagefind.js`, bundles)).then(json).then((r) => r.text());
      return Promise.all(engines.map(async ([own, ...merged]) => {
        const module = URL.createObjectURL(new Blob([code], { type: "text/javascript" }));
        const pagefind = await import(module);
        const instance = pagefind.createInstance({ basePath: new URL(`${own}/`, bundles).pathname });
        const options = { baseUrl: root().pathname, highlightParam: HIGHLIGHT, excerptLength: 24 };
        await instance.options(options);
        for (const language of merged) await instance.mergeIndex(new URL(`${language}/`, bundles).pathname, { language, ...options });
        await instance.init();
        return instance;
      }));
    });
    engine.catch(() => { engine = null; });
    return engine;
  }

  async function search(term) {
    const instances = await load();
    const answers = await Promise.all(instances.map((instance) => instance.search(term)));
    const hits = answers.flatMap((answer) => (answer ? answer.results : []));
    hits.sort((a, b) => b.score - a.score);
    return { total: hits.length, results: await Promise.all(hits.slice(0, MAX_RESULTS).map((hit) => hit.data())) };
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

  function count(result, n) {
    const template = n === 0 ? result.dataset.pnNone : n === 1 ? result.dataset.pnOne : result.dataset.pnOther;
    return template.replace("#", String(n));
  }

  function render(result, term, answer) {
    const meta = result.querySelector(".md-search-result__meta");
    const list = result.querySelector(".md-search-result__list");
    if (answer === null) {
      meta.textContent = result.dataset.pnPlaceholder;
      list.replaceChildren();
      return;
    }
    meta.textContent = count(result, answer.total);
    list.replaceChildren(...answer.results.map(item));
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

  function mount() {
    const form = document.querySelector("[data-pn-search] .md-search__form");
    const input = form && form.querySelector(".md-search__input");
    const result = document.querySelector("[data-pn-search-result]");
    const toggle = document.getElementById("__search");
    if (!input || !result || !toggle) return;
    const run = async () => {
      const term = input.value.trim();
      const mine = ++latest;
      if (!term) return render(result, term, null);
      const answer = await search(term);
      if (mine === latest) render(result, term, answer);
    };
    input.addEventListener("focus", () => { if (!toggle.checked) open(toggle, input); load(); });
    input.addEventListener("input", () => { run().catch((error) => console.error(error)); });
    form.addEventListener("submit", (event) => event.preventDefault());
    form.addEventListener("reset", () => { input.value = ""; latest++; render(result, "", null); input.focus(); });
    toggle.addEventListener("change", () => { if (toggle.checked) input.focus(); });
    result.addEventListener("click", (event) => { if (event.target.closest("a")) close(toggle, input); });
    document.addEventListener("keydown", (event) => keyboard(event, toggle, input, result), true);
  }

  /* On the page a result opened: mark the words it matched (Pagefind's highlighter, loaded only then). */
  async function highlight() {
    if (!new URLSearchParams(location.search).has(HIGHLIGHT)) return;
    const engines = await (await fetch(new URL(`${BUNDLES}languages.json`, root()))).json();
    const { default: PagefindHighlight } = await import(new URL(`${BUNDLES}${engines[0][0]}/pagefind-highlight.js`, root()).href);
    new PagefindHighlight({ highlightParam: HIGHLIGHT, markContext: "article.md-content__inner", addStyles: false });
  }

  mount();  // the header survives the theme's instant navigation: once
  const onPage = () => { highlight().catch((error) => console.error(error)); };
  if (window.document$) window.document$.subscribe(onPage); else onPage();
})();
