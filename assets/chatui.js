// chatui's browser side: the few things the page must do by itself, without a round trip.
//
// - chatui.stream(): applies one streaming update of an answer. Finished Markdown blocks arrive
//   once, as HTML, and are appended (never re-rendered); the unfinished tail block is replaced;
//   text that arrived since the tail was last rendered is shown as plain text after it.
//   The HTML was rendered by chatui.rendering on the server (markdown-it, raw HTML escaped).
//   Updates come as "chatui" messages on the page's websocket once chatui.attach() was given it
//   (see chatui/stream_wire.py), or else as scripts through Reflex's event queue.
// - chatui.count(): the live counters of the answer in flight, a few times a second.
// - Scroll pinning: the message list follows new content only while the reader is at the bottom.
//   Scrolling up unpins (and shows "jump to latest"); reaching the bottom or jumping re-pins.
//   Nothing ever scrolls an unpinned reader.
// - Finishing an answer without a long task: React replaces the streamed DOM with the final HTML
//   (the same blocks). Styling and laying out all of it at once took over 50 ms for a long answer,
//   so its blocks skip that work while off screen (content-visibility: auto), each with the exact
//   height its streamed twin had: the page keeps its height to the pixel and no reader sees a move.
// - Leaving the page sends a beacon, so that the server stops an answer nobody will see soon,
//   while a tab that only lost its connection is given time to come back.
// - Keyboard and clicks: Esc stops an answer; code "Copy" buttons; citation links open their source.
//   Enter in the composer before the page is live (the HTML is there, React and the websocket are
//   not yet) is kept, and sends the question once the page is ready, instead of doing nothing.
(() => {
  if (window.chatui) return;
  const chatui = (window.chatui = {});
  const LIST = '[data-testid="messages"]';
  let pinned = true;
  let lastTop = 0;
  const waiting = new Map(); // answer id -> updates that arrived before React mounted the answer

  const list = () => document.querySelector(LIST);
  const atBottom = (el) => el.scrollHeight - el.scrollTop - el.clientHeight <= 4;

  function setPinned(value) {
    pinned = value;
    document.documentElement.toggleAttribute("data-chatui-unpinned", !value);
  }

  function follow() {
    // Runs in the MutationObserver's microtask, before the browser paints: no frame ever shows
    // a pinned reader above the bottom.
    const el = list();
    if (el && pinned && !atBottom(el)) {
      el.scrollTop = el.scrollHeight;
      lastTop = el.scrollTop;
    }
  }

  document.addEventListener(
    "scroll",
    (event) => {
      const el = event.target;
      if (!(el instanceof Element) || !el.matches(LIST)) return;
      if (atBottom(el)) setPinned(true);
      else if (el.scrollTop < lastTop - 1) setPinned(false); // the reader moved up
      lastTop = el.scrollTop;
    },
    true,
  );

  // Any change to the list (React updates, streamed text) keeps a pinned reader at the bottom; the
  // one that puts an answer's final HTML in place first gives its blocks their streamed heights.
  new MutationObserver(() => {
    if (measured.length) carryHeights();
    if (pinned) follow();
  }).observe(document.documentElement, {
    childList: true,
    subtree: true,
    characterData: true,
  });

  chatui.jumpToLatest = () => {
    // An instant jump: a smooth scroll would race the growing content and read as scrolling up.
    setPinned(true);
    const el = list();
    if (el) {
      el.scrollTop = el.scrollHeight;
      lastTop = el.scrollTop;
    }
  };

  // The streamed answer's top-level blocks: their content-box heights and where they are in the
  // answer, measured once a frame (finished blocks once, the tail's each time), for carryHeights()
  // when the answer ends; and where the answer was in the viewport at the last measure.
  const FINISHED = '[data-role="assistant"]:not([data-state="streaming"]) .chatui-md';
  let measured = []; // [content-box height, top from the answer's top] per block
  let answerTop = 0;
  let frozenMeasured = 0;
  let finishedBefore = 0; // finished answers in the list when this one began
  let measuring = false;

  function box(block) {
    const rect = block.getBoundingClientRect(), style = getComputedStyle(block);
    const edges = ["paddingTop", "paddingBottom", "borderTopWidth", "borderBottomWidth"];
    return [rect.height - edges.reduce((sum, edge) => sum + parseFloat(style[edge]), 0), rect.top - answerTop];
  }

  function measure() {
    measuring = false;
    const live = document.getElementById(`answer-${current}`);
    if (!live) return;
    answerTop = live.getBoundingClientRect().top;
    const frozen = live.querySelector(".md-frozen").children;
    for (; frozenMeasured < frozen.length; frozenMeasured++) measured[frozenMeasured] = box(frozen[frozenMeasured]);
    measured.length = frozenMeasured;
    for (const block of live.querySelector(".md-tail").children) {
      if (!block.matches(".md-pending, .cursor")) measured.push(box(block));
    }
  }

  // Blocks within a screen of the viewport are left alone: they are laid out at once anyway, and
  // Chrome counts a content-visibility block as skipped until its first frame (its innerText is
  // empty until then). No layout is read here: that would lay out the whole final HTML.
  function carryHeights() {
    if (list()?.querySelector(".chatui-md.streaming")) return; // still streaming
    const answers = document.querySelectorAll(FINISHED);
    if (answers.length === finishedBefore) return; // React has not added it yet
    const blocks = answers[answers.length - 1].children;
    if (answers.length === finishedBefore + 1 && Math.abs(blocks.length - measured.length) <= 1) {
      const screen = window.innerHeight;
      for (let i = 0; i < blocks.length && i < measured.length; i++) {
        const [height, offset] = measured[i], top = answerTop + offset;
        if (top < 2 * screen && top + height > -screen) continue;
        blocks[i].style.containIntrinsicSize = `auto ${height}px`;
        blocks[i].style.contentVisibility = "auto";
      }
    }
    measured = []; // used, or the answer went away (another conversation)
  }

  // The answer ended; its final HTML comes next. A measure still due for the next frame is taken
  // now, or it would come after React swapped the DOM and miss the blocks the last updates brought.
  chatui.end = (answerId) => {
    if (answerId === current && measuring) measure();
  };

  // A new answer: pin, keep typing in the composer, and route stream() calls to this answer.
  let current = null;
  let lastTail = ""; // the tail's last HTML, which a re-rendered tail may partly keep
  chatui.begin = (answerId) => {
    current = answerId;
    lastTail = "";
    measured = [];
    frozenMeasured = 0;
    finishedBefore = document.querySelectorAll(FINISHED).length;
    setPinned(true);
    follow();
    document.getElementById("composer")?.focus();
  };

  const CONTAINERS = "ul, ol, li, blockquote, div, p, h1, h2, h3, h4, h5, h6";

  function lastBlock(root) {
    // The innermost last block that holds text, where the pending text and the cursor belong
    // (never inside inline markup such as <strong>, never after a table or a rule).
    let node = root;
    for (;;) {
      const child = node.lastElementChild;
      if (!child) return node;
      if (child.matches("pre")) return child.querySelector("code") || child;
      if (!child.matches(CONTAINERS) || child.classList.contains("code-head")) return node;
      node = child;
    }
  }

  function apply(root, frozenHtml, tailHtml, pendingText, appendPending, allFrozenHtml) {
    const frozen = root.querySelector(".md-frozen");
    const tail = root.querySelector(".md-tail");
    if (allFrozenHtml !== undefined) {
      frozen.innerHTML = allFrozenHtml;
      frozenMeasured = 0;
    }
    if (frozenHtml) frozen.insertAdjacentHTML("beforeend", frozenHtml);
    let pending = root.querySelector(".md-pending");
    let cursor = root.querySelector(".cursor");
    if (Array.isArray(tailHtml)) tailHtml = lastTail.slice(0, tailHtml[0]) + tailHtml[1]; // [kept, rest]
    if (tailHtml !== null) {
      tail.innerHTML = lastTail = tailHtml;
      pending = null;
    }
    if (!pending) {
      pending = document.createElement("span");
      pending.className = "md-pending";
    }
    if (!cursor) {
      cursor = document.createElement("span");
      cursor.className = "cursor";
      cursor.dataset.testid = "cursor";
      cursor.setAttribute("aria-hidden", "true");
    }
    if (appendPending) pending.textContent += pendingText;
    else pending.textContent = pendingText;
    pending.remove();
    cursor.remove();
    lastBlock(tail).append(pending, cursor);
    if (!measuring) {
      measuring = true;
      requestAnimationFrame(measure);
    }
  }

  // One streaming update of the current answer (see _StreamWire in chatui/state.py): newly
  // finished blocks, the re-rendered tail (or null: unchanged), and the raw text after the tail.
  chatui.stream = (frozenHtml, tailHtml, pendingText) => enqueue([frozenHtml, tailHtml, pendingText, false]);
  // A page (re)loaded mid-answer: everything so far, then the usual deltas follow.
  chatui.resync = (answerId, frozenHtml, tailHtml, pendingText) => {
    current = answerId;
    finishedBefore = document.querySelectorAll(FINISHED).length;
    waiting.delete(answerId);
    enqueue([null, tailHtml, pendingText, false, frozenHtml]);
  };
  // The most frequent update: a few more words of raw text after the tail.
  chatui.more = (pendingText) => enqueue(["", null, pendingText, true]);

  // The live counters of the current answer (tokens, tokens/s, time to first token).
  chatui.count = (...values) => {
    const message = document.getElementById(`answer-${current}`)?.closest(".message");
    ["token-count", "tokens-per-sec", "ttft"].forEach((testid, i) => {
      const span = message?.querySelector(`.counters [data-testid="${testid}"]`);
      if (span) span.textContent = values[i];
    });
  };

  // The fast lane: the same updates as socket messages, with no script to evaluate. A string is
  // more text, an array a stream() update, {begin} a new answer, {end} its end. True once listening.
  let socket = null;
  const onMessage = (message) => {
    if (typeof message === "string") chatui.more(message);
    else if (Array.isArray(message)) chatui.stream(...message);
    else if (message?.count) chatui.count(...message.count);
    else if (message?.begin) chatui.begin(message.begin);
    else if (message?.end) chatui.end(message.end);
  };
  chatui.attach = (pageSocket) => {
    if (!pageSocket || typeof pageSocket.on !== "function") return false;
    if (socket !== pageSocket) {
      socket?.off("chatui", onMessage);
      pageSocket.on("chatui", onMessage);
      socket = pageSocket;
    }
    document.documentElement.dataset.chatuiLane = "socket"; // for whoever wonders (and tests)
    return true;
  };

  function enqueue(update) {
    const answerId = current;
    const queued = waiting.get(answerId) || [];
    queued.push(update);
    waiting.set(answerId, queued);
    flush(answerId, 0);
  }

  function flush(answerId, attempt) {
    const root = document.getElementById(`answer-${answerId}`);
    const queued = waiting.get(answerId);
    if (!queued) return;
    if (!root) {
      // React has not mounted the answer yet: try again next frame (for up to ~5 s).
      if (attempt < 300) requestAnimationFrame(() => flush(answerId, attempt + 1));
      return;
    }
    waiting.delete(answerId);
    for (const update of queued) apply(root, ...update);
  }

  // Leaving the page (closing, reloading, navigating away): say so, so that an answer still
  // streaming for this tab stops within seconds unless the tab comes back (a reload does); a tab
  // that only lost its connection is waited for longer (chatui/tabs.py). The token is the tab's
  // Reflex client token; the API is on the websocket's origin.
  window.addEventListener("pagehide", () => {
    const token = sessionStorage.getItem("token");
    if (!token || !navigator.sendBeacon) return;
    const uri = socket?.io?.uri;
    const base = uri ? new URL(uri.replace(/^ws/, "http"), location.href).origin : "";
    navigator.sendBeacon(`${base}/api/tab/leaving`, token);
  });

  chatui.toggleSidebar = () => document.documentElement.toggleAttribute("data-chatui-sidebar");

  document.addEventListener("keydown", (event) => {
    const typing = event.target.closest?.("input, textarea, [contenteditable]");
    if (event.key === "Escape") document.querySelector('[data-testid="stop"]')?.click();
    // Ctrl/Cmd+Shift+O: new chat (as in other chat apps); "/" outside a text field: the composer.
    if ((event.ctrlKey || event.metaKey) && event.shiftKey && event.key.toLowerCase() === "o") {
      event.preventDefault();
      document.querySelector('[data-testid="new-chat"]')?.click();
      document.getElementById("composer")?.focus();
    } else if (event.key === "/" && !typing) {
      event.preventDefault();
      document.getElementById("composer")?.focus();
    }
  });

  // Before the page is live, Enter would do nothing (or add a newline): hold it, send when ready.
  const ready = () => document.querySelector(".layout[data-ready=true]");
  let held = false;
  document.addEventListener(
    "keydown",
    (event) => {
      if (event.key !== "Enter" || event.shiftKey || event.isComposing || ready()) return;
      const composer = event.target.closest?.("#composer");
      if (!composer || !composer.value.trim()) return;
      event.preventDefault();
      if (held) return;
      held = true;
      composer.form?.setAttribute("data-held", "true"); // shown as "sending when connected"
      (function sendWhenReady() {
        if (!ready()) return setTimeout(sendWhenReady, 50);
        held = false;
        const form = document.getElementById("composer")?.form; // React may have replaced it
        form?.removeAttribute("data-held");
        form?.requestSubmit();
      })();
    },
    true,
  );

  document.addEventListener("click", (event) => {
    const copy = event.target.closest?.(".code-copy");
    if (copy) {
      const code = copy.closest(".code-block")?.querySelector("pre code");
      if (code) {
        navigator.clipboard?.writeText(code.textContent).then(() => {
          copy.textContent = "Copied";
          setTimeout(() => (copy.textContent = "Copy"), 1500);
        });
      }
      return;
    }
    const cite = event.target.closest?.("a.cite");
    if (cite) {
      const source = document.getElementById(cite.getAttribute("href").slice(1));
      if (source) {
        event.preventDefault();
        if (source.tagName === "DETAILS") source.open = true;
        source.scrollIntoView({ block: "nearest", behavior: "smooth" });
        source.focus?.();
      }
    }
  });
})();
