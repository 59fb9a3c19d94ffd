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
