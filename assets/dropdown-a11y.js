/* Dash 4's dropdown puts keyboard focus on a hidden helper input marked
 * aria-hidden="true", so a screen reader announces nothing when a keyboard user
 * reaches a filter. Until that is fixed upstream, give the helper the
 * dropdown's name (its <label>) and its current value, and a combobox role.
 * The page works the same without this script; it only adds names. */
(function () {
  function mend(root) {
    root.querySelectorAll(".dash-dropdown-focus-target").forEach(function (input) {
      var wrapper = input.closest(".dash-dropdown-wrapper");
      var button = wrapper && wrapper.querySelector("button.dash-dropdown");
      if (!button || !button.id) { return; }
      var label = document.getElementById(button.id + "-label");
      var labelledBy = (label ? label.id + " " : "") + button.id + "-value";
      if (input.getAttribute("aria-labelledby") !== labelledBy) { input.setAttribute("aria-labelledby", labelledBy); }
      if (input.hasAttribute("aria-hidden")) { input.removeAttribute("aria-hidden"); }
      if (input.getAttribute("role") !== "combobox") { input.setAttribute("role", "combobox"); }
      var expanded = button.getAttribute("aria-expanded") || "false";
      if (input.getAttribute("aria-expanded") !== expanded) { input.setAttribute("aria-expanded", expanded); }
      if (input.getAttribute("aria-haspopup") !== "listbox") { input.setAttribute("aria-haspopup", "listbox"); }
    });
  }
  var pending = false;
  new MutationObserver(function () {
    if (pending) { return; }
    pending = true;
    window.requestAnimationFrame(function () { pending = false; mend(document); });
  }).observe(document.documentElement, {subtree: true, childList: true, attributes: true,
                                        attributeFilter: ["aria-hidden", "aria-expanded"]});
})();
