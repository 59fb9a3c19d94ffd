// Survey results: draws each chart from its figure, which the page carries as JSON
// (<script type="application/json">, never executed) named by the container's data-figure.
// plotly.js is a classic script loaded with defer before this module, so window.Plotly is set
// by the time this runs. No inline script is needed: the Content-Security-Policy allows none.
import { drawFigure } from "./plotly-figure.js";

for (const container of document.querySelectorAll(".chart-plot[data-figure]")) {
  const source = document.getElementById(container.dataset.figure);
  if (source) drawFigure(container, JSON.parse(source.textContent));
}
