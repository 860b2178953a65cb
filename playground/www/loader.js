// Loads the playground's WebAssembly once and renders every
// <div class="playground-widget" data-widget="NAME"></div> on the page
// (replacing what the div holds until then).
// Paths are relative to this file, so the same assets work standalone and
// inside the book.
import init from "./playground.js";
import { WIDGETS } from "./widgets.js";

const here = new URL(".", import.meta.url);

function addStylesheet() {
  if (document.querySelector("link[data-playground-css]")) return;
  const link = document.createElement("link");
  link.rel = "stylesheet";
  link.href = new URL("playground.css", here).href;
  link.dataset.playgroundCss = "";
  document.head.append(link);
}

function complain(host, text) {
  const p = document.createElement("p");
  p.className = "pg-error";
  p.textContent = text;
  host.replaceChildren(p);
}

async function main() {
  addStylesheet();
  const hosts = [...document.querySelectorAll(".playground-widget")];
  try {
    await init({ module_or_path: new URL("playground_bg.wasm", here) });
  } catch (err) {
    for (const host of hosts) complain(host, `The playground could not load its WebAssembly: ${err}`);
    return;
  }
  const widgets = [];
  for (const host of hosts) {
    const render = WIDGETS[host.dataset.widget];
    if (render) {
      host.replaceChildren(); // the "appears here once loaded" note
      widgets.push(render(host));
    } else {
      complain(host, `Unknown widget "${host.dataset.widget}": use one of ${Object.keys(WIDGETS).join(", ")}.`);
    }
  }
  // `?selftest=1` drives every widget through its own controls once, so an
  // automated browser can check the numbers the page then shows.
  if (new URLSearchParams(location.search).has("selftest")) {
    for (const widget of widgets) widget.selftest();
    document.body.dataset.selftest = "done";
  }
}

main();
