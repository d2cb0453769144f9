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
