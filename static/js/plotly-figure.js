// Draws a figure built on the server (plotly's JSON: data, layout, config) in the page's
// language. The figure carries a `locale` made from Django's formats and translated month and
// day names (core.numbers.plotly_locale): plotly.js has no locale data of its own for these
// languages, so it is registered here, once per name, before the figure that names it in
// `config.locale` is drawn. The layout's `separators` carry the decimal point and thousands.

const registered = new Set();

/** Draw `figure` into `container`; the promise is plotly's. */
export function drawFigure(container, figure) {
  const { locale, ...plot } = figure;
  if (locale && locale.name && !registered.has(locale.name)) {
    window.Plotly.register({ moduleType: "locale", name: locale.name, dictionary: {}, format: locale.format });
    registered.add(locale.name);
  }
  return window.Plotly.newPlot(container, plot);
}
