// The menu on a narrow screen (a teacher's phone): the header's menu button opens and closes it
// over the page (app.css shows it beside the page on a wide screen, where this does nothing
// visible). Escape, or a click outside it, closes it. Listeners sit on the document, so a page
// part swapped in by htmx needs nothing more.
"use strict";

function menuOf(button) {
  return document.getElementById(button.getAttribute("aria-controls"));
}

function setMenuOpen(button, open) {
  const menu = menuOf(button);
  if (!menu) {
    return;
  }
  button.setAttribute("aria-expanded", String(open));
  menu.classList.toggle("is-open", open);
}

document.addEventListener("click", (event) => {
  const button = document.querySelector("[data-menu-toggle]");
  if (!button) {
    return;
  }
  if (button.contains(event.target)) {
    setMenuOpen(button, button.getAttribute("aria-expanded") !== "true");
    return;
  }
  const menu = menuOf(button);
  if (menu && menu.classList.contains("is-open") && !menu.contains(event.target)) {
    setMenuOpen(button, false);
  }
});

document.addEventListener("keydown", (event) => {
  const button = document.querySelector("[data-menu-toggle][aria-expanded='true']");
  if (button && event.key === "Escape") {
    setMenuOpen(button, false);
    button.focus();
  }
});
