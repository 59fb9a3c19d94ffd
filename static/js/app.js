// Small progressive enhancements; every page works without them.

// Switchers submit on change; their button stays for keyboard and no-JS users.
for (const form of document.querySelectorAll("form[data-autosubmit]")) {
  const select = form.querySelector("select");
  if (select) select.addEventListener("change", () => form.requestSubmit());
}

// Ask before destructive actions: <form data-confirm="...">.
document.addEventListener("submit", (event) => {
  const message = event.target.dataset ? event.target.dataset.confirm : undefined;
  if (message && !window.confirm(message)) event.preventDefault();
});

// Copy buttons: <button data-copy="#id">.
for (const button of document.querySelectorAll("button[data-copy]")) {
  button.addEventListener("click", async () => {
    const source = document.querySelector(button.dataset.copy);
    if (!source) return;
    await navigator.clipboard.writeText(source.textContent.trim());
    button.textContent = button.dataset.copied || "Copied";
  });
}

// The header menu is a <details> that phones open and close; on wide screens it stays open
// (older browsers would otherwise hide a closed <details>' content whatever the CSS says).
const menu = document.getElementById("main-menu");
if (menu) {
  const wide = window.matchMedia("(min-width: 900px)");
  const sync = () => { if (wide.matches) menu.open = true; };
  sync();
  wide.addEventListener("change", sync);
}
