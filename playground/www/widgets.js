// The widgets. Each takes its host element, builds its controls, and
// returns { selftest } for the loader's `?selftest=1` mode. All checking of
// input happens in Rust: a rejected input arrives here as a thrown Error
// whose message is shown as it is.
import {
  ArenaMap, build_strings, drop_all, explore_layout, gauges, push_u64s, reset_peak, run_budget,
  run_timeline, timeline_scenarios, FreeListMap,
} from "./playground.js";

// --- small DOM helpers -------------------------------------------------------

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key.startsWith("data-") || key.startsWith("aria-")) node.setAttribute(key, value);
    else node[key] = value;
  }
  node.append(...children);
  return node;
}

function field(label, value) {
  const input = el("input", { value, size: 10, spellcheck: false });
  return { input, node: el("label", {}, `${label} `, input) };
}

function button(text, onclick) {
  return el("button", { type: "button", textContent: text, onclick });
}

// A wasm-bindgen object copied into a plain one, its Rust memory freed now
// rather than whenever the garbage collector gets to it.
function plain(object) {
  const copy = {};
  const getters = Object.getOwnPropertyDescriptors(Object.getPrototypeOf(object));
  for (const [name, descriptor] of Object.entries(getters)) {
    if (descriptor.get) copy[name] = object[name];
  }
  object.free();
  return copy;
}

// Runs `action`; shows its error (and returns null) if it throws.
function attempt(errorBox, action) {
  try {
    const result = action();
    errorBox.textContent = "";
    return result;
  } catch (err) {
    errorBox.textContent = err instanceof Error ? err.message : String(err);
    return null;
  }
}

function shell(host, title, intro) {
  const errorBox = el("p", { className: "pg-error", role: "alert" });
  host.replaceChildren(el("h4", { textContent: title }), el("p", { className: "pg-intro", textContent: intro }));
  return errorBox;
}

// A table of named numbers; `set(values)` updates every <output data-field>.
function readout(prefix, rows) {
  const outputs = {};
  const table = el("table", { className: "pg-readout" });
  for (const [key, label] of rows) {
    outputs[key] = el("output", { "data-field": `${prefix}-${key}` });
    table.append(el("tr", {}, el("th", { textContent: label }), el("td", {}, outputs[key])));
  }
  const set = (values) => {
    for (const key of Object.keys(outputs)) {
      const value = values[key];
      outputs[key].textContent = value === undefined || value === null ? "—" : String(value);
    }
  };
  return { table, set };
}

// --- 1. heap gauges ----------------------------------------------------------

function heapGauges(host) {
  const errorBox = shell(host, "Heap gauges",
    "This page's global allocator is the peak tracker from the book. Allocate, drop, and watch its counters.");
  const count = field("count", "1000");
  const delta = el("p", { className: "pg-note" });
  const bar = el("div", { className: "pg-bar" }, el("span"));
  const view = readout("gauges", [
    ["live_bytes", "live bytes"], ["peak_bytes", "peak bytes"], ["alloc_calls", "alloc calls"],
    ["dealloc_calls", "dealloc calls"], ["realloc_calls", "realloc calls"],
    ["held_u64s", "u64s held (Vec length)"], ["held_u64_capacity", "Vec capacity"], ["held_strings", "strings held"],
  ]);
  let last = plain(gauges());
  const show = (now, what) => {
    view.set(now);
    bar.firstChild.style.width = `${now.peak_bytes ? (100 * now.live_bytes) / now.peak_bytes : 0}%`;
    if (what) {
      const bytes = now.live_bytes - last.live_bytes;
      const calls = now.alloc_calls - last.alloc_calls;
      const grows = now.realloc_calls - last.realloc_calls;
      delta.textContent = `${what}: ${bytes >= 0 ? "+" : ""}${bytes} live bytes, ${calls} alloc and ${grows} realloc calls.`;
    }
    last = now;
  };
  const act = (what, call) => {
    const result = attempt(errorBox, call);
    if (result) show(plain(result), what);
  };
  const push = () => act(`Pushed ${count.input.value.trim()} u64s`, () => push_u64s(count.input.value));
  host.append(
    el("div", { className: "pg-controls" }, count.node,
      button("Push u64s into a Vec", push),
      button("Build strings", () => act(`Built ${count.input.value.trim()} strings`, () => build_strings(count.input.value))),
      button("Drop them all", () => act("Dropped everything", drop_all)),
      button("Reset peak", () => act("Peak reset", reset_peak))),
    errorBox, bar, view.table, delta,
    el("p", { className: "pg-note", textContent:
      "Live bytes count everything this page's Rust code holds, not only these items: the arena of the bump " +
      "widget (4 KiB), the JavaScript glue's buffers. " +
      "A Vec grows by doubling its capacity, so pushing one at a time costs a few realloc calls, not one per element." }));
  show(last);
  return { selftest: () => { count.input.value = "1000"; push(); } };
}

// --- 2. bump arena map -------------------------------------------------------

const CELL = 5;          // pixels per byte in the map
const COLUMNS = 64;      // bytes per row

function bumpArena(host) {
  const errorBox = shell(host, "Bump arena map",
    "A 4 KiB bump arena from the book, owned by this widget. Each request takes the next aligned address; " +
    "what does not fit goes to the System fallback.");
  const arena = new ArenaMap();
  const size = field("size", "24");
  const align = field("align", "16");
  const canvas = el("canvas", { className: "pg-map", width: COLUMNS * CELL, height: (arena.capacity() / COLUMNS) * CELL });
  const view = readout("bump", [
    ["capacity", "capacity"], ["used", "used (padding included)"], ["padding_wasted", "padding wasted"],
    ["fallback_count", "System fallbacks"], ["base_mod_4096", "arena address mod 4096"],
  ]);
  const rows = el("tbody");
  const table = el("table", { className: "pg-blocks" },
    el("thead", {}, el("tr", {}, ...["#", "size", "align", "offset", "padding before"].map((t) => el("th", { textContent: t })))),
    rows);

  const paint = (blocks) => {
    const ctx = canvas.getContext("2d");
    const styles = getComputedStyle(canvas);
    const color = (name) => styles.getPropertyValue(name).trim();
    const fill = (from, length, style) => {
      ctx.fillStyle = style;
      for (let b = from; b < from + length; b++) {
        ctx.fillRect((b % COLUMNS) * CELL, Math.floor(b / COLUMNS) * CELL, CELL - 1, CELL - 1);
      }
    };
    fill(0, arena.capacity(), color("--pg-free"));
    blocks.forEach((block, i) => {
      if (block.offset === undefined) return;
      fill(block.offset - block.padding_before, block.padding_before, color("--pg-padding"));
      fill(block.offset, block.size, color(i % 2 ? "--pg-used-alt" : "--pg-used"));
    });
  };
  const refresh = () => {
    const blocks = arena.blocks().map(plain);
    view.set({
      capacity: arena.capacity(), used: arena.used(), padding_wasted: arena.padding_wasted(),
      fallback_count: arena.fallback_count(), base_mod_4096: arena.base_mod_4096(),
    });
    rows.replaceChildren(...blocks.map((block, i) => {
      const inArena = block.offset !== undefined;
      const row = el("tr", inArena ? { "data-offset": block.offset, "data-align": block.align } : { "data-fallback": "" },
        ...[i + 1, block.size, block.align, inArena ? block.offset : "System fallback", block.padding_before]
          .map((value) => el("td", { textContent: String(value) })));
      return row;
    }));
    paint(blocks);
  };
  const allocate = () => {
    const block = attempt(errorBox, () => arena.alloc(size.input.value, align.input.value));
    if (block) block.free();
    refresh();
  };
  host.append(
    el("div", { className: "pg-controls" }, size.node, align.node,
      button("Allocate", allocate), button("Reset", () => { arena.reset(); errorBox.textContent = ""; refresh(); })),
    errorBox,
    el("div", { className: "pg-legend" },
      el("span", { className: "pg-key pg-key-used", textContent: "used" }),
      el("span", { className: "pg-key pg-key-padding", textContent: "padding" }),
      el("span", { className: "pg-key pg-key-free", textContent: "free" }), " one square per byte"),
    canvas, view.table, table,
    el("details", {}, el("summary", { textContent: "Why does alignment create padding?" }),
      el("p", { textContent:
        "A value of alignment A must start at an address that is a multiple of A, because the CPU (and the compiler's " +
        "code) assumes it. A bump allocator only moves forward: when the next free byte is not at such an address, it " +
        "skips ahead to the next one, and the bytes it skipped can never be handed out again until the whole arena is " +
        "reset. Asking for a 1-byte block and then a 64-aligned one wastes up to 63 bytes. The arena aligns the " +
        "ADDRESS, not the offset: its base is only promised to be a multiple of 16, so for larger alignments the " +
        "padding depends on where the arena itself sits in memory (shown above as the address mod 4096)." })));
  refresh();
  return {
    selftest: () => {
      for (const [s, a] of [["1", "1"], ["24", "64"]]) {
        size.input.value = s;
        align.input.value = a;
        allocate();
      }
    },
  };
}

// --- 3. budget guardrail -----------------------------------------------------

function budgetGuardrail(host) {
  const errorBox = shell(host, "Budget guardrail",
    "The global allocator is also the budget allocator from the book. A run lowers its limit to the live bytes " +
    "plus your budget, allocates blocks with try_reserve_exact, keeps them all, and puts the limit back.");
  const budget = field("budget (bytes)", "4096");
  const blockSize = field("block size", "1024");
  const blocks = field("blocks", "8");
  const refuse = el("input", { type: "checkbox" });
  const story = el("p", { className: "pg-note", "data-field": "budget-story" });
  const view = readout("budget", [
    ["policy", "policy"], ["blocks_granted", "blocks granted"], ["flagged_at", "flag tripped at block"],
    ["refused_at", "refused at block"], ["refusals", "refusals"],
  ]);
  const run = () => {
    const result = attempt(errorBox, () => run_budget(budget.input.value, blockSize.input.value, blocks.input.value, refuse.checked));
    if (!result) return;
    const r = plain(result);
    r.policy = r.refusing ? "refuse" : "flag only";
    view.set(r);
    if (r.refused_at !== undefined) {
      story.textContent = `Block ${r.refused_at} would have passed the budget, so the allocator returned null. ` +
        `try_reserve_exact turned that into an Err, the run stopped cleanly and freed the ${r.blocks_granted} blocks it held.`;
    } else if (r.flagged_at !== undefined) {
      story.textContent = `All ${r.blocks_granted} blocks were granted, but block ${r.flagged_at} crossed the budget ` +
        "and raised the over-budget flag: the program keeps running and can log or shed load.";
    } else {
      story.textContent = `All ${r.blocks_granted} blocks fit in the budget; the flag never tripped.`;
    }
  };
  host.append(
    el("div", { className: "pg-controls" }, budget.node, blockSize.node, blocks.node,
      el("label", {}, refuse, " refuse instead of flag"), button("Run", run)),
    errorBox, view.table, story);
  view.set({});
  return {
    selftest: () => {
      [budget.input.value, blockSize.input.value, blocks.input.value] = ["2048", "1024", "4"];
      refuse.checked = true;
      run();
    },
  };
}

// --- 4. layout explorer ------------------------------------------------------

function layoutExplorer(host) {
  const errorBox = shell(host, "Layout explorer",
    "Every allocation request is a Layout: a size and an alignment. Type any pair and see what " +
    "Layout::from_size_align makes of it.");
  const size = field("size", "10");
  const align = field("align", "4");
  const view = readout("layout", [
    ["from_size_align", "Layout::from_size_align"], ["pad_to_align", "pad_to_align()"],
    ["padded_size", "padded size (array stride)"], ["trailing_padding", "trailing padding"],
    ["array_size", "array of 4"],
  ]);
  const update = () => {
    const result = attempt(errorBox, () => explore_layout(size.input.value, align.input.value));
    view.set(result ? plain(result) : {});
  };
  size.input.oninput = update;
  align.input.oninput = update;
  host.append(el("div", { className: "pg-controls" }, size.node, align.node), errorBox, view.table,
    el("p", { className: "pg-note", textContent:
      "Try an alignment of 3 or 0, or a size near usize::MAX: on wasm32 a usize is 32 bits, so a Layout " +
      "may be at most 2147483647 bytes (isize::MAX) once padded." }));
  update();
  return { selftest: () => { size.input.value = "8"; align.input.value = "3"; update(); } };
}

// --- 5. heap timeline ---------------------------------------------------------

const HINT = "Point at a block, click it, or focus the map and use the arrow keys, to see its details.";

// The detail line for one block-map bar, from the data attributes the
// picture gives every bar.
function describeBar(bar) {
  const d = bar.dataset;
  const made = {
    alloc: `allocated at event ${d.seq}`,
    alloc_zeroed: `allocated zeroed at event ${d.seq}`,
    "realloc-moved": `moved here by the realloc at event ${d.seq}`,
    "realloc-in-place": `resized in place by the realloc at event ${d.seq}`,
  }[d.kind] || `made at event ${d.seq}`;
  const ended = {
    dealloc: `freed at event ${d.freed}`,
    realloc: `reallocated at event ${d.freed}`,
    live: "still live when the recording stopped",
  }[d.end] || (d.freed === "never" ? "never freed" : `ended at event ${d.freed}`);
  const thread = d.thread && d.thread !== "1" ? `, thread ${d.thread}` : "";
  return `Block at ${d.addr}: ${d.size} bytes, align ${d.align}, ${made}, ${ended}${thread}.`;
}

function heapTimeline(host) {
  const errorBox = shell(host, "Heap timeline",
    "Run a small program with this page's global allocator recording every call, then see its heap: live bytes " +
    "over time, and every block as a bar from its allocation to its free, placed by address.");
  errorBox.dataset.field = "timeline-error";
  const scenarios = timeline_scenarios().map(plain);
  const picker = el("select", {}, ...scenarios.map((s) => el("option", { value: s.name, textContent: s.name })));
  const n = field("n", "1000");
  const about = el("p", { className: "pg-note" });
  const describe = () => {
    const s = scenarios.find((x) => x.name === picker.value);
    about.textContent = s ? `${s.description} (n from ${s.min_n} to ${s.max_n}).` : "";
  };
  picker.onchange = describe;
  const view = readout("timeline", [
    ["events", "events recorded"], ["allocations", "allocations (alloc, alloc_zeroed)"],
    ["reallocs", "reallocs"], ["reallocs_moved", "reallocs that moved the block"], ["frees", "frees"],
    ["peak_live_bytes", "peak live bytes"], ["final_live_bytes", "live bytes at the end"],
    ["dropped", "events dropped (buffer full)"],
  ]);
  const live = el("figure", { className: "pg-picture", "data-picture": "live-bytes" });
  const blocks = el("figure", {
    className: "pg-picture pg-blockmap", "data-picture": "block-map", tabIndex: 0,
    "aria-label": "Block map. Arrow keys step through the blocks in the order they were made; Home and End jump.",
  });
  const detail = el("p", { className: "pg-detail", "data-field": "timeline-detail", "aria-live": "polite",
    textContent: HINT });
  const tracePre = el("pre", { className: "pg-trace", "data-field": "timeline-trace" });
  const traceBox = el("details", {}, el("summary", { textContent: "The trace (heap-trace JSON lines)" }), tracePre);
  let current = null;   // the last run's Rust object, kept for its trace
  let bars = [];        // the block map's bars, in the order they were made
  let selected = -1;
  traceBox.ontoggle = () => {
    if (traceBox.open && current && !tracePre.textContent) tracePre.textContent = current.json_lines();
  };

  const select = (index) => {
    if (!bars.length) return;
    if (selected >= 0 && bars[selected]) bars[selected].classList.remove("pg-selected");
    selected = Math.max(0, Math.min(bars.length - 1, index));
    bars[selected].classList.add("pg-selected");
    detail.textContent = describeBar(bars[selected]);
  };
  const pointAt = (event) => {
    const bar = event.target.closest && event.target.closest("[data-addr]");
    const index = bar ? bars.indexOf(bar) : -1;
    if (index >= 0) select(index);
  };
  blocks.addEventListener("mouseover", pointAt);
  blocks.addEventListener("click", pointAt);
  blocks.addEventListener("focus", () => { if (selected < 0) select(0); });
  blocks.addEventListener("keydown", (event) => {
    const step = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1 }[event.key];
    if (step) select(selected + step);
    else if (event.key === "Home") select(0);
    else if (event.key === "End") select(bars.length - 1);
    else return;
    event.preventDefault();
  });

  const run = () => {
    const result = attempt(errorBox, () => run_timeline(picker.value, n.input.value));
    if (!result) return;
    if (current) current.free();
    current = result;
    view.set({
      events: result.events(), allocations: result.allocations(), reallocs: result.reallocs(),
      reallocs_moved: result.reallocs_moved(), frees: result.frees(), peak_live_bytes: result.peak_live_bytes(),
      final_live_bytes: result.final_live_bytes(), dropped: result.dropped(),
    });
    // The SVG is made in Rust by heap-picture, which escapes every text.
    live.innerHTML = result.live_bytes_svg();
    blocks.innerHTML = result.block_map_svg();
    bars = [...blocks.querySelectorAll("[data-addr]")]
      .sort((a, b) => Number(a.dataset.seq) - Number(b.dataset.seq));
    selected = -1;
    detail.textContent = HINT;
    tracePre.textContent = traceBox.open ? result.json_lines() : "";
    if (result.dropped() > 0) {
      errorBox.textContent = `The recorder holds ${result.capacity()} events: ${result.dropped()} more were ` +
        "dropped, so the pictures show only the start. Try a smaller n.";
    }
  };
  host.append(
    el("div", { className: "pg-controls" }, el("label", {}, "scenario ", picker), n.node, button("Run", run)),
    about, errorBox, view.table, live, blocks, detail, traceBox,
    el("p", { className: "pg-note", textContent:
      "Only the scenario's own allocations are recorded: the recorder starts just before it runs and stops " +
      "right after. A realloc ends a bar; the block's next bar starts where the realloc put it (the same " +
      "address when it grew in place)." }));
  describe();
  view.set({});
  return {
    selftest: () => {
      picker.value = "vec-push";
      n.input.value = "1000";
      describe();
      run();
      traceBox.open = true;
      tracePre.textContent = current ? current.json_lines() : "";
      // A keyboard user: focus the map, jump to the last block made.
      blocks.focus();
      blocks.dispatchEvent(new KeyboardEvent("keydown", { key: "End", bubbles: true }));
      // Bad input is refused with the rule, and the run above stays shown.
      n.input.value = "0";
      run();
    },
  };
}

// --- 6. free-list heap map ---------------------------------------------------

function freeListMap(host) {
  const errorBox = shell(host, "Free-list heap map",
    "The free-list allocator from the book over a 4 KiB region of its own. Each block starts with a 16-byte " +
    "header (the darker edge); allocating cuts a free block in two, freeing merges a block with free " +
    "neighbours. Click a block in use (or focus it and press Enter) to free it.");
  errorBox.dataset.field = "freelist-error";
  const map = new FreeListMap();
  const size = field("size", "100");
  const align = field("align", "16");
  const fit = el("select", {},
    el("option", { value: "first", textContent: "first fit" }),
    el("option", { value: "best", textContent: "best fit" }));
  const strip = el("div", { className: "pg-strip", role: "group", "aria-label": "The region, low addresses first" });
  const gauge = el("div", { className: "pg-bar", title: "largest free block / free bytes" }, el("span"));
  const view = readout("freelist", [
    ["free_bytes", "free bytes"], ["largest_free", "largest free block"],
    ["fragmentation", "external fragmentation (1 − largest / free)"], ["free_blocks", "free blocks"],
    ["used_blocks", "blocks in use"], ["used_bytes", "bytes in use (headers and rounding included)"],
    ["requested_bytes", "bytes asked for by blocks in use"], ["requests", "allocation requests"],
    ["failed_requests", "failed requests"], ["base_mod_4096", "region address mod 4096"],
  ]);
  const log = el("ol", { className: "pg-log", "aria-live": "polite" });
  let previous = new Set();

  const refresh = () => {
    const blocks = map.blocks().map(plain);
    const stats = plain(map.stats());
    const region = stats.region_bytes;
    const header = map.header_bytes();
    const keys = new Set(blocks.map((b) => `${b.offset}:${b.size}:${b.is_free}`));
    strip.replaceChildren(...blocks.map((b) => {
      const headerShare = `${(100 * header) / b.size}%`;
      const props = {
        className: `pg-block ${b.is_free ? "pg-block-free" : "pg-block-used"}` +
          (previous.size && !previous.has(`${b.offset}:${b.size}:${b.is_free}`) ? " pg-changed" : ""),
        "data-offset": b.offset, "data-size": b.size, "data-free": b.is_free,
      };
      let node;
      if (b.is_free) {
        node = el("span", { ...props, title: `free: ${b.size} bytes at offset ${b.offset}` });
      } else {
        node = el("button", {
          ...props, type: "button", "data-number": b.number, "data-align": b.align, "data-requested": b.requested,
          title: `#${b.number}: ${b.requested} bytes aligned to ${b.align}, a ${b.size}-byte block at offset ` +
            `${b.offset}. Click to free it.`,
          "aria-label": `Block ${b.number}, ${b.requested} bytes aligned to ${b.align}, a ${b.size}-byte block ` +
            `at offset ${b.offset}. Press to free it.`,
          onclick: () => {
            attempt(errorBox, () => map.free_block(b.offset));
            refresh();
          },
        });
      }
      node.style.flexGrow = String(b.size);
      node.style.setProperty("--pg-header", headerShare);
      return node;
    }));
    previous = keys;
    const percent = (100 * stats.external_fragmentation).toFixed(1);
    view.set({ ...stats, fragmentation: `${percent} %`, base_mod_4096: map.base_mod_4096() });
    gauge.firstChild.style.width = `${stats.free_bytes ? (100 * stats.largest_free) / stats.free_bytes : 0}%`;
    log.replaceChildren(...map.log().map(plain).map((entry) =>
      el("li", { className: `pg-log-${entry.outcome}`, "data-outcome": entry.outcome, textContent: entry.text })));
    strip.dataset.region = region;
    strip.dataset.header = header;
  };
  const allocate = () => {
    const block = attempt(errorBox, () => map.alloc(size.input.value, align.input.value));
    if (block) block.free();
    refresh();
  };
  fit.onchange = () => { attempt(errorBox, () => map.set_fit(fit.value)); refresh(); };
  host.append(
    el("div", { className: "pg-controls" }, size.node, align.node, button("Allocate", allocate),
      el("label", {}, "fit ", fit),
      button("Reset", () => { map.reset(); errorBox.textContent = ""; previous = new Set(); refresh(); })),
    errorBox,
    el("div", { className: "pg-legend" },
      el("span", { className: "pg-key pg-key-used", textContent: "in use" }),
      el("span", { className: "pg-key pg-key-free", textContent: "free" }),
      el("span", { className: "pg-key pg-key-header", textContent: "header" }),
      " width proportional to bytes; changed blocks are outlined"),
    strip,
    el("div", { className: "pg-gauge" }, el("span", { textContent: "largest free block / free bytes " }), gauge),
    view.table, log,
    el("p", { className: "pg-note", textContent:
      "Fragmentation is free memory in pieces too small to use: a request fails when no single free block is " +
      "large enough, even if the free bytes add up to more. Switching the fit replays every request so far " +
      "with the other rule." }));
  refresh();
  return {
    selftest: () => {
      const request = (s, a) => { size.input.value = s; align.input.value = a; allocate(); };
      const clickBlock = (number) => {
        const node = strip.querySelector(`[data-number="${number}"]`);
        if (node) node.click();
      };
      for (const [s, a] of [["100", "16"], ["200", "16"], ["100", "16"], ["300", "16"]]) request(s, a);
      clickBlock(2);           // a hole between #1 and #3
      clickBlock(4);           // merges with the free tail
      request("50", "16");     // first fit: into #2's hole, split
      clickBlock(3);           // the rest of #2's hole on one side, the tail on the other
      request("24", "64");     // an address aligned to 64
      clickBlock(1);           // a hole at the bottom: free memory in two pieces
      request("8", "3");       // refused: not a power of two
      request("4000", "16");   // fails: no free block large enough
    },
  };
}

export const WIDGETS = {
  gauges: heapGauges,
  bump: bumpArena,
  budget: budgetGuardrail,
  layout: layoutExplorer,
  timeline: heapTimeline,
  "free-list": freeListMap,
};
