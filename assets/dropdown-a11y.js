/* Accessible names for Dash 4's dropdown, until they are fixed upstream.
 *
 * Dash 4 puts keyboard focus on a helper input marked aria-hidden="true", and
 * its open list (a dialog with a search box and a listbox of options holding
 * checkboxes) has no names, so a screen reader announces nothing useful. This
 * names the helper after the filter's <label> (id "<dropdown id>-label") and
 * its current value, and names the dialog, search box and listbox after the
 * same label. The page works the same without it.
 */
(function () {
  function set(element, name, value) {
    if (element && element.getAttribute(name) !== value) { element.setAttribute(name, value); }
  }
  function labelText(button) {
    var label = document.getElementById(button.id + "-label");
    return label ? label.textContent.trim() : "";
  }
  function mendTrigger(input) {
    var wrapper = input.closest(".dash-dropdown-wrapper");
    var button = wrapper && wrapper.querySelector("button.dash-dropdown");
    if (!button || !button.id) { return; }
    var label = document.getElementById(button.id + "-label");
    set(input, "aria-labelledby", (label ? label.id + " " : "") + button.id + "-value");
    // Focus lands on the button; Dash names it by its value alone ("All"). Put
    // the filter's own label first, so it is announced as "Trust, All".
    var named = button.getAttribute("aria-labelledby") || "";
    if (label && named.split(" ")[0] !== label.id) { button.setAttribute("aria-labelledby", label.id + " " + named); }
    if (input.hasAttribute("aria-hidden")) { input.removeAttribute("aria-hidden"); }
    set(input, "role", "combobox");
    set(input, "aria-haspopup", "listbox");
    var expanded = button.getAttribute("aria-expanded") === "true";
    set(input, "aria-expanded", expanded ? "true" : "false");
    var popup = button.getAttribute("aria-controls");
    if (expanded && popup) { set(input, "aria-controls", popup); } else { input.removeAttribute("aria-controls"); }
  }
  function mendPopup(dialog) {
    var button = document.querySelector('button.dash-dropdown[aria-controls="' + dialog.id + '"]');
    var name = button ? labelText(button) : "";
    if (!name) { return; }
    set(dialog, "aria-label", name + " options");
    set(dialog.querySelector("input.dash-dropdown-search"), "aria-label", "Search " + name.toLowerCase());
    var list = dialog.querySelector('[role="listbox"]');
    set(list, "aria-label", name);
    if (list && dialog.querySelector(".dash-options-list-option-checkbox")) {
      set(list, "aria-multiselectable", "true");
    }
  }
  function mend() {
    document.querySelectorAll(".dash-dropdown-focus-target").forEach(mendTrigger);
    document.querySelectorAll(".dash-dropdown-content[role='dialog']").forEach(mendPopup);
  }
  var pending = false;
  new MutationObserver(function () {
    if (pending) { return; }
    pending = true;
    window.requestAnimationFrame(function () { pending = false; mend(); });
  }).observe(document.documentElement, {subtree: true, childList: true, attributes: true,
                                        attributeFilter: ["aria-hidden", "aria-expanded", "aria-controls"]});
})();
