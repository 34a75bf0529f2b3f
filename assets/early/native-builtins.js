// Loaded before every other script (dashboard/delivery.py, early_scripts).
//
// Dash loads @babel/polyfill 7 (core-js 2) for old browsers. core-js 2 still counts U+180E as a
// space, which browsers stopped doing with Unicode 6.3, so it judges this browser's trim and
// parseInt faulty and puts slower regular-expression versions in their place. plotly.js calls
// them for every colour and font of every bar it draws: about 5 ms of each filter change for
// all England. The browser's own are kept here and put back once every script has run (the
// polyfill's other parts, such as the generator runtime Dash needs, are left alone).
(() => {
  const owned = [
    [String.prototype, ["trim", "trimStart", "trimEnd", "trimLeft", "trimRight"]],
    [Number, ["parseInt", "parseFloat"]],
    [window, ["parseInt", "parseFloat"]],
  ];
  const kept = owned.flatMap(([owner, names]) =>
    names.filter((name) => typeof owner[name] === "function").map((name) => [owner, name, owner[name]]));
  document.addEventListener("DOMContentLoaded", () => {
    kept.forEach(([owner, name, own]) => {
      if (owner[name] !== own) {
        Object.defineProperty(owner, name, {value: own, writable: true, configurable: true, enumerable: false});
      }
    });
  });
})();
