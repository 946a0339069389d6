// The bench's probe, added to every page before the app's own scripts (Playwright add_init_script).
//
// - Marker words (zqNNNNNx, see bench/corpus.py): the first time each one is in the DOM, as
//   performance.timeOrigin + performance.now() (ms since the epoch, monotonic within the page).
//   A MutationObserver callback runs as a microtask right after the mutation, before paint.
//   Added nodes and changed text nodes are scanned, so any framework's way of updating text counts.
// - Long tasks: main-thread tasks over 50 ms (PerformanceObserver "longtask").
// Both are pushed to the harness as they happen (window.__benchPush, a Playwright binding), so
// the harness never has to ask a page whose main thread is stuck; __bench.reset() starts afresh.
(() => {
  if (window.__bench) return;
  const seen = new Map();
  const marker = /zq(\d{5})x/g;
  const now = () => performance.timeOrigin + performance.now();

  function scan(text, t) {
    if (!text || text.indexOf("zq") < 0) return;
    marker.lastIndex = 0;
    for (let m; (m = marker.exec(text)); ) {
      const k = +m[1];
      if (!seen.has(k)) {
        seen.set(k, t);
        window.__benchPush?.("marker", k, t);
      }
    }
  }

  new MutationObserver((records) => {
    const t = now();
    for (const r of records) {
      if (r.type === "characterData") scan(r.target.data, t);
      else for (const node of r.addedNodes) scan(node.textContent, t);
    }
  }).observe(document, { subtree: true, childList: true, characterData: true });

  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        window.__benchPush?.("longtask", performance.timeOrigin + e.startTime, e.duration);
      }
    }).observe({ type: "longtask", buffered: true });
  } catch (e) {
    console.error("bench probe: this browser reports no long tasks", e);
  }

  window.__bench = { reset: () => seen.clear() };
})();
