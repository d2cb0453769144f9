// slaportal's own behaviour, as a file: the Content-Security-Policy allows no
// inline script.
"use strict";

// <button data-copy="id">: copy the value of the element with that id.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-copy]");
  if (!button) return;
  const source = document.getElementById(button.dataset.copy);
  if (!source || !navigator.clipboard) return;
  navigator.clipboard.writeText(source.value ?? source.textContent).then(() => {
    button.textContent = "Copied";
  });
});

// <form data-busy="Checking the rows…">: while a long request runs, its
// submit button is disabled (no second click) and the form's
// [data-busy-status] says what is happening.
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || !form.dataset.busy) return;
  const button = event.submitter;
  const status = form.querySelector("[data-busy-status]");
  // After this turn: a button disabled now would leave the form's data.
  setTimeout(() => {
    if (button) {
      button.disabled = true;
      button.setAttribute("aria-busy", "true");
    }
    if (status) {
      const spinner = document.createElement("span");
      spinner.className = "spinner-border spinner-border-sm me-1";
      spinner.setAttribute("aria-hidden", "true");
      status.replaceChildren(spinner, form.dataset.busy);
      status.classList.remove("d-none");
    }
  }, 0);
});

// --- Phone layouts -------------------------------------------------------
// <div data-scroll-end>: a sideways-scrolling box (the dashboard's heat map)
// opens scrolled to its end, so a phone shows the latest months first; when
// it does scroll, the cue after it ("← Scroll for earlier months") shows.
function scrollToEnd() {
  document.querySelectorAll("[data-scroll-end]").forEach((box) => {
    const overflows = box.scrollWidth > box.clientWidth + 1;
    if (overflows) box.scrollLeft = box.scrollWidth;
    const cue = box.nextElementSibling;
    if (cue && cue.classList.contains("sp-heat-cue")) {
      cue.classList.toggle("d-none", !overflows);
    }
  });
}
document.addEventListener("DOMContentLoaded", scrollToEnd);
if (document.readyState !== "loading") scrollToEnd();

// --- Accessibility --------------------------------------------------------
// A box that scrolls sideways (a wide table or code sample on a phone) and
// holds nothing focusable cannot be scrolled with the keyboard: let it take
// the focus (WCAG 2.1.1). Checked again when the window changes size and
// after htmx swaps content in.
function focusableScrollers(root) {
  const boxes = root.querySelectorAll(
    ".table-responsive, pre, .sp-heat-scroll, .sp-chain-scroll, .sp-preview",
  );
  for (const box of boxes) {
    const scrolls =
      box.scrollWidth > box.clientWidth + 1 || box.scrollHeight > box.clientHeight + 1;
    const reachable = box.querySelector("a[href], button, input, select, textarea, [tabindex]");
    if (scrolls && !reachable && !box.hasAttribute("tabindex")) {
      box.setAttribute("tabindex", "0");
      box.dataset.spScroller = "";
    } else if (!scrolls && box.dataset.spScroller !== undefined) {
      box.removeAttribute("tabindex");
      delete box.dataset.spScroller;
    }
  }
}
document.addEventListener("DOMContentLoaded", () => focusableScrollers(document));
document.addEventListener("htmx:afterSettle", () => focusableScrollers(document));
let spResizeTimer;
window.addEventListener("resize", () => {
  clearTimeout(spResizeTimer);
  spResizeTimer = setTimeout(() => focusableScrollers(document), 150);
});

// ---- Interactions: live filters, confirmations, toasts, units, log preview ----
// Pages style themselves for JavaScript with <html class="js">: the filter
// forms' Show buttons (.sp-nojs-only) are only for browsers without it.
document.documentElement.classList.add("js");

// <form data-confirm="dialog-id">: the first submit opens that Bootstrap
// dialog instead; its [data-confirm-go] button submits the form for real.
// Without JavaScript the form simply posts.
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || !form.dataset.confirm) return;
  if (form.dataset.confirmed === "yes") return;
  const dialog = document.getElementById(form.dataset.confirm);
  if (!dialog || !window.bootstrap) return;
  event.preventDefault();
  dialog.spForm = form;
  dialog.spSubmitter = event.submitter;
  bootstrap.Modal.getOrCreateInstance(dialog).show();
});
document.addEventListener("click", (event) => {
  const go = event.target.closest("[data-confirm-go]");
  if (!go) return;
  const dialog = go.closest(".modal");
  const form = dialog && dialog.spForm;
  if (!form) return;
  form.dataset.confirmed = "yes";
  go.disabled = true;
  form.requestSubmit(dialog.spSubmitter || undefined);
});

// Messages after a save are toasts (rendered shown, so they read without
// JavaScript too): they leave by themselves after a while, unless hovered.
document.querySelectorAll(".sp-toasts .toast").forEach((toast) => {
  if (!window.bootstrap) return;
  bootstrap.Toast.getOrCreateInstance(toast, { delay: 8000 }).show();
});

// The log form's "with this entry": the month so far plus the value typed.
document.addEventListener("input", (event) => {
  const input = event.target;
  if (!(input instanceof HTMLInputElement) || !input.form) return;
  document.querySelectorAll(`[data-preview][data-adds-field="${input.name}"]`).forEach((item) => {
    const out = item.querySelector("[data-after]");
    if (!out) return;
    const soFar = Number(item.dataset.soFar);
    const value = Number(input.value);
    out.textContent =
      input.value.trim() === "" || !Number.isFinite(value)
        ? "—"
        : (soFar + value).toLocaleString("en-GB", { maximumFractionDigits: 2 });
  });
});

// An objective's "Measured by" (<select data-units='{"source": [units]}'>)
// offers only the units that fit it in the same row's unit select; the
// server refuses any other.
function spFitUnits(sourceSelect) {
  let allowed;
  try {
    allowed = JSON.parse(sourceSelect.dataset.units)[sourceSelect.value];
  } catch {
    return;
  }
  const row = sourceSelect.closest(".sp-objective-row");
  const unit = row && row.querySelector('select[name$="-unit"]');
  if (!unit) return;
  for (const option of unit.options) {
    const fits = !allowed || allowed.includes(option.value);
    option.hidden = !fits;
    option.disabled = !fits;
  }
  if (allowed && !allowed.includes(unit.value)) unit.value = allowed[0];
}
document.addEventListener("change", (event) => {
  if (event.target.matches && event.target.matches("select[data-units]")) {
    spFitUnits(event.target);
  }
});
document.querySelectorAll("select[data-units]").forEach(spFitUnits);
document.addEventListener("htmx:load", (event) => {
  event.target.querySelectorAll?.("select[data-units]").forEach(spFitUnits);
});

// A filter's address keeps only the filters set: ?severity=critical, not
// ?q=&box=&status=&severity=critical.
document.addEventListener("htmx:configRequest", (event) => {
  const { verb, parameters } = event.detail;
  if (verb !== "get" || !parameters || typeof parameters.entries !== "function") return;
  for (const [name, value] of Array.from(parameters.entries())) {
    if (value === "") parameters.delete(name);
  }
});
