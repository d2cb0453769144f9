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
