// Small behaviours declared in the markup with data attributes, so that no template needs an
// inline script or event handler (the content security policy allows this site's files only).
//   <select data-submit-on-change>          submits its form when the choice changes
//   <button data-remove-closest="fieldset"> removes the nearest enclosing element that matches
//   <select data-clears="#id_class">        empties those fields (a selector list) when its own
//                                           choice changes
"use strict";

// In the capture phase, before the change reaches the field's own listeners (an htmx search
// triggered by it reads the form after this has run).
document.addEventListener(
  "change",
  (event) => {
    const field = event.target.closest("[data-clears]");
    if (field) {
      for (const target of document.querySelectorAll(field.dataset.clears)) {
        target.value = "";
      }
    }
  },
  true,
);

document.addEventListener("change", (event) => {
  const field = event.target.closest("[data-submit-on-change]");
  if (field && field.form) {
    field.form.submit();
  }
});

document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-remove-closest]");
  if (button) {
    const target = button.closest(button.dataset.removeClosest);
    if (target) {
      target.remove();
    }
  }
});
